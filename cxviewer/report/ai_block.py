"""The AI block of a report (Qt-free): one model result as the report shows it, its one-paragraph
summary for Findings, where the model looked, and what the model cannot see.

It only ever comes from a real ``cxviewer.model.Prediction`` (or its dict) and its model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cxviewer.class_names import display_name
from cxviewer.no_call import no_call_text
from cxviewer.report.card_summary import card_summary
from cxviewer.report.timestamps import now_iso

RUNTIME_NAMES = {"litert": "LiteRT", "tensorflow": "TensorFlow"}


@dataclass
class AIBlock:
    """One model result as the report shows it (never invented: built from a real Prediction)."""

    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    model_name: str
    model_version: str
    elapsed_ms: float = 0.0
    device: str = ""
    analysed_at: str = ""
    runtime: str = ""  # "litert" / "tensorflow": what ran the network
    card_summary: list[tuple[str, str]] = field(default_factory=list)  # held-out figures
    out_of_scope: str = ""  # why the model gave no opinion (a CT slice, unlike its training films...); "" = it did
    call: str = ""  # the model's call: a class or "uncertain" ("" for a model without a call rule)
    call_note: str = ""  # why an uncertain film got no call ("": called, or a report saved before the note)
    attention_in_lungs: dict | None = None  # {"share": ..., "expected_if_uniform": ...} of its Grad-CAM map
    display_names: dict[str, str] = field(default_factory=dict)  # the card's names of its labels ({}: an old draft)

    def name(self, label: str) -> str:
        """The reader-facing name of ``label``: the one rule (cxviewer.class_names) with the card's own names."""
        return display_name(label, self.display_names)

    @property
    def label(self) -> str:
        if not self.probabilities:
            return ""
        i = max(range(len(self.probabilities)), key=lambda k: self.probabilities[k])
        return self.labels[i]

    @property
    def confidence(self) -> float:
        return max(self.probabilities) if self.probabilities else 0.0

    @classmethod
    def from_prediction(cls, prediction: Any, card: Any = None, when: str | None = None) -> AIBlock:
        """From a ``cxviewer.model.Prediction`` or its ``as_dict()``; ``card`` a ModelCard or its data.
        An out-of-scope result becomes a block with no probabilities and the reason."""
        refused = ""
        if isinstance(prediction, dict) and prediction.get("status") == "out_of_scope":
            refused = str(prediction.get("scope_reason") or prediction.get("reason") or "outside the model's scope")
        elif not isinstance(prediction, dict) and not getattr(prediction, "in_scope", True):
            refused = prediction.scope_text or "outside the model's scope"
        if refused:
            get = prediction.get if isinstance(prediction, dict) else (lambda k, d=None: getattr(prediction, k, d))
            return cls(labels=(), probabilities=(), model_name=str(get("model", None) or get("model_name", "") or ""),
                       model_version=str(get("model_version", "") or ""), elapsed_ms=0.0,
                       device=str(get("device", "") or ""), analysed_at=when or now_iso(),
                       runtime=str(get("runtime", "") or ""),
                       card_summary=card_summary(card) if card is not None else [], out_of_scope=refused)
        call, attention = "", None
        if isinstance(prediction, dict):
            call = str(prediction.get("call") or "")
            note = str(prediction.get("call_note") or "")
            attention = prediction.get("attention_in_lungs")
            probs = prediction.get("probabilities", {})
            if isinstance(probs, dict):
                labels, values = tuple(probs), tuple(float(v) for v in probs.values())
            else:
                labels = tuple(prediction.get("labels", ()))
                values = tuple(float(v) for v in probs)
            name = prediction.get("model", prediction.get("model_name", ""))
            version = prediction.get("model_version", "")
            elapsed = float(prediction.get("elapsed_ms", 0.0) or 0.0)
            device = prediction.get("device", "")
            runtime = prediction.get("runtime", "")
        else:
            labels = tuple(prediction.labels)
            values = tuple(float(v) for v in prediction.probabilities)
            name, version = prediction.model_name, prediction.model_version
            elapsed, device = float(prediction.elapsed_ms), prediction.device
            call = str(getattr(prediction, "call", "") or "")
            note = str(getattr(prediction, "call_note", "") or "")
            attention = getattr(prediction, "attention_in_lungs", None)
            runtime = getattr(prediction, "runtime", "")
        if len(labels) != len(values) or not labels:
            raise ValueError("prediction has no probabilities, or labels and probabilities differ in length")
        names = _card_names(prediction, card)
        return cls(display_names=names, labels=labels, probabilities=values, model_name=str(name), model_version=str(version),
                   elapsed_ms=elapsed, device=str(device or ""), analysed_at=when or now_iso(),
                   runtime=str(runtime or ""), card_summary=card_summary(card) if card is not None else [], call=call,
                   call_note=note if call == "uncertain" else "", attention_in_lungs=attention)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "probabilities": {k: round(float(v), 6) for k, v in zip(self.labels, self.probabilities)},
            "model": self.model_name,
            "model_version": self.model_version,
            "elapsed_ms": round(float(self.elapsed_ms), 1),
            "device": self.device,
            "runtime": self.runtime,
            "analysed_at": self.analysed_at,
            "model_card_summary": [list(row) for row in self.card_summary],
            "status": "out_of_scope" if self.out_of_scope else "ok",
            "scope_reason": self.out_of_scope or None,
            "call": self.call or None,
            "call_note": self.call_note or None,
            "attention_in_lungs": self.attention_in_lungs,
            "display_names": dict(self.display_names),
            "model_scope": MODEL_SCOPE,
        }

    @classmethod
    def from_dict(cls, data: dict) -> AIBlock:
        block = cls.from_prediction(data, when=data.get("analysed_at", ""))
        block.card_summary = [(str(a), str(b)) for a, b in data.get("model_card_summary", [])]
        return block

    def summary(self) -> str:
        """One short paragraph for the Findings section; says what it is and what it is not."""
        ranked = sorted(((self.name(k), v) for k, v in zip(self.labels, self.probabilities)),
                        key=lambda kv: kv[1], reverse=True)
        others = ", ".join(f"{k} {v:.0%}" for k, v in ranked[1:])
        model = " ".join(x for x in (self.model_name, self.model_version) if x)
        if self.out_of_scope:
            return (f"AI second opinion ({model}): none given; the image is outside the model's scope "
                    f"({self.out_of_scope.rstrip('.')}).")
        text = (f"AI second opinion ({model}): leading class {ranked[0][0]} ({ranked[0][1]:.0%})"
                + (f"; {others}" if others else "") + ".")
        if self.call == "uncertain":
            text += f" The model makes no call (uncertain): {self.no_call_reason}."
        elif self.call:
            text += f" Call: {self.name(self.call)}."
        return text + " Research use only, not a diagnosis."

    @property
    def no_call_reason(self) -> str:
        """Why the model made no call, for the reader: the film's own note, or (reports saved before the note,
        cards with one threshold) the generic sentence."""
        return no_call_text(self.call_note)

    @property
    def attention_text(self) -> str:
        return attention_text(self.attention_in_lungs)


def _card_names(prediction: Any, card: Any) -> dict[str, str]:
    """The card's names of the labels, carried by the prediction (object or dict) or read off ``card``."""
    names = (prediction.get("display_names") if isinstance(prediction, dict)
             else getattr(prediction, "display_names", None))
    if not names and card is not None:
        names = (card.get("display_names") if isinstance(card, dict) else getattr(card, "display_names", None))
    return {str(k): str(v) for k, v in (names or {}).items()}


def attention_text(attention: dict | None) -> str:
    """Where the model looked, in one sentence for the reader (the panel, the report and ``predict`` say it
    alike); "" without a Grad-CAM map or a lung mask."""
    if not attention or attention.get("share") is None:
        return ""
    return (f"{attention['share'] * 100:.0f} % of the Grad-CAM map falls on the lungs; an even map would put "
            f"{attention['expected_if_uniform'] * 100:.0f} % there.")


MODEL_SCOPE = ("The model knows only COVID-19, other pneumonia and normal. It cannot report nodules, masses, "
               "effusion, pneumothorax, lines and tubes or fractures: an abnormal film can still be called normal.")
