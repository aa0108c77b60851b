"""Annotations as a DICOM Grayscale Softcopy Presentation State (PS3.3 A.33.1), Qt-free.

Export (highdicom): one GSPS per film, referencing it by SOP Instance UID; graphics in PIXEL
units (0,0 = top-left corner of the top-left pixel, as the viewer's image coordinates). Each
annotation is one graphic group on a layer named after its kind (DISTANCE, ANGLE, ARROW, TEXT,
ROI, CTR) holding its outline (POLYLINE, or ELLIPSE by its two axes) and its label as a text object
anchored on the image, so any GSPS viewer shows the figures too. The file is written owner-only
(patient data) into a folder the reader chose, never the film's own folder.

The window on screen goes in as the state's Softcopy VOI LUT (centre, width, VOI LUT Function) and
is applied with the annotations on import. The reader's calibration (Annotate > Calibrate) goes in as
the Displayed Area Selection's Presentation Pixel Spacing (PS3.3 C.10.4: the spacing to measure
with, overriding the film's Pixel Spacing / Imager Pixel Spacing) in place of the Presentation Pixel
Aspect Ratio; importing a state whose Presentation Pixel Spacing differs from the film's own spacing
calibrates the film with it.

Import (pydicom): the graphics that reference the film are read back into annotations; the layer
names written above restore the kinds exactly, a foreign GSPS is read by shape (2-point polyline ->
distance, 3-point -> angle, ellipse -> ROI, free text -> text). Measurement labels are not imported:
they are computed again from the film's own scale.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pydicom.multival

from cxviewer.annotate.model import Annotation
from cxviewer.files.atomic import atomic_write_bytes
from cxviewer.files.uid_names import uid_file_stem

log = logging.getLogger(__name__)

GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"
LAYERS = {"distance": "DISTANCE", "angle": "ANGLE", "arrow": "ARROW", "text": "TEXT", "ellipse": "ROI",
          "ctr": "CTR"}
KIND_OF_LAYER = {v: k for k, v in LAYERS.items()}
MAX_SCAN_FILES = 2000
_UID_TEXT = re.compile(r"[0-9a-f]{32}")  # an annotation uid (uuid4 hex) kept in the group description
MAX_GSPS_BYTES = 4 * 2**20


class PresentationStateError(ValueError):
    """A presentation state that cannot be written or read (the message says why)."""


@dataclass(frozen=True)
class LoadedState:
    """What a presentation state gives one film: its annotations, window and measuring spacing."""

    annotations: list[Annotation]
    window: PresentationWindow | None
    pixel_spacing: tuple[float, float] | None  # Presentation Pixel Spacing (row, column mm), if any


@dataclass(frozen=True)
class PresentationWindow:
    """A linear-family window (Softcopy VOI LUT Sequence item), in modality units."""

    center: float
    width: float
    explanation: str = ""
    function: str = "LINEAR"  # LINEAR, LINEAR_EXACT or SIGMOID


def read_window(ds: pydicom.Dataset) -> PresentationWindow | None:
    """The first window of the state's Softcopy VOI LUT Sequence (None without one, or a LUT table)."""
    for item in ds.get("SoftcopyVOILUTSequence", []) or []:
        center, width = item.get("WindowCenter"), item.get("WindowWidth")
        if center is None or width is None:
            continue
        first = (lambda v: float(v[0]) if isinstance(v, (list, tuple, pydicom.multival.MultiValue)) else float(v))
        try:
            c, w = first(center), first(width)
        except (TypeError, ValueError, IndexError):
            continue
        if not (math.isfinite(c) and math.isfinite(w)) or w <= 0:
            continue
        function = str(item.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        explanation = item.get("WindowCenterWidthExplanation", "")
        if isinstance(explanation, (list, tuple, pydicom.multival.MultiValue)):
            explanation = explanation[0] if explanation else ""
        return PresentationWindow(c, w, str(explanation or ""),
                                  function if function in ("LINEAR", "LINEAR_EXACT", "SIGMOID") else "LINEAR")
    return None


def read_pixel_spacing(ds: pydicom.Dataset, sop_uid: str) -> tuple[float, float] | None:
    """The Presentation Pixel Spacing (row, column mm) the state's Displayed Area Selection gives the
    film ``sop_uid`` (an item without references applies to every film of the state), or None."""
    for item in ds.get("DisplayedAreaSelectionSequence", []) or []:
        refs = item.get("ReferencedImageSequence")
        if refs and not any(str(r.get("ReferencedSOPInstanceUID", "")) == sop_uid for r in refs):
            continue
        value = item.get("PresentationPixelSpacing")
        try:
            row, col = (float(v) for v in value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(row) and math.isfinite(col) and row > 0 and col > 0:
            return row, col
    return None


def _set_pixel_spacing(gsps: pydicom.Dataset, spacing: tuple[float, float]) -> None:
    """Presentation Pixel Spacing in place of the aspect ratio (the two are exclusive, PS3.3 C.10.4)."""
    for item in gsps.DisplayedAreaSelectionSequence:
        if "PresentationPixelAspectRatio" in item:
            del item.PresentationPixelAspectRatio
        item.PresentationPixelSpacing = [f"{v:.10g}" for v in spacing]  # DS: at most 16 characters


def _clip(points, width: int, height: int) -> list[tuple[float, float]]:
    return [(min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height))) for x, y in points]


def _outline(a: Annotation, width: int, height: int) -> list[tuple[str, list[tuple[float, float]]]]:
    if a.kind in ("distance", "arrow"):
        return [("POLYLINE", _clip(a.points, width, height))]
    if a.kind == "angle":
        return [("POLYLINE", _clip(a.points, width, height))]
    if a.kind == "ctr":
        (h0, hy), (h1, _), (t0, ty), (t1, _) = a.points
        return [("POLYLINE", _clip([(h0, hy), (h1, hy)], width, height)),
                ("POLYLINE", _clip([(t0, ty), (t1, ty)], width, height))]
    if a.kind == "ellipse":
        (x0, y0), (x1, y1) = a.points
        cx, cy, ra, rb = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        horizontal = [(cx - ra, cy), (cx + ra, cy)]
        vertical = [(cx, cy - rb), (cx, cy + rb)]
        axes = horizontal + vertical if ra >= rb else vertical + horizontal
        return [("ELLIPSE", _clip(axes, width, height))]
    return []


def build_presentation_state(source: Any, annotations: Iterable[Annotation], labels: dict[str, str],
                             *, window: PresentationWindow | None = None, series_uid: str | None = None,
                             sop_uid: str | None = None, software_version: str = "",
                             pixel_spacing: tuple[float, float] | None = None) -> pydicom.Dataset:
    """A GSPS dataset for the film whose header is ``source`` (pydicom Dataset, without pixels).

    ``labels`` maps annotation uid -> the text shown beside it (its measured value); ``window`` (in
    modality units) is the window the reader used, kept as the state's Softcopy VOI LUT;
    ``pixel_spacing`` (row, column mm) is the reader's calibration, kept as Presentation Pixel Spacing."""
    from highdicom import UID
    from highdicom.pr import (
        GraphicAnnotation,
        GraphicGroup,
        GraphicLayer,
        GraphicObject,
        GrayscaleSoftcopyPresentationState,
        SoftcopyVOILUTTransformation,
        TextObject,
    )

    if source is None or not str(source.get("SOPInstanceUID", "")):
        raise PresentationStateError("only a DICOM film (with a SOP Instance UID) can have a presentation state")
    width, height = int(source.Columns), int(source.Rows)
    layers: dict[str, Any] = {}
    per_layer: dict[str, dict[str, list]] = {}
    groups: list[Any] = []
    for gid, a in enumerate(annotations, start=1):
        name = LAYERS[a.kind]
        if name not in layers:
            layers[name] = GraphicLayer(name, order=len(layers) + 1, description=f"CXViewer {a.kind}")
            per_layer[name] = {"graphics": [], "texts": []}
        group = GraphicGroup(gid, label=f"{a.kind} {gid}", description=a.uid)
        groups.append(group)
        for gtype, pts in _outline(a, width, height):
            per_layer[name]["graphics"].append(GraphicObject(gtype, np.array(pts, dtype=np.float64), "PIXEL",
                                                             graphic_group=group))
        text = labels.get(a.uid, a.text if a.kind in ("text", "arrow") else "")
        if text:
            anchor = _clip([a.points[0] if a.kind in ("text", "arrow") else a.points[-1]], width, height)[0]
            per_layer[name]["texts"].append(TextObject(text.replace("\n", "; "), "PIXEL", anchor_point=anchor,
                                                       anchor_point_visible=False, graphic_group=group))
    refs = [source]
    graphic_annotations = [
        GraphicAnnotation(refs, layers[name], graphic_objects=content["graphics"] or None,
                          text_objects=content["texts"] or None)
        for name, content in per_layer.items() if content["graphics"] or content["texts"]]
    try:
        gsps = GrayscaleSoftcopyPresentationState(
            referenced_images=refs, series_instance_uid=series_uid or UID(), series_number=900,
            sop_instance_uid=sop_uid or UID(), instance_number=1, manufacturer="CXViewer",
            manufacturer_model_name="CXViewer", software_versions=software_version or "0",
            device_serial_number="0", content_label="CXVIEWER",
            content_description="Annotations made in CXViewer",
            graphic_annotations=graphic_annotations or None,
            graphic_layers=list(layers.values()) or None, graphic_groups=groups or None,
            voi_lut_transformations=[SoftcopyVOILUTTransformation(
                window_center=[window.center], window_width=[window.width],
                window_explanation=[window.explanation[:64] or "CXViewer"],  # a bare str would be split
                voi_lut_function=window.function)] if window is not None else None)
    except (ValueError, TypeError, AttributeError) as exc:
        raise PresentationStateError(f"cannot build the presentation state: {exc}") from exc
    if pixel_spacing is not None:
        _set_pixel_spacing(gsps, pixel_spacing)
    return gsps


def export_folder_problem(folder: Path, input_paths: Iterable[Path]) -> str | None:
    """Why ``folder`` is not a place to write (None when it is): never beside the reader's films."""
    folder = Path(folder).expanduser().resolve()
    for p in input_paths:
        if Path(p).expanduser().resolve().parent == folder:
            return (f"{folder} holds the films themselves; CXViewer does not write beside its inputs. "
                    "Choose another folder.")
    return None


def write_presentation_state(gsps: pydicom.Dataset, folder: Path, input_paths: Iterable[Path]) -> Path:
    """Save ``gsps`` as ``GSPS_<film SOP UID>.dcm`` in ``folder`` (owner-only, atomic)."""
    problem = export_folder_problem(folder, input_paths)
    if problem:
        raise PresentationStateError(problem)
    ref = gsps.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID
    buffer = io.BytesIO()
    gsps.save_as(buffer, enforce_file_format=True)
    return atomic_write_bytes(Path(folder) / f"GSPS_{uid_file_stem(ref)}.dcm", buffer.getvalue(), private=True)


def referenced_sop_uids(ds: pydicom.Dataset) -> set[str]:
    uids = set()
    for series in ds.get("ReferencedSeriesSequence", []) or []:
        for image in series.get("ReferencedImageSequence", []) or []:
            uids.add(str(image.get("ReferencedSOPInstanceUID", "")))
    return uids


def _applies_to(item: pydicom.Dataset, sop_uid: str, whole_state: bool) -> bool:
    refs = item.get("ReferencedImageSequence")
    if not refs:
        return whole_state  # no references on the item: all images of the presentation state
    return any(str(r.get("ReferencedSOPInstanceUID", "")) == sop_uid for r in refs)


def _points(obj: pydicom.Dataset) -> list[tuple[float, float]]:
    data = [float(v) for v in (obj.get("GraphicData") or [])]
    return [(data[i], data[i + 1]) for i in range(0, len(data) - 1, 2)]


def _ellipse_box(pts) -> tuple[tuple[float, float], tuple[float, float]]:
    (a0, a1, b0, b1) = pts[:4]
    cx, cy = (a0[0] + a1[0]) / 2, (a0[1] + a1[1]) / 2
    ra, rb = math.dist(a0, a1) / 2, math.dist(b0, b1) / 2
    angle = math.atan2(a1[1] - a0[1], a1[0] - a0[0])
    # half-extents of the (possibly rotated) ellipse's bounding box
    hx = math.hypot(ra * math.cos(angle), rb * math.sin(angle))
    hy = math.hypot(ra * math.sin(angle), rb * math.cos(angle))
    return (cx - hx, cy - hy), (cx + hx, cy + hy)


def read_annotations(ds: pydicom.Dataset, sop_uid: str) -> list[Annotation]:
    """The annotations a GSPS dataset draws on the film ``sop_uid`` (PIXEL units only)."""
    if str(ds.get("SOPClassUID", "")) != GSPS_SOP_CLASS:
        raise PresentationStateError("not a Grayscale Softcopy Presentation State")
    whole = sop_uid in referenced_sop_uids(ds)
    uids = {g.get("GraphicGroupID"): str(g.get("GraphicGroupDescription", ""))
            for g in ds.get("GraphicGroupSequence", []) or []
            if _UID_TEXT.fullmatch(str(g.get("GraphicGroupDescription", "")))}
    out: list[Annotation] = []
    for item in ds.get("GraphicAnnotationSequence", []) or []:
        if not _applies_to(item, sop_uid, whole):
            continue
        kind = KIND_OF_LAYER.get(str(item.get("GraphicLayer", "")))
        groups: dict[Any, dict[str, list]] = {}
        for n, obj in enumerate(item.get("GraphicObjectSequence", []) or []):
            if str(obj.get("GraphicAnnotationUnits", "")) != "PIXEL":
                continue  # DISPLAY units depend on a screen; not an image position
            key = obj.get("GraphicGroupID", f"g{n}")
            groups.setdefault(key, {"graphics": [], "texts": []})["graphics"].append(obj)
        for n, txt in enumerate(item.get("TextObjectSequence", []) or []):
            key = txt.get("GraphicGroupID", f"t{n}")
            groups.setdefault(key, {"graphics": [], "texts": []})["texts"].append(txt)
        for key, content in groups.items():
            try:
                found = _group_annotations(kind, content)
                uid = uids.get(key)
                if uid and len(found) == 1:  # written by CXViewer: the same annotation again
                    found = [replace(found[0], uid=uid)]
                out.extend(found)
            except (ValueError, IndexError) as exc:
                log.warning("presentation state: a graphic is skipped (%s)", exc)
    return out


def _text_of(txt: pydicom.Dataset) -> tuple[str, tuple[float, float] | None]:
    value = str(txt.get("UnformattedTextValue", "") or "")
    if txt.get("AnchorPoint") is not None and str(txt.get("AnchorPointAnnotationUnits", "PIXEL")) == "PIXEL":
        x, y = (float(v) for v in txt.AnchorPoint)
        return value, (x, y)
    tl, br = txt.get("BoundingBoxTopLeftHandCorner"), txt.get("BoundingBoxBottomRightHandCorner")
    if tl is not None and br is not None and str(txt.get("BoundingBoxAnnotationUnits", "PIXEL")) == "PIXEL":
        return value, (float(tl[0]), (float(tl[1]) + float(br[1])) / 2)
    return value, None


def _group_annotations(kind: str | None, content: dict[str, list]) -> list[Annotation]:
    graphics = [(str(g.get("GraphicType", "")), _points(g)) for g in content["graphics"]]
    texts = [_text_of(t) for t in content["texts"]]
    if kind == "ctr" and len(graphics) == 2:
        (_, heart), (_, thorax) = graphics
        return [Annotation("ctr", (heart[0], heart[1], thorax[0], thorax[1]))]
    if kind == "text":
        return [Annotation("text", (p,), v) for v, p in texts if p is not None and v]
    if kind == "arrow" and graphics:
        return [Annotation("arrow", tuple(graphics[0][1][:2]), texts[0][0] if texts else "")]
    result = []
    for gtype, pts in graphics:
        if gtype == "ELLIPSE" and len(pts) >= 4:
            result.append(Annotation("ellipse", _ellipse_box(pts)))
        elif gtype == "POLYLINE" and len(pts) == 2:
            result.append(Annotation("distance", tuple(pts)))
        elif gtype == "POLYLINE" and len(pts) == 3:
            result.append(Annotation("angle", tuple(pts)))
    if kind is None and not graphics:  # a foreign free text
        result.extend(Annotation("text", (p,), v) for v, p in texts if p is not None and v)
    return result


def scan_presentation_states(folder: Path) -> dict[Path, set[str]]:
    """GSPS files directly in ``folder`` and the films each references. Only each file's meta
    header is read (a few hundred bytes) unless it names the GSPS class, so a folder of films is cheap."""
    from pydicom.filereader import read_file_meta_info

    found: dict[Path, set[str]] = {}
    try:
        entries = sorted(p for p in Path(folder).iterdir() if p.is_file())[:MAX_SCAN_FILES]
    except OSError:
        return found
    for p in entries:
        try:
            if p.stat().st_size > MAX_GSPS_BYTES:
                continue
            if str(read_file_meta_info(p).get("MediaStorageSOPClassUID", "")) != GSPS_SOP_CLASS:
                continue
            ds = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=["SOPClassUID", "ReferencedSeriesSequence"])
        except Exception:  # noqa: BLE001 - anything unreadable is simply not a presentation state
            continue
        if str(ds.get("SOPClassUID", "")) == GSPS_SOP_CLASS:
            found[p] = referenced_sop_uids(ds)
    return found


def load_presentation_state(path: Path, sop_uid: str) -> LoadedState:
    """The annotations a GSPS file draws on the film ``sop_uid``, its window and its pixel spacing."""
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds for a damaged file
        raise PresentationStateError(f"{Path(path).name} cannot be read: {exc}") from exc
    return LoadedState(read_annotations(ds, sop_uid), read_window(ds), read_pixel_spacing(ds, sop_uid))
