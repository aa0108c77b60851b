"""The opened files: loading them off the GUI thread, the study browser and its model, the
DICOM tag browser.
"""
