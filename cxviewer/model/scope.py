"""Is this image something the classifier was made for: a frontal chest radiograph?

The one place for these rules: the classifier's ``predict_radiograph`` and the batch scan both ask here.

These checks use only what the header and the pixels already tell (modality, body part,
descriptions, colour, size, shape); an image that fails one gets no diagnosis, and the reason
says why. The model-based out-of-distribution gate (``ood_score``) comes on top of this later.
"""

from __future__ import annotations

import re

# Projection radiography; "" = unknown (plain PNG/JPEG files, headers without Modality).
RADIOGRAPHIC_MODALITIES = frozenset({"CR", "DX", "DR", "RG", ""})
MODALITY_NAMES = {
    "CT": "a CT slice",
    "MR": "an MR slice",
    "US": "an ultrasound image",
    "NM": "a nuclear medicine image",
    "PT": "a PET image",
    "MG": "a mammogram",
    "XA": "an angiography image",
    "RF": "a fluoroscopy image",
    "IO": "an intra-oral dental image",
    "PX": "a panoramic dental image",
    "OP": "an ophthalmic photograph",
    "XC": "a photograph",
    "ES": "an endoscopy image",
    "SM": "a microscopy slide",
    "SR": "a structured report",
    "DOC": "a document",
    "OT": "an image of unknown kind (modality OT)",
    "SC": "a secondary capture",
}
# Words that say "chest" in a body part or description; they win over anything else.
CHEST_WORDS = frozenset({"CHEST", "THORAX", "THORACIC", "LUNG", "LUNGS", "THX", "TORAX", "TORACE", "THORAXPA", "RIBS"})
# Words that clearly say "not the chest" (DICOM PS3.16 CID 4031 body parts and common descriptions).
NOT_CHEST_WORDS = frozenset(
    {
        "HIP", "HIPS", "PELVIS", "EXTREMITY", "EXTREMITIES", "TEETH", "TOOTH", "DENTAL", "JAW", "MANDIBLE",
        "CSPINE", "LSPINE", "TSPINE", "SSPINE", "SPINE", "CERVICAL", "LUMBAR", "SACRUM", "COCCYX", "SKULL", "HEAD",
        "BRAIN", "FACE", "SINUS", "SINUSES", "ORBIT", "NECK", "ABDOMEN", "KUB", "HAND", "FINGER", "THUMB", "WRIST",
        "FOREARM", "ELBOW", "ARM", "HUMERUS", "SHOULDER", "CLAVICLE", "FOOT", "TOE", "ANKLE", "HEEL", "CALCANEUS",
        "LEG", "TIBIA", "FIBULA", "KNEE", "PATELLA", "FEMUR", "THIGH", "BREAST", "MAMMO",
    }
)
# "CSPINE"-style compact values and "C-SPINE", "L SPINE" all normalise to one token.
_SPINE = re.compile(r"\b([CLTS])[\s\-_]*SPINE\b")
MIN_SIDE = 128  # pixels; thumbnails and icons carry too little detail to read
MAX_ASPECT = 2.0  # long side / short side; chest films are 1.0 .. ~1.8
MIN_CHROMA = 12.0  # grey levels; a grey image saved as RGB has ~0, a colour picture much more


def _words(text: str) -> set[str]:
    text = _SPINE.sub(lambda m: f"{m.group(1)}SPINE", text.upper())
    return set(re.findall(r"[A-Z]+", text))


def anatomy_problem(body_part: str, descriptions: list[str]) -> str | None:
    """Reason when the header clearly names another body region; ``None`` when chest or unknown."""
    body = _words(body_part)
    if body & CHEST_WORDS:
        return None
    if body & NOT_CHEST_WORDS:
        return f"Body part {body_part.strip()}: not the chest."
    if body_part.strip():
        return None  # an unfamiliar value ("PORTABLE", local codes): do not guess
    text = " / ".join(dict.fromkeys(d.strip() for d in descriptions if d and d.strip()))
    words = _words(text)
    if words & CHEST_WORDS:
        return None
    hits = sorted(words & NOT_CHEST_WORDS)
    if hits:
        return f"Described as '{text}': not a chest image."
    return None


def modality_problem(modality: str) -> str | None:
    mod = (modality or "").strip().upper()
    if mod in RADIOGRAPHIC_MODALITIES:
        return None
    what = MODALITY_NAMES.get(mod, "not a projection radiograph")
    return f"Modality {mod}: {what}, not a chest radiograph."


def geometry_problem(rows: int, cols: int) -> str | None:
    short, long = sorted((int(rows), int(cols)))
    if short < MIN_SIDE:
        return f"Image too small: {cols} x {rows} pixels (a chest film needs at least {MIN_SIDE} on each side)."
    if long / max(short, 1) > MAX_ASPECT:
        return (
            f"Extreme aspect ratio {long / short:.1f}:1 ({cols} x {rows} pixels): "
            "not the shape of a whole chest film (cropped, a document or a photo?)."
        )
    return None


def scope_problem(rad) -> str | None:
    """Why ``rad`` is outside the classifier's scope, or ``None`` when it is a plausible chest film."""
    reason = modality_problem(rad.modality)
    if reason:
        return reason
    descriptions = [rad.study_description, rad.series_description]
    reason = anatomy_problem(rad.body_part or "", [d or "" for d in descriptions])
    if reason:
        return reason
    rows, cols = rad.pixels.shape[:2]
    reason = geometry_problem(rows, cols)
    if reason:
        return reason
    if rad.was_color:
        c = rad.chroma  # measured by the reader on the source's own channels (a grey film saved as RGB stays in)
        if c is None or c >= MIN_CHROMA:
            shown = "" if c is None else f" (chroma {c:.0f})"
            return f"Colour image{shown}: radiographs are grey."
    return None
