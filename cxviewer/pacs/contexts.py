"""Presentation contexts: which SOP classes and transfer syntaxes CXViewer proposes and accepts."""

from __future__ import annotations

from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, build_context, build_role
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import (
    BasicTextSRStorage,
    ComprehensiveSRStorage,
    ComputedRadiographyImageStorage,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    EncapsulatedPDFStorage,
    EnhancedSRStorage,
    GrayscaleSoftcopyPresentationStateStorage,
    KeyObjectSelectionDocumentStorage,
    SecondaryCaptureImageStorage,
)

UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
# One context per group so the peer can send each file as stored, without transcoding.
IMAGE_SYNTAX_GROUPS = [
    UNCOMPRESSED,
    [JPEG2000Lossless], [JPEG2000], [JPEGLosslessSV1], [JPEGBaseline8Bit], [JPEGExtended12Bit],
    [JPEGLSLossless], [JPEGLSNearLossless], [RLELossless], [DeflatedExplicitVRLittleEndian],
]
# What a C-GET can bring back: the radiograph classes and the documents that go with them.
RETRIEVE_IMAGE_CLASSES = [
    ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing, DigitalMammographyXRayImageStorageForPresentation,
    SecondaryCaptureImageStorage,
]
RETRIEVE_DOCUMENT_CLASSES = [
    ComprehensiveSRStorage, EnhancedSRStorage, BasicTextSRStorage, KeyObjectSelectionDocumentStorage,
    GrayscaleSoftcopyPresentationStateStorage, EncapsulatedPDFStorage,
]


def retrieve_contexts() -> tuple[list[PresentationContext], list]:
    """Storage contexts (SCP role) for a C-GET association, and the role selection items."""
    contexts = [build_context(uid, group) for uid in RETRIEVE_IMAGE_CLASSES for group in IMAGE_SYNTAX_GROUPS]
    contexts += [build_context(uid, UNCOMPRESSED) for uid in RETRIEVE_DOCUMENT_CLASSES]
    roles = [build_role(uid, scp_role=True) for uid in RETRIEVE_IMAGE_CLASSES + RETRIEVE_DOCUMENT_CLASSES]
    return contexts, roles


def listener_contexts() -> list[PresentationContext]:
    """Every storage SOP class, any transfer syntax pynetdicom knows (the listener accepts, never decodes)."""
    return [build_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES) for cx in AllStoragePresentationContexts]


def store_contexts(pairs: set[tuple[str, str]]) -> list[PresentationContext]:
    """Contexts for sending files: one per (SOP class, transfer syntax) found, uncompressed ones together."""
    contexts: dict[tuple[str, tuple[str, ...]], PresentationContext] = {}
    for sop_class, syntax in sorted(pairs):
        group = tuple(UNCOMPRESSED) if syntax in UNCOMPRESSED else (syntax,)
        contexts.setdefault((sop_class, group), build_context(sop_class, list(group)))
    if len(contexts) > 128:
        from cxviewer.pacs.errors import BadAddress

        raise BadAddress(f"{len(contexts)} different kinds of object: at most 128 can be sent in one association")
    return list(contexts.values())
