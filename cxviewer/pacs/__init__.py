"""Qt-free PACS connectivity: DIMSE (pynetdicom) and DICOMweb (dicomweb-client) clients, a C-STORE
listener, and the AI result as a DICOM Structured Report (highdicom).

Nothing here touches the network until a caller names a node; received files go only to a folder
the caller names (by default the app's data folder), owner-readable only.
"""

from cxviewer.pacs.errors import BadAddress, PacsError, PeerError, Unreachable
from cxviewer.pacs.nodes import Node, parse_address
from cxviewer.pacs.query import StudyQuery, StudyResult

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
