"""A C-STORE service class provider (pynetdicom) that files what it receives into an ObjectStore.

It answers C-ECHO too. Only the calling AE titles in ``allowed`` may associate (``allowed=None``
accepts any, which the caller must ask for explicitly); objects over the store's size limit and
objects past its count limit are refused with "out of resources" (0xA700).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification

from cxviewer.pacs import contexts
from cxviewer.pacs.errors import BadAddress, PacsError
from cxviewer.pacs.nodes import DEFAULT_AE, check_ae_title
from cxviewer.pacs.storage import ObjectStore

log = logging.getLogger(__name__)


def listener_ssl_context(cert_file: str, key_file: str = "", ca_file: str = "") -> ssl.SSLContext:
    """The listener's TLS context: our certificate (and key), TLS 1.2 or later; with ``ca_file``,
    callers must present a certificate signed by it (mutual TLS), else any TLS caller may associate
    (the AE title checks still apply). Unreadable files raise BadAddress."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert_file, key_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise BadAddress(f"cannot use the listener's certificate {cert_file!r}: {getattr(exc, 'strerror', None) or exc}") from None
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise BadAddress(f"cannot use the CA file {ca_file!r}: {getattr(exc, 'strerror', None) or exc}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx

Received = Callable[[Path, str, str], None]  # (path, calling AE title, StudyInstanceUID)


class Listener:
    def __init__(self, store: ObjectStore, *, ae_title: str = DEFAULT_AE, port: int = 11112, host: str = "",
                 allowed: set[str] | None, on_received: Received | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0) -> None:
        self.store = store
        self.ae_title = check_ae_title(ae_title)
        if not 0 < int(port) < 65536:
            raise BadAddress(f"port {port} is outside 1-65535")
        self.port = int(port)
        self.host = host
        if allowed is not None and not allowed:
            raise BadAddress("no calling AE title is allowed: name at least one, or accept any explicitly")
        self.allowed = None if allowed is None else {check_ae_title(a) for a in allowed}
        self.on_received = on_received
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.received = 0
        self.refused = 0
        self._server = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None

    def _on_store(self, event) -> int:
        calling = str(event.assoc.requestor.ae_title).strip()
        try:
            self.store.check_size(len(event.request.DataSet.getvalue()))
            ds = event.dataset
            study_uid = str(ds.get("StudyInstanceUID", ""))
            path = self.store.save(event.encoded_dataset(), study_uid, str(ds.get("SOPInstanceUID", "")))
        except PacsError as exc:
            with self._lock:
                self.refused += 1
            log.warning("refused an object from %s: %s", calling, exc)
            return 0xA700
        except Exception as exc:  # disk full, unreadable data set: refuse, keep listening
            with self._lock:
                self.refused += 1
            log.warning("could not store an object from %s: %s: %s", calling, type(exc).__name__, exc)
            return 0xA700
        with self._lock:
            self.received += 1
        if self.on_received is not None:
            try:
                self.on_received(path, calling, study_uid)
            except Exception:  # the callback's trouble is not the peer's
                log.exception("on_received failed for %s", path)
        return 0x0000

    def start(self) -> None:
        """Listen in background threads; raises PacsError when the port cannot be bound."""
        if self._server is not None:
            return
        ae = AE(ae_title=self.ae_title)
        ae.acse_timeout = self.timeout
        ae.dimse_timeout = self.timeout
        ae.network_timeout = self.timeout
        ae.maximum_associations = 4
        ae.require_called_aet = True
        if self.allowed is not None:
            ae.require_calling_aet = sorted(self.allowed)
        ae.add_supported_context(Verification)
        for cx in contexts.listener_contexts():
            ae.add_supported_context(cx.abstract_syntax, cx.transfer_syntax)
        try:
            self._server = ae.start_server((self.host, self.port), block=False,
                                           evt_handlers=[(evt.EVT_C_STORE, self._on_store)],
                                           ssl_context=self.ssl_context)
        except OSError as exc:
            raise PacsError(f"cannot listen on port {self.port}: {exc.strerror or exc}") from exc

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
