"""Keep the readers' own chatter out of a scan's output (the local scan and each Ray worker call it)."""

from __future__ import annotations


def quiet_readers() -> None:
    """pydicom warns (and logs) about every odd header value; over a folder of thousands that buries
    the progress line. Problems that matter are reported per file in the results instead."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
