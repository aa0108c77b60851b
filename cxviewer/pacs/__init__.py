"""Qt-free PACS connectivity: DIMSE (pynetdicom) and DICOMweb (dicomweb-client) clients, a C-STORE
listener, and the AI result as a DICOM Structured Report (highdicom).

Nothing here touches the network until a caller names a node; received files go only to a folder
the caller names (by default the app's data folder), owner-readable only.
"""

from cxviewer.pacs.errors import BadAddress, PacsError, PeerError, Unreachable
from cxviewer.pacs.nodes import Node, parse_address


def __getattr__(name: str):
    """The query types load pydicom: imported on first use, so the viewer's start-up stays light."""
    if name in ("StudyQuery", "StudyResult"):
        from cxviewer.pacs import query

        return getattr(query, name)
    raise AttributeError(name)


__all__ = [
    "BadAddress",
    "Node",
    "PacsError",
    "PeerError",
    "StudyQuery",
    "StudyResult",
    "Unreachable",
    "parse_address",
]
