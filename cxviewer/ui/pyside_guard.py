"""Guard against a reference-count bug of PySide6 6.12.0 that aborts the viewer.

In PySide6 6.12.0 ``SignalInstance.emit()`` returns ``True`` without taking a new reference, so
every signal emitted from Python drops one reference to the ``True`` singleton. On Python 3.11
(``True`` is not immortal before 3.12) the interpreter aborts with "Fatal Python error:
bool_dealloc" after a few thousand emits: minutes of window/level dragging. PySide6 6.11 does not
have the bug. When the leak is detected, ``True`` gets a very large extra reference count, which is
what Python 3.12 does for it anyway (immortal objects); nothing else changes.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PROBE_EMITS = 64
_EXTRA_REFERENCES = 1 << 40


def emit_leaks_true() -> bool:
    """True when emitting a Qt signal from Python drops a reference to ``True``."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.ping.emit()
    return sys.getrefcount(True) - before <= -_PROBE_EMITS // 2


def install() -> bool:
    """Apply the guard if this PySide6 leaks; returns whether it was applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # True is immortal there
    if not emit_leaks_true():
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(True))  # ob_refcnt is the first field of PyObject
    if abs(refcnt.value - (sys.getrefcount(True) - 1)) > 8:
        log.warning("PySide6 signal emits leak references to True, and the guard cannot apply; "
                    "use PySide6 6.11 (pip install 'PySide6-Essentials<6.12')")
        return False
    refcnt.value += _EXTRA_REFERENCES
    log.info("PySide6 %s leaks a reference to True per signal emit; guard applied",
             __import__("PySide6").__version__)
    return True
