"""What a findings report holds (Qt-free): the header, the reader's sections, the AI block, Draft/Final.

A report belongs to one study (``study_key``). Its status is ``Draft`` while the reader writes and
``Final`` once signed; a Final report is read-only (see ``drafts.DraftStore`` for how it is protected
on disk). Its parts live beside it: ``header`` (identification), ``ai_block`` (the model's result,
only ever from a real ``cxviewer.model.Prediction`` and its card) and ``redaction`` (anonymised copies).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from cxviewer.report.ai_block import AIBlock
from cxviewer.report.card_summary import card_summary
from cxviewer.report.header import ReportHeader, study_key_for, technique_text
from cxviewer.report.redaction import date_spellings, redact
from cxviewer.report.timestamps import now_iso

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
    def for_radiograph(cls, rad: Any) -> Report:
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

    def reopen_as_draft(self) -> Report:
        """A new Draft copy of a Final report (an amendment); the Final itself is left untouched."""
        new = copy.deepcopy(self)
        new.status, new.finalized_at, new.updated_at = DRAFT, "", now_iso()
        return new

    def _check_editable(self) -> None:
        if self.is_final:
            raise PermissionError("this report is Final; reopen it as a draft to amend it")

    def anonymised(self, keep_dates: bool = False) -> Report:
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
    def from_dict(cls, data: dict) -> Report:
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


def with_ai(report: Report, prediction: Any, card: Any) -> Report:
    """A copy of ``report`` whose AI block comes from ``prediction`` and ``card`` (for an export)."""
    out = copy.deepcopy(report)
    if prediction is not None:
        out.ai = AIBlock.from_prediction(prediction, card, report.ai.analysed_at if report.ai else None)
    elif out.ai is not None and card is not None:
        out.ai.card_summary = card_summary(card)
    return out
