"""Why a film got no call, as the reader is told it when nothing more specific is known.

A model's call rule (cxviewer.model.calibration) words its own reason for each uncertain film (the film's
``call_note``); this is the sentence for what carries no such note: cards with one threshold for every class,
and reports saved before the note existed. The AI panel, the report pane, the PDF, the report's Findings
paragraph and ``predict`` all say it through :func:`no_call_text`.
"""

from __future__ import annotations

GENERIC_NO_CALL = "no class is likely enough for the model to make a call"


def no_call_text(note: str | None) -> str:
    """The reason to print after "Uncertain: ": the film's own note, or the generic sentence without one."""
    return note or GENERIC_NO_CALL


def no_call_sentence(note: str | None) -> str:
    """The same reason as a sentence of its own (capital, full stop), for a line under a headline."""
    text = no_call_text(note)
    return text[:1].upper() + text[1:] + "."
