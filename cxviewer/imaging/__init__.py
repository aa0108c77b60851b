"""Qt-free imaging core: read radiographs (DICOM and images) and compute their display (PS3.3 C.11).

The names below are loaded on first use (PEP 562): importing one submodule (``decode_pool``, ``read_ahead``)
does not import numpy and the display pipeline with it, so the viewer can start the decoder process for a
film named at launch before anything heavy is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (also what bundlers read to find the submodules)
    from cxviewer.imaging.display import apply_voi, full_range_window
    from cxviewer.imaging.display_state import DisplayState, Window, default_window, render_display
    from cxviewer.imaging.errors import NonImageObjectError, UnreadableImageError
    from cxviewer.imaging.radiograph import Radiograph, VoiPreset
    from cxviewer.imaging.reader import read_radiograph

_WHERE = {
    "apply_voi": "display",
    "full_range_window": "display",
    "DisplayState": "display_state",
    "Window": "display_state",
    "default_window": "display_state",
    "render_display": "display_state",
    "NonImageObjectError": "errors",
    "UnreadableImageError": "errors",
    "Radiograph": "radiograph",
    "VoiPreset": "radiograph",
    "read_radiograph": "reader",
}

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


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
