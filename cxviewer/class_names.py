"""How the reader sees a model's class labels: one rule for the AI panel, the study browser, the report
pane and the PDF (machine-readable outputs, the JSON report, the scan CSV and ``predict --json``, keep
the labels as the card writes them).

A card may name its own classes in ``display_names``; the bundled models' classes have the names below;
a label named nowhere is shown as written (underscores as spaces, first letter up).
"""

from __future__ import annotations

KNOWN_DISPLAY_NAMES = {"covid": "COVID-19", "pneumonia": "Other pneumonia", "normal": "Normal"}


def display_name(label: str, names: dict[str, str] | None = None) -> str:
    """The reader-facing name of a model's class ``label`` (``names``: a card's own ``display_names``)."""
    name = (names or {}).get(label) or KNOWN_DISPLAY_NAMES.get(label)
    if name:
        return name
    text = label.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else label
