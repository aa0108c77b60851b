"""One entry point for both protocols: a DIMSE node gets a DimseClient, a URL a WebClient."""

from __future__ import annotations

from cxviewer.pacs.dicomweb import WebClient
from cxviewer.pacs.dimse import DimseClient
from cxviewer.pacs.nodes import DEFAULT_AE, Node


def open_client(node: Node, calling_ae: str = DEFAULT_AE, timeout: float = 10.0,
                model: str = "study") -> DimseClient | WebClient:
    """``timeout`` bounds connecting and each answer's wait (DIMSE: association; DICOMweb: connect)."""
    if node.is_web:
        return WebClient(node, timeout=timeout)
    return DimseClient(node, calling_ae=calling_ae, timeout=timeout, model=model)
