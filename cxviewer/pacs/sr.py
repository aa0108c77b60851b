"""The AI result as a DICOM Comprehensive SR holding a TID 1500 Measurement Report (highdicom).

Content (README, "PACS", lists it for readers):
- document title: private code 99CXV "AI second opinion (research use, not a diagnosis)";
  procedure reported SNOMED CT 399208008 "Plain chest X-ray";
- observer: the device "CXViewer" with the model's name as its model name;
- one TID 1501 measurement group: tracking identifier text "CXViewer AI result: research use,
  not a diagnosis", finding site SNOMED CT 39607008 "Lung structure", the algorithm (TID 4019:
  model name and version), the source image (SOURCE reference to its SOP class and instance);
- in that group, when the image is within the model's scope, one numeric item per class, the
  class as the concept name and the model's probability (0..1, UCUM "1") as the value:
  SNOMED CT 840539006 COVID-19, 233604007 Pneumonia (the model's "other pneumonia"),
  17621005 Normal;
- qualitative evaluations: "AI call" (99CXV) = one of those three codes, or 99CXV "Uncertain" (then a TEXT
  item 99CXV "Why no call" carries the reason the reader is shown);
  "Within the model's scope" (99CXV) = SNOMED CT 373066001 Yes / 373067005 No;
- for an out-of-scope image no probabilities, and the reason as a text item.
The SR goes into the source image's study (same patient and study) as a new series.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
from highdicom.sr import CodedConcept
from pydicom import dcmwrite
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

PRIVATE_SCHEME = "99CXV"
COVID = CodedConcept("840539006", "SCT", "COVID-19")
PNEUMONIA = CodedConcept("233604007", "SCT", "Pneumonia")
NORMAL = CodedConcept("17621005", "SCT", "Normal")
LABEL_CODES = {"covid": COVID, "pneumonia": PNEUMONIA, "normal": NORMAL}
UNCERTAIN = CodedConcept("UNCERTAIN", PRIVATE_SCHEME, "Uncertain")
CALL = CodedConcept("AICALL", PRIVATE_SCHEME, "AI call")
IN_SCOPE = CodedConcept("INSCOPE", PRIVATE_SCHEME, "Within the model's scope")
SCOPE_REASON = CodedConcept("SCOPEWHY", PRIVATE_SCHEME, "Why outside the model's scope")
CALL_NOTE = CodedConcept("NOCALLWHY", PRIVATE_SCHEME, "Why no call")
YES = CodedConcept("373066001", "SCT", "Yes")
NO = CodedConcept("373067005", "SCT", "No")
TITLE = CodedConcept("AIRESULT", PRIVATE_SCHEME, "AI second opinion (research use, not a diagnosis)")
CHEST_XRAY = CodedConcept("399208008", "SCT", "Plain chest X-ray")
LUNG = CodedConcept("39607008", "SCT", "Lung structure")
PROBABILITY_UNIT = CodedConcept("1", "UCUM", "no units")
NOTICE = "CXViewer AI result: research use, not a diagnosis"
SERIES_DESCRIPTION = "CXViewer AI result (research use, not a diagnosis)"
SERIES_NUMBER = 9901


class NotDicomSource(ValueError):
    """An SR needs a DICOM source image (its study, patient and SOP instance)."""


@dataclass(frozen=True)
class AIResult:
    """What goes into the SR, independent of how the model ran."""

    model_name: str
    model_version: str
    in_scope: bool
    probabilities: dict[str, float] | None  # label -> probability; None when out of scope
    call: str | None  # a label or "uncertain"; None when out of scope
    scope_reason: str = ""
    call_note: str = ""  # why an uncertain film got no call (the rule that held it back), as the panel says it


def result_from_prediction(pred) -> AIResult:
    """An ``AIResult`` from ``cxviewer.model.Prediction`` (its ``call`` when it has one, else the top class)."""
    d = pred.as_dict()
    call = getattr(pred, "call", None) or d["label"]
    return AIResult(model_name=pred.model_name, model_version=str(pred.model_version), in_scope=bool(d["in_scope"]),
                    probabilities=d["probabilities"], call=call if d["in_scope"] else None,
                    scope_reason=d["scope_reason"] or "",
                    call_note=d["call_note"] or "")  # set only for an uncertain film in scope


# Patient and study attributes the SR copies from its film: type 2 (present, may be empty) in the SR,
# but an old film (ACR-NEMA style, e.g. CR-MONO1-10-chest) may not have them at all
_TYPE2_FROM_SOURCE = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                      "StudyID", "AccessionNumber", "ReferringPhysicianName")


def build_sr(result: AIResult, source: Dataset) -> hd.sr.ComprehensiveSR:
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"):
        if not source.get(keyword):
            raise NotDicomSource(f"the source has no {keyword}: an SR must cite a DICOM image")
    missing = [k for k in _TYPE2_FROM_SOURCE if k not in source]
    if missing:  # empty, as the standard allows, rather than a crash in the SR builder
        source = copy.deepcopy(source)  # the caller's header is left as it is
        for keyword in missing:
            setattr(source, keyword, "")
    algorithm = hd.sr.AlgorithmIdentification(name=result.model_name, version=result.model_version)
    measurements = []
    if result.in_scope and result.probabilities:
        for label, probability in result.probabilities.items():
            if label not in LABEL_CODES:
                raise ValueError(f"no code for the class {label!r}")
            measurements.append(hd.sr.Measurement(name=LABEL_CODES[label], value=float(probability),
                                                  unit=PROBABILITY_UNIT, algorithm_id=algorithm))
    evaluations = [hd.sr.QualitativeEvaluation(IN_SCOPE, YES if result.in_scope else NO)]
    if result.in_scope and result.call:
        evaluations.append(hd.sr.QualitativeEvaluation(CALL, UNCERTAIN if result.call == "uncertain" else LABEL_CODES[result.call]))
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=NOTICE),
        algorithm_id=algorithm,
        finding_sites=[hd.sr.FindingSite(LUNG)],
        measurements=measurements or None,
        qualitative_evaluations=evaluations,
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(source)],
    )
    if not result.in_scope and result.scope_reason:
        group[0].ContentSequence.append(hd.sr.TextContentItem(
            name=SCOPE_REASON, value=result.scope_reason[:1024],
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    if result.in_scope and result.call == "uncertain" and result.call_note:
        group[0].ContentSequence.append(hd.sr.TextContentItem(
            name=CALL_NOTE, value=result.call_note[:1024],
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(), name="CXViewer", model_name=result.model_name, manufacturer_name="CXViewer"),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=CHEST_XRAY,
        imaging_measurements=[group],
        title=TITLE,
    )
    return hd.sr.ComprehensiveSR(
        evidence=[source],
        content=report[0],
        series_instance_uid=generate_uid(),
        series_number=SERIES_NUMBER,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="CXViewer",
        series_description=SERIES_DESCRIPTION,
        is_complete=True,
    )


def sr_bytes(sr: Dataset) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, sr, enforce_file_format=True)
    return buffer.getvalue()


def write_sr(result: AIResult, source: Dataset, out: Path) -> Path:
    """Build and write the SR atomically, owner-readable only."""
    from cxviewer.files.atomic import atomic_write_bytes

    return atomic_write_bytes(Path(out), sr_bytes(build_sr(result, source)), private=True)


@dataclass(frozen=True)
class ReadBack:
    """What an SR says, read back with highdicom (for tests and the viewer)."""

    title: str
    probabilities: dict[str, float]
    call: str | None
    in_scope: bool
    algorithm: tuple[str, str]
    source_sop_uids: list[str]
    notice: str
    scope_reason: str = ""
    call_note: str = ""


def read_sr(ds: Dataset) -> ReadBack:
    sr = hd.sr.ComprehensiveSR.from_dataset(ds)
    content = sr.content
    groups = content.get_image_measurement_groups()
    if not groups:
        raise ValueError("no measurement group in this SR")
    group = groups[0]
    codes_to_label = {(c.value, c.scheme_designator): label for label, c in LABEL_CODES.items()}
    probabilities = {}
    for m in group.get_measurements():
        label = codes_to_label.get((m.name.value, m.name.scheme_designator))
        if label:
            probabilities[label] = float(m.value)
    call, in_scope = None, False
    for q in group.get_qualitative_evaluations():
        if q.name == CALL:
            call = "uncertain" if q.value == UNCERTAIN else codes_to_label.get((q.value.value, q.value.scheme_designator))
        elif q.name == IN_SCOPE:
            in_scope = q.value == YES
    def text(name) -> str:
        items = hd.sr.utils.find_content_items(group[0], name=name)
        return str(items[0].TextValue) if items else ""

    reason = text(SCOPE_REASON)
    refs = [img.referenced_sop_instance_uid for img in group.source_images]
    return ReadBack(title=content.name.meaning if hasattr(content, "name") else str(ds.ConceptNameCodeSequence[0].CodeMeaning),
                    probabilities=probabilities, call=call, in_scope=in_scope,
                    algorithm=(text(codes.DCM.AlgorithmName), text(codes.DCM.AlgorithmVersion)),
                    source_sop_uids=refs, notice=group.tracking_identifier or "", scope_reason=reason,
                    call_note=text(CALL_NOTE))
