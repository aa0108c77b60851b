"""The reader's annotations (Qt-free): the model and its edits, the values they measure, their
storage per film, and DICOM Grayscale Softcopy Presentation State export/import (highdicom)."""
