"""What one classification returns (Qt-free, TensorFlow-free)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Prediction:
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    model_name: str
    model_version: str
    elapsed_ms: float
    device: str
    heatmap: np.ndarray | None = None  # float32 in [0, 1] on the input image's pixel grid
    ood_score: float | None = None  # distance from the training radiographs (None: model has no gate)
    ood_threshold: float | None = None
    lung_mask: np.ndarray | None = None  # uint8 0/1 on the input image's pixel grid (None: no segmenter)
    input_box: tuple[int, int, int, int] | None = None  # (y0, x0, y1, x1) the classifier saw; None: whole film
    lung_crop: str | None = None  # "applied" / "lungs not found" for a model that crops; None otherwise
    scope_reason: str | None = None  # set when the header or pixels say this is no chest radiograph (no model run)
    call: str | None = None  # the called class or "uncertain" (calibration.py); None: the card has no call rule
    call_note: str | None = None  # why an uncertain film got no call, for the reader (Calibration.why_no_call)
    calibrated: bool = False  # probabilities went through the card's temperature scaling
    runtime: str = ""  # "litert" or "tensorflow": what ran the network (device says where)
    display_names: dict[str, str] | None = None  # the card's reader-facing names of its labels (None: as written)

    @property
    def in_scope(self) -> bool:
        """False when the out-of-distribution gate says this is not like the training radiographs."""
        if self.scope_reason:
            return False
        return self.ood_score is None or self.ood_threshold is None or self.ood_score <= self.ood_threshold

    @property
    def scope_text(self) -> str:
        """Why an out-of-scope input got no opinion, in words for the reader."""
        if self.scope_reason:
            return self.scope_reason
        if self.ood_score is not None and self.ood_threshold is not None:
            return (f"the model's distance rule fired: in the model's feature space this film is farther from its "
                    f"training films than its limit (distance {self.ood_score:.1f}, limit {self.ood_threshold:.1f}); "
                    f"it measures how unlike the training films it looks, not what is on it")
        return ""

    @property
    def label(self) -> str:
        return self.labels[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(max(self.probabilities))

    @cached_property
    def attention_in_lungs(self) -> dict | None:
        """{"share": Grad-CAM mass inside the lung mask, "expected_if_uniform": the lungs' share of what the model
        saw}; None without a map or a mask. Sums over the full-size map and mask: computed once (the viewer's
        worker thread asks first, so the panel and the report pane only read it)."""
        from cxviewer.model.attention import lung_attention

        att = lung_attention(self)
        if att is None or att[0] != att[0]:
            return None
        return {"share": round(float(att[0]), 4), "expected_if_uniform": round(float(att[1]), 4)}

    def name(self, label: str) -> str:
        """The reader-facing name of ``label`` by the model card's own names (see cxviewer.class_names)."""
        from cxviewer.class_names import display_name

        return display_name(label, self.display_names)

    def probability(self, label: str) -> float:
        return self.probabilities[self.labels.index(label)]

    def as_dict(self) -> dict:
        """JSON-able summary; an out-of-scope input carries no label and no probabilities."""
        scoped = self.in_scope
        return {
            "status": "ok" if scoped else "out_of_scope",
            "label": self.label if scoped else None,
            "probabilities": dict(zip(self.labels, (round(float(p), 6) for p in self.probabilities))) if scoped else None,
            "call": self.call if scoped else None,
            "call_note": self.call_note if scoped else None,
            "confidence": round(self.confidence, 6) if scoped else None,
            "calibrated": self.calibrated,
            "model": self.model_name,
            "model_version": self.model_version,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "device": self.device,
            "runtime": self.runtime,
            "ood_score": None if self.ood_score is None else round(float(self.ood_score), 3),
            "in_scope": self.in_scope,
            "lung_crop": self.lung_crop,
            "scope_reason": None if scoped else self.scope_text,
        }
