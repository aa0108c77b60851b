"""What a findings report holds (Qt-free): header from the radiograph, the reader's sections, the AI block.

A report belongs to one study (``study_key``). Its status is ``Draft`` while the reader writes and
``Final`` once signed; a Final report is read-only (see ``drafts.DraftStore`` for how it is protected
on disk). The AI block only ever comes from a real ``cxviewer.model.Prediction`` and its model card.
"""

from __future__ import annotations

import copy
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cxviewer.imaging.dicom_values import format_date, format_person_name, format_sex, format_time, shown

SCHEMA = "cxviewer.report/1"
DRAFT = "Draft"
FINAL = "Final"
STATUSES = (DRAFT, FINAL)

# (key, title) in the order the dock and the PDF show them; the reader's name is a field of its own.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("clinical_indication", "Clinical indication"),
    ("technique", "Technique"),
    ("findings", "Findings"),
    ("impression", "Impression"),
    ("recommendation", "Recommendation"),
)
SECTION_KEYS = tuple(k for k, _ in SECTIONS)

RESEARCH_NOTICE = (
    "CXViewer is research software, not a medical device. The AI result is not a diagnosis; "
    "it must not be used for clinical decisions without review by a qualified reader."
)
ANONYMISED = "anonymised"
REDACTED = "[redacted]"
# What an anonymised export follows (PS3.15 Annex E, Table E.1-1): the Basic Profile removes or
# empties every identifier, date and time and free-text description; the option keeps the dates.
BASIC_PROFILE = "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile"
KEEP_DATES_OPTION = "Retain Longitudinal Temporal Information with Full Dates Option"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def profile_name(keep_dates: bool = False) -> str:
    return BASIC_PROFILE + (f" with the {KEEP_DATES_OPTION}" if keep_dates else "")


_MODALITY = {"CR": "Computed radiography", "DX": "Digital radiography", "RG": "Radiographic imaging"}


def now_iso() -> str:
    """Current local time, ISO 8601 with offset, to the second."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# header


@dataclass
class ReportHeader:
    """Patient and study identification as read from the file (DICOM value formats kept raw)."""

    patient_name: str = ""  # DICOM PN, e.g. "YAMADA^TARO=山田^太郎"
    patient_id: str = ""
    birth_date: str = ""  # DICOM DA "YYYYMMDD"
    sex: str = ""
    accession_number: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    series_description: str = ""
    view_position: str = ""
    modality: str = ""
    body_part: str = ""
    study_uid: str = ""
    series_uid: str = ""
    sop_uid: str = ""
    source_name: str = ""  # file name only (never a path); may itself carry a name, so it is identifying
    source_format: str = ""
    referring_physician: str = ""  # DICOM PN (0008,0090); emptied by the Basic Profile

    # fields that identify the patient or the examination and are dropped by an anonymised export
    IDENTIFYING = ("patient_name", "patient_id", "birth_date", "accession_number",
                   "study_uid", "series_uid", "sop_uid", "source_name", "referring_physician")

    @classmethod
    def from_radiograph(cls, rad: Any) -> "ReportHeader":
        def text(name: str) -> str:
            value = getattr(rad, name, "")
            return "" if value is None else str(value).strip()

        path = getattr(rad, "path", None)
        return cls(
            patient_name=text("patient_name"),
            patient_id=text("patient_id"),
            birth_date=text("patient_birth_date"),
            sex=text("patient_sex"),
            accession_number=text("accession_number"),
            study_date=text("study_date"),
            study_time=text("study_time"),
            study_description=text("study_description"),
            series_description=text("series_description"),
            view_position=text("view_position"),
            modality=text("modality"),
            body_part=text("body_part"),
            study_uid=text("study_uid"),
            series_uid=text("series_uid"),
            sop_uid=text("sop_uid"),
            source_name=Path(path).name if path else "",
            source_format=text("source_format"),
            referring_physician=text("referring_physician"),
        )

    @classmethod
    def from_dict(cls, data: dict) -> "ReportHeader":
        names = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in (data or {}).items() if k in names and v is not None})

    # emptied as well by the Basic Profile (Table E.1-1 actions Z/X); dates only without keep_dates
    PROFILE_EMPTIED = ("sex", "study_description", "series_description")
    DATES = ("study_date", "study_time")

    def anonymised(self, keep_dates: bool = False) -> "ReportHeader":
        out = copy.copy(self)
        for name in self.IDENTIFYING + self.PROFILE_EMPTIED + (() if keep_dates else self.DATES):
            setattr(out, name, "")
        return out

    def display_rows(self, anonymise: bool = False, keep_dates: bool = False) -> list[tuple[str, str]]:
        """(label, value) pairs for the patient and study table, formatted for people; identifiers
        with invisible format characters escaped (``shown``)."""
        hidden = ANONYMISED if anonymise else None
        hidden_date = None if keep_dates else hidden
        return [
            ("Patient name", hidden or shown(format_person_name(self.patient_name))),
            ("Patient ID", hidden or shown(self.patient_id)),
            ("Birth date", hidden or shown(format_date(self.birth_date))),
            ("Sex", hidden or shown(format_sex(self.sex))),
            ("Accession number", hidden or shown(self.accession_number)),
            ("Study date", hidden_date or shown(" ".join(x for x in (format_date(self.study_date),
                                                                    format_time(self.study_time)) if x))),
            ("Study description", hidden or shown(self.study_description)),
            ("Referring physician", hidden or shown(format_person_name(self.referring_physician))),
            ("View position", shown(self.view_position)),
            ("Modality", shown(self.modality)),
            ("Body part", shown(self.body_part)),
        ]

    def identifiers(self) -> list[str]:
        """Every identifying string (whole values, name components, date spellings) for redaction."""
        values: list[str] = []
        for name in ("patient_id", "accession_number", "study_uid", "series_uid", "sop_uid", "source_name"):
            values.append(getattr(self, name))
        if self.source_name:
            values.append(Path(self.source_name).stem)
        values += [self.patient_name, format_person_name(self.patient_name)]
        values += re.split(r"[\^=]", self.patient_name)
        values += date_spellings(self.birth_date)
        # a component of one character (an initial) would redact half the report
        out = {v.strip() for v in values if v and len(v.strip()) >= 2}
        return sorted(out, key=len, reverse=True)


def date_spellings(da: str) -> list[str]:
    """How people write a DICOM date: 19340517, 1934-05-17, 17/05/1934, 05/17/1934, 17/5/1934,
    17 May 1934, May 17 1934 (punctuation does not matter to ``redact``)."""
    da = (da or "").strip()
    if not re.fullmatch(r"\d{8}", da):
        return [da] if da else []
    y, m, d = da[:4], da[4:6], da[6:]
    month = _MONTHS[int(m) - 1] if 1 <= int(m) <= 12 else m
    out = [da, format_date(da), f"{d}{m}{y}", f"{m}{d}{y}", f"{int(d)}/{int(m)}/{y}", f"{int(m)}/{int(d)}/{y}",
           f"{int(d)} {month} {y}", f"{month} {int(d)} {y}", f"{int(d)} {month[:3]} {y}", f"{month[:3]} {int(d)} {y}"]
    return list(dict.fromkeys(out))


def technique_text(header: ReportHeader) -> str:
    """Prefill for the Technique section, built only from what the header says."""
    modality = _MODALITY.get(header.modality.upper(), header.modality)
    if modality and header.modality and modality != header.modality:
        modality = f"{modality} ({header.modality})"
    parts = []
    body = header.body_part.strip().lower()
    what = " ".join(x for x in (body, "radiograph") if x) if (modality or body) else ""
    if modality:
        parts.append(f"{modality}, {what}" if what else modality)
    elif what:
        parts.append(what.capitalize())
    if header.view_position:
        parts.append(f"{header.view_position} projection")
    if header.source_format and header.source_format != "DICOM":
        parts.append(f"source image {header.source_format} (no DICOM header)")
    return (", ".join(parts) + ".") if parts else ""


def study_key_for(rad: Any) -> str:
    """Identity of the study a report belongs to: the Study Instance UID, else the file itself."""
    uid = str(getattr(rad, "study_uid", "") or "").strip()
    if uid:
        return f"study:{uid}"
    path = getattr(rad, "path", None)
    resolved = str(Path(path).resolve()) if path else ""
    return "file:" + hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------------------------
# AI block

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
    attention_in_lungs: dict | None = None  # {"share": ..., "expected_if_uniform": ...} of its Grad-CAM map

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
    def from_prediction(cls, prediction: Any, card: Any = None, when: str | None = None) -> "AIBlock":
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
            attention = getattr(prediction, "attention_in_lungs", None)
            runtime = getattr(prediction, "runtime", "")
        if len(labels) != len(values) or not labels:
            raise ValueError("prediction has no probabilities, or labels and probabilities differ in length")
        return cls(labels=labels, probabilities=values, model_name=str(name), model_version=str(version),
                   elapsed_ms=elapsed, device=str(device or ""), analysed_at=when or now_iso(),
                   runtime=str(runtime or ""), card_summary=card_summary(card) if card is not None else [], call=call,
                   attention_in_lungs=attention)

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
            "attention_in_lungs": self.attention_in_lungs,
            "model_scope": MODEL_SCOPE,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "AIBlock":
        block = cls.from_prediction(data, when=data.get("analysed_at", ""))
        block.card_summary = [(str(a), str(b)) for a, b in data.get("model_card_summary", [])]
        return block

    def summary(self) -> str:
        """One short paragraph for the Findings section; says what it is and what it is not."""
        ranked = sorted(zip(self.labels, self.probabilities), key=lambda kv: kv[1], reverse=True)
        others = ", ".join(f"{k} {v:.0%}" for k, v in ranked[1:])
        model = " ".join(x for x in (self.model_name, self.model_version) if x)
        if self.out_of_scope:
            return (f"AI second opinion ({model}): none given; the image is outside the model's scope "
                    f"({self.out_of_scope.rstrip('.')}).")
        text = (f"AI second opinion ({model}): leading class {ranked[0][0]} ({ranked[0][1]:.0%})"
                + (f"; {others}" if others else "") + ".")
        if self.call == "uncertain":
            text += " The model makes no call: no class is likely enough (uncertain)."
        elif self.call:
            text += f" Call: {self.call}."
        return text + " Research use only, not a diagnosis."

    @property
    def attention_text(self) -> str:
        return attention_text(self.attention_in_lungs)


def attention_text(attention: dict | None) -> str:
    """Where the model looked, in one sentence for the reader (the panel, the report and ``predict`` say it
    alike); "" without a Grad-CAM map or a lung mask."""
    if not attention or attention.get("share") is None:
        return ""
    return (f"{attention['share'] * 100:.0f} % of the Grad-CAM map falls on the lungs; an even map would put "
            f"{attention['expected_if_uniform'] * 100:.0f} % there.")


MODEL_SCOPE = ("The model knows only COVID-19, other pneumonia and normal. It cannot report nodules, masses, "
               "effusion, pneumothorax, lines and tubes or fractures: an abnormal film can still be called normal.")



def card_summary(card: Any) -> list[tuple[str, str]]:
    """Held-out figures from a model card (ModelCard or its JSON dict) as (label, value) rows.

    The card's ``metrics`` are searched for the held-out (test) block: accuracy, macro AUC, per-class
    recall, and any Grad-CAM lung share. Missing figures are left out, never invented.
    """
    data = getattr(card, "data", card) or {}
    if not isinstance(data, dict):
        return []
    rows: list[tuple[str, str]] = []
    arch = data.get("architecture_text") or data.get("architecture")
    if isinstance(arch, str) and arch:
        rows.append(("Architecture", arch))
    size = data.get("input", {}).get("size") if isinstance(data.get("input"), dict) else None
    if size:
        rows.append(("Input size", f"{size} x {size}"))
    crop = data.get("input", {}).get("crop") if isinstance(data.get("input"), dict) else None
    if isinstance(crop, dict) and crop.get("segmentation_model"):
        rows.append(("Input region", f"lung fields only (crop from {crop['segmentation_model']}; whole film if no lungs are found)"))
    elif size:
        rows.append(("Input region", "the whole film"))
    metrics = data.get("metrics", {})
    held = _find_held_out(metrics) if isinstance(metrics, dict) else None
    if held:
        if isinstance(held.get("n"), (int, float)):
            rows.append(("Held-out images", f"{int(held['n'])}"))
        for key, label in (("accuracy", "Accuracy"), ("balanced_accuracy", "Balanced accuracy"),
                           ("macro_auc", "Macro ROC AUC")):
            if _is_number(held.get(key)):
                rows.append((label, _fmt_metric(held[key])))
        per_class = held.get("per_class")
        if isinstance(per_class, dict):
            for name, vals in per_class.items():
                if isinstance(vals, dict) and _is_number(vals.get("recall")):
                    extra = f", AUC {_fmt_metric(vals['auc'])}" if _is_number(vals.get("auc")) else ""
                    rows.append((f"Recall {name}", _fmt_metric(vals["recall"]) + extra))
        att = held.get("attention")
        if isinstance(att, dict):
            if _is_number(att.get("lung_share_mean")):
                area = (f" (lungs cover {att['lung_area_fraction_mean']:.0%} of those images)"
                        if _is_number(att.get("lung_area_fraction_mean")) else "")
                if _is_number(att.get("lung_share_uniform_over_input_mean")) and crop:
                    area += f"; {att['lung_share_uniform_over_input_mean']:.0%} of the crop the model saw"
                rows.append(("Grad-CAM mass inside lungs", f"{att['lung_share_mean']:.0%}{area}"))
            if _is_number(att.get("border_share_mean")):
                area = (f" (band is {att['border_area_fraction']:.0%} of the image)"
                        if _is_number(att.get("border_area_fraction")) else "")
                rows.append(("Grad-CAM mass in border band", f"{att['border_share_mean']:.0%}{area}"))
    if not any(label.startswith("Grad-CAM") for label, _ in rows):
        for path, value in _walk_numbers(metrics if isinstance(metrics, dict) else {}):
            if "lung" in path.lower() and "share" in path.lower():
                rows.append(("Grad-CAM mass inside lungs", _fmt_metric(value, percent=True)))
                break
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _find_held_out(metrics: dict) -> dict | None:
    for key in ("test", "held_out", "heldout", "holdout", "evaluation"):
        if isinstance(metrics.get(key), dict):
            inner = metrics[key]
            return _find_held_out(inner) if "accuracy" not in inner and "macro_auc" not in inner else inner
    if "accuracy" in metrics or "macro_auc" in metrics:
        return metrics
    for value in metrics.values():
        if isinstance(value, dict):
            found = _find_held_out(value)
            if found:
                return found
    return None


def _walk_numbers(d: dict, prefix: str = ""):
    for k, v in d.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            yield from _walk_numbers(v, path)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield path, float(v)


def _fmt_metric(value: float, percent: bool = False) -> str:
    if value != value:  # NaN
        return "n/a"
    if percent and 0 <= value <= 1:
        return f"{value:.0%}"
    return f"{value:.3f}"


# ---------------------------------------------------------------------------------------------
# the report


@dataclass
class Report:
    study_key: str
    header: ReportHeader = field(default_factory=ReportHeader)
    sections: dict[str, str] = field(default_factory=lambda: {k: "" for k in SECTION_KEYS})
    reader_name: str = ""
    status: str = DRAFT
    ai: AIBlock | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    finalized_at: str = ""

    @classmethod
    def for_radiograph(cls, rad: Any) -> "Report":
        """A new Draft for the study of ``rad`` with the header copied and Technique prefilled."""
        header = ReportHeader.from_radiograph(rad)
        report = cls(study_key=study_key_for(rad), header=header)
        report.sections["technique"] = technique_text(header)
        return report

    @property
    def is_final(self) -> bool:
        return self.status == FINAL

    def set_section(self, key: str, text: str) -> None:
        if key not in SECTION_KEYS:
            raise KeyError(f"unknown report section {key!r}")
        self._check_editable()
        self.sections[key] = text

    def set_prediction(self, prediction: Any, card: Any = None, when: str | None = None) -> None:
        self._check_editable()
        self.ai = AIBlock.from_prediction(prediction, card, when)

    def insert_ai_summary(self) -> str:
        """Append the AI summary to Findings (once); returns the new Findings text."""
        if self.ai is None:
            raise ValueError("there is no AI result for this image yet")
        self._check_editable()
        summary = self.ai.summary()
        findings = self.sections.get("findings", "")
        if summary not in findings:
            findings = (findings.rstrip() + "\n\n" + summary) if findings.strip() else summary
        self.sections["findings"] = findings
        return findings

    def finalize(self, when: str | None = None) -> None:
        """Sign the report; it needs the reader's name and an impression."""
        missing = [label for label, ok in (("reader name", self.reader_name.strip()),
                                           ("impression", self.sections.get("impression", "").strip()))
                   if not ok]
        if missing:
            raise ValueError("a final report needs " + " and ".join(missing))
        self.status = FINAL
        self.finalized_at = when or now_iso()

    def reopen_as_draft(self) -> "Report":
        """A new Draft copy of a Final report (an amendment); the Final itself is left untouched."""
        new = copy.deepcopy(self)
        new.status, new.finalized_at, new.updated_at = DRAFT, "", now_iso()
        return new

    def _check_editable(self) -> None:
        if self.is_final:
            raise PermissionError("this report is Final; reopen it as a draft to amend it")

    def anonymised(self, keep_dates: bool = False) -> "Report":
        """A copy following the Basic Profile (``BASIC_PROFILE``): no patient name, ID, birth date,
        sex, accession, UIDs, file name or descriptions, and no dates or times unless ``keep_dates``.

        Identifier values (and, without ``keep_dates``, the study date) are also redacted from the
        free-text fields, where a reader may have typed them, in any case or punctuation.
        """
        out = copy.deepcopy(self)
        secrets = self.header.identifiers()
        if not keep_dates:
            secrets = sorted({*secrets, *(v for v in date_spellings(self.header.study_date) if len(v) >= 2)},
                             key=len, reverse=True)
            out.created_at = out.updated_at = out.finalized_at = ""
            if out.ai is not None:
                out.ai.analysed_at = ""
        out.header = self.header.anonymised(keep_dates)
        out.study_key = ""
        out.sections = {k: redact(v, secrets) for k, v in self.sections.items()}
        out.header.study_description = redact(out.header.study_description, secrets)
        out.header.series_description = redact(out.header.series_description, secrets)
        out.reader_name = redact(self.reader_name, secrets)
        return out

    def to_dict(self) -> dict:
        header = {k: v for k, v in asdict(self.header).items()}
        return {
            "schema": SCHEMA,
            "study_key": self.study_key,
            "status": self.status,
            "header": header,
            "sections": {k: self.sections.get(k, "") for k in SECTION_KEYS},
            "reader_name": self.reader_name,
            "ai": self.ai.to_dict() if self.ai else None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "finalized_at": self.finalized_at,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document")
        status = data.get("status", DRAFT)
        if status not in STATUSES:
            raise ValueError(f"unknown report status {status!r}")
        sections = {k: str(data.get("sections", {}).get(k, "") or "") for k in SECTION_KEYS}
        return cls(
            study_key=str(data.get("study_key", "")),
            header=ReportHeader.from_dict(data.get("header", {})),
            sections=sections,
            reader_name=str(data.get("reader_name", "") or ""),
            status=status,
            ai=AIBlock.from_dict(data["ai"]) if data.get("ai") else None,
            created_at=str(data.get("created_at", "")),
            updated_at=str(data.get("updated_at", "")),
            finalized_at=str(data.get("finalized_at", "")),
        )


def _loose_pattern(secret: str) -> str | None:
    """A regex for ``secret`` that ignores case, punctuation and spaces between its letters and
    digits ("PID-77341A" also finds "pid 77341a" and "PID77341A")."""
    chars = [ch for ch in secret if ch.isalnum()]
    if len(chars) < 2:
        return None
    return r"[\W_]*".join(re.escape(ch) for ch in chars)


def redact(text: str, secrets: list[str]) -> str:
    """Replace each secret in ``text`` with ``[redacted]``: compared after NFKC normalisation,
    ignoring case, punctuation and spacing (see ``_loose_pattern``)."""
    if not text:
        return text
    text = unicodedata.normalize("NFKC", text)
    for secret in secrets:
        for variant in {secret, unicodedata.normalize("NFKC", secret)}:
            pattern = _loose_pattern(variant) if variant else None
            if pattern:
                text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
            elif variant:
                text = re.sub(re.escape(variant), REDACTED, text, flags=re.IGNORECASE)
    return text
