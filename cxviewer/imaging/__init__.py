"""Qt-free imaging core: read radiographs (DICOM and images) and compute their display (PS3.3 C.11)."""

from cxviewer.imaging.display import apply_voi, full_range_window
from cxviewer.imaging.display_state import DisplayState, Window, default_window, render_display
from cxviewer.imaging.errors import NonImageObjectError, UnreadableImageError
from cxviewer.imaging.radiograph import Radiograph, VoiPreset
from cxviewer.imaging.reader import read_radiograph

__all__ = [
    "DisplayState",
    "Window",
    "default_window",
    "NonImageObjectError",
    "Radiograph",
    "UnreadableImageError",
    "VoiPreset",
    "apply_voi",
    "full_range_window",
    "read_radiograph",
    "render_display",
]
