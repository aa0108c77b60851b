"""The model in the viewer: background inference, the AI panel, the Grad-CAM and lung overlays,
the study browser's AI column, and the controller that wires them into the window.
"""
