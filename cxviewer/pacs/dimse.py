"""DIMSE client (pynetdicom): C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE as a service class user.

Every call opens one association and closes it. Failures become the errors of
``cxviewer.pacs.errors``: ``Unreachable`` (no TCP connection, or no answer within the timeout),
``PeerError`` (association rejected or aborted, a failure status; the peer's words are kept).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import A_ABORT, A_ASSOCIATE
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from cxviewer.pacs import contexts
from cxviewer.pacs.errors import Cancelled, PacsError, PeerError, Unreachable
from cxviewer.pacs.nodes import DEFAULT_AE, Node, check_ae_title
from cxviewer.pacs.query import StudyQuery, StudyResult, check_uid
from cxviewer.pacs.storage import ObjectStore

Progress = Callable[[int, int], None]  # (done, total; 0 when unknown)

_MODELS = {
    "study": (StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelGet,
              StudyRootQueryRetrieveInformationModelMove),
    "patient": (PatientRootQueryRetrieveInformationModelFind, PatientRootQueryRetrieveInformationModelGet,
                PatientRootQueryRetrieveInformationModelMove),
}


def status_text(status: Dataset | None) -> str:
    """A DIMSE status as 'Failure 0xC000: <comment>'."""
    if status is None or "Status" not in status:
        return "no response (connection lost or DIMSE timeout)"
    code = int(status.Status)
    kind = ("Success" if code == 0 else "Cancel" if code == 0xFE00 else "Pending" if code in (0xFF00, 0xFF01)
            else "Warning" if code in (0x0001, 0x0107, 0x0116) or 0xB000 <= code <= 0xBFFF else "Failure")
    comment = str(status.get("ErrorComment", "") or "").strip()
    return f"{kind} 0x{code:04X}" + (f": {comment}" if comment else "")


@dataclass
class TransferResult:
    """Counts of a C-GET/C-MOVE (sub-operations) or a C-STORE run."""

    completed: int = 0
    failed: int = 0
    warnings: int = 0
    paths: list[Path] | None = None
    messages: list[str] | None = None


class DimseClient:
    def __init__(self, node: Node, calling_ae: str = DEFAULT_AE, timeout: float = 10.0,
                 dimse_timeout: float = 60.0, model: str = "study") -> None:
        self.node = node
        self.calling_ae = check_ae_title(calling_ae)
        self.timeout = timeout
        self.dimse_timeout = dimse_timeout
        self.model = model
        self._current: Association | None = None
        self._seen: dict[str, object] = {}

    # -- association ----------------------------------------------------------------------------
    def _ae(self) -> AE:
        ae = AE(ae_title=self.calling_ae)
        ae.connection_timeout = self.timeout
        ae.acse_timeout = self.timeout
        ae.network_timeout = max(self.timeout, self.dimse_timeout)
        ae.dimse_timeout = self.dimse_timeout
        return ae

    def _unreachable(self, connected: bool) -> Unreachable:
        where = f"{self.node.host}:{self.node.port}"
        if connected:
            hint = "" if self.node.tls else "; does the peer expect TLS?"
            return Unreachable(f"{self.node.describe()}: no DICOM answer to the association request "
                               f"(connection closed{hint}, or nothing within {self.timeout:g} s)")
        try:
            socket.getaddrinfo(self.node.host, self.node.port)
        except socket.gaierror:
            return Unreachable(f"unknown host {self.node.host!r}")
        return Unreachable(f"cannot connect to {where} (connection refused, filtered or timed out after {self.timeout:g} s)")

    @contextmanager
    def association(self, ae: AE, ext_neg: list | None = None,
                    handlers: list | None = None) -> Iterator[Association]:
        seen: dict[str, object] = {}
        self._seen = seen

        def on_open(event):
            seen["connected"] = True

        def on_acse(event):
            seen["primitive"] = event.primitive

        def on_pdu(event):
            if type(event.pdu).__name__ == "A_ABORT_RQ":  # the peer sent A-ABORT
                seen["peer_abort"] = True

        all_handlers = [(evt.EVT_CONN_OPEN, on_open), (evt.EVT_ACSE_RECV, on_acse), (evt.EVT_PDU_RECV, on_pdu), *(handlers or [])]
        tls = None
        ctx = self.node.ssl_context()
        if ctx is not None:
            tls = (ctx, self.node.host)
        started = time.monotonic()
        try:
            assoc = ae.associate(self.node.host, int(self.node.port), ae_title=self.node.ae_title,
                                 ext_neg=ext_neg, evt_handlers=all_handlers, tls_args=tls)
        except OSError:  # the host name does not resolve
            raise self._unreachable(False) from None
        timed_out = time.monotonic() - started >= 0.9 * self.timeout
        answered = isinstance(seen.get("primitive"), A_ASSOCIATE)  # an accept or reject: TLS itself worked
        if not assoc.is_established and ctx is not None and not answered and not timed_out:
            problem = self._tls_problem(ctx)  # pynetdicom only logs why the handshake failed
            if problem is not None:
                raise problem
        if not assoc.is_established:
            rsp = seen.get("primitive")
            if assoc.is_rejected and rsp is not None and hasattr(rsp, "reason_str"):
                raise PeerError(f"{self.node.describe()} rejected the association: {rsp.result_str}, "
                                f"{rsp.source_str}: {rsp.reason_str}")
            if assoc.is_rejected:
                raise PeerError(f"{self.node.describe()} rejected the association")
            if isinstance(rsp, A_ASSOCIATE) and rsp.result == 0x00:
                raise PeerError(f"{self.node.describe()} accepted none of the proposed presentation contexts")
            if isinstance(rsp, A_ABORT):
                raise PeerError(f"{self.node.describe()} aborted the association")
            # No DICOM answer at all: no connection, a closed connection, or the ACSE timeout.
            raise self._unreachable(bool(seen.get("connected")))
        self._current = assoc
        try:
            yield assoc
        finally:
            self._current = None
            if assoc.is_established:
                assoc.release()

    def _tls_problem(self, ctx: ssl.SSLContext) -> PacsError | None:
        """Why a TLS association failed, found by one more handshake: an untrusted or mismatched
        certificate, a peer that wants a client certificate or refuses ours, a peer that does not speak
        TLS; None when no connection can be made at all, or the handshake shows nothing wrong."""
        where = self.node.describe()
        try:
            raw = socket.create_connection((self.node.host, int(self.node.port)), timeout=self.timeout)
        except OSError:
            return None
        try:
            with ctx.wrap_socket(raw, server_hostname=self.node.host) as tls:
                tls.settimeout(min(self.timeout, 2.0))
                try:
                    closed = tls.recv(1) == b""  # TLS 1.3 checks the client's certificate after the handshake
                except TimeoutError:
                    return None  # the peer waits for our association request: TLS is fine
                except (ssl.SSLEOFError, ConnectionResetError):
                    closed = True
                if closed:
                    return PeerError(f"{where}: the peer closed the TLS connection after the handshake: it requires "
                                     "a client certificate (--cert/--key), or does not trust ours")
                return None
        except ssl.SSLCertVerificationError as exc:
            ca = f"the CA file {self.node.ca_file}" if self.node.ca_file else "the system's CAs"
            return PeerError(f"{where}: TLS refused: the peer's certificate is not trusted ({exc.verify_message}); "
                             f"is it signed by {ca}, and issued for {self.node.host}?")
        except (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError):
            return PeerError(f"{where}: the peer closed the connection during the TLS handshake: "
                             "does it speak TLS on this port?")
        except ssl.SSLError as exc:
            reason = str(exc.reason or exc)
            hint = {"TLSV13_ALERT_CERTIFICATE_REQUIRED": "it requires a client certificate (--cert/--key)",
                    "SSLV3_ALERT_HANDSHAKE_FAILURE": "it may require a client certificate (--cert/--key)",
                    "TLSV1_ALERT_UNKNOWN_CA": "it does not trust our client certificate",
                    "SSLV3_ALERT_BAD_CERTIFICATE": "it refused our client certificate",
                    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "it refused our client certificate (not one for "
                                                           "client authentication?)",
                    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "it refused our client certificate",
                    "WRONG_VERSION_NUMBER": "it does not speak TLS on this port"}.get(reason, "")
            return PeerError(f"{where}: TLS handshake failed: {reason}" + (f"; {hint}" if hint else ""))
        except OSError:
            return None
        finally:
            raw.close()

    def _lost(self, what: str, status: Dataset | None) -> PacsError:
        """No response to a request: the peer aborted (it refused), or the connection or the timeout went."""
        if self._seen.get("peer_abort"):
            return PeerError(f"{what}: {self.node.describe()} aborted the association (request refused; "
                             f"is our AE title {self.calling_ae} known to it?)")
        return Unreachable(f"{what}: {status_text(status)}")

    def abort(self) -> None:
        """Abort the association in progress (another thread's cancel)."""
        assoc = self._current
        if assoc is not None and assoc.is_established:
            assoc.abort()

    # -- services -------------------------------------------------------------------------------
    def echo(self) -> float:
        """C-ECHO; returns the round trip in ms."""
        ae = self._ae()
        ae.add_requested_context(Verification)
        t0 = time.perf_counter()
        with self.association(ae) as assoc:
            status = assoc.send_c_echo()
        if status is None or "Status" not in status or int(status.Status) != 0:
            raise PeerError(f"C-ECHO failed: {status_text(status)}")
        return (time.perf_counter() - t0) * 1000

    def find(self, query: StudyQuery) -> list[StudyResult]:
        """Study-level C-FIND (study root, or patient root with ``model='patient'``)."""
        query.validate()
        find_model = _MODELS[self.model][0]
        ae = self._ae()
        ae.add_requested_context(find_model)
        results: list[StudyResult] = []
        with self.association(ae) as assoc:
            for status, identifier in assoc.send_c_find(query.identifier(), find_model):
                if status is None or "Status" not in status:
                    raise self._lost("C-FIND", status)
                code = int(status.Status)
                if code in (0xFF00, 0xFF01) and identifier is not None:
                    results.append(StudyResult.from_dataset(identifier))
                elif code != 0:
                    raise PeerError(f"C-FIND failed: {status_text(status)}")
        return results

    def _retrieve_identifier(self, study_uid: str, patient_id: str = "") -> Dataset:
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.StudyInstanceUID = check_uid(study_uid)
        if self.model == "patient":
            ds.PatientID = patient_id
        return ds

    def _follow(self, responses: Iterable, what: str, progress: Progress | None,
                cancel: threading.Event | None, assoc: Association) -> TransferResult:
        result = TransferResult()
        final: Dataset | None = None
        for status, _identifier in responses:
            if status is None or "Status" not in status:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"{what} cancelled")
                raise self._lost(what, status)
            final = status
            code = int(status.Status)
            done = sum(int(status.get(k, 0) or 0) for k in ("NumberOfCompletedSuboperations",
                       "NumberOfFailedSuboperations", "NumberOfWarningSuboperations"))
            remaining = int(status.get("NumberOfRemainingSuboperations", 0) or 0)
            if progress is not None and code in (0xFF00, 0xFF01):
                progress(done, done + remaining)
            if cancel is not None and cancel.is_set():
                if assoc.is_established:
                    assoc.abort()
                raise Cancelled(f"{what} cancelled")
        if final is None:
            raise PeerError(f"{what}: the peer sent no final status")
        result.completed = int(final.get("NumberOfCompletedSuboperations", 0) or 0)
        result.failed = int(final.get("NumberOfFailedSuboperations", 0) or 0)
        result.warnings = int(final.get("NumberOfWarningSuboperations", 0) or 0)
        code = int(final.Status)
        if code == 0xFE00:
            raise Cancelled(f"{what} cancelled by the peer")
        if code != 0 and not (0xB000 <= code <= 0xBFFF and result.completed):
            raise PeerError(f"{what} failed: {status_text(final)}"
                            + (f" ({result.failed} of {result.completed + result.failed} objects failed)" if result.failed else ""))
        return result

    def get(self, study_uid: str, store: ObjectStore, progress: Progress | None = None,
            cancel: threading.Event | None = None, patient_id: str = "") -> TransferResult:
        """C-GET a study into ``store``; on any failure or cancel the files of this transfer are removed."""
        get_model = _MODELS[self.model][1]
        ae = self._ae()
        ae.add_requested_context(get_model)
        requested, roles = contexts.retrieve_contexts()
        for cx in requested:
            ae.add_requested_context(cx.abstract_syntax, cx.transfer_syntax)
        errors: list[str] = []

        def on_store(event):
            if cancel is not None and cancel.is_set():
                return 0xA700  # refuse the rest quickly; the transfer is being cancelled
            try:
                store.check_size(len(event.request.DataSet.getvalue()))
                ds = event.dataset
                store.save(event.encoded_dataset(), str(ds.get("StudyInstanceUID", "")),
                           str(ds.get("SOPInstanceUID", "")))
            except Exception as exc:  # a full disk or a limit: this object fails, the peer is told
                errors.append(f"{type(exc).__name__}: {exc}")
                return 0xA700
            return 0x0000

        identifier = self._retrieve_identifier(study_uid, patient_id)
        try:
            with self.association(ae, ext_neg=roles, handlers=[(evt.EVT_C_STORE, on_store)]) as assoc:
                result = self._follow(assoc.send_c_get(identifier, get_model), "C-GET", progress, cancel, assoc)
            if errors:
                raise PeerError(f"C-GET: {len(errors)} objects could not be stored here: {errors[0]}")
        except BaseException:
            store.discard()
            raise
        result.paths = list(store.written)
        return result

    def move(self, study_uid: str, destination: str, progress: Progress | None = None,
             cancel: threading.Event | None = None, patient_id: str = "") -> TransferResult:
        """C-MOVE a study to the AE title ``destination`` (which the peer must know)."""
        move_model = _MODELS[self.model][2]
        ae = self._ae()
        ae.add_requested_context(move_model)
        identifier = self._retrieve_identifier(study_uid, patient_id)
        with self.association(ae) as assoc:
            return self._follow(assoc.send_c_move(identifier, check_ae_title(destination), move_model),
                                "C-MOVE", progress, cancel, assoc)

    def send(self, files: list[tuple[Path, Dataset]], progress: Progress | None = None,
             cancel: threading.Event | None = None) -> TransferResult:
        """C-STORE each (path, header) pair; the result lists one message per file that failed."""
        ae = self._ae()
        pairs = {(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for _p, ds in files}
        for cx in contexts.store_contexts(pairs):
            ae.add_requested_context(cx.abstract_syntax, cx.transfer_syntax)
        result = TransferResult(paths=[], messages=[])
        with self.association(ae) as assoc:
            for i, (path, _ds) in enumerate(files):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("C-STORE cancelled")
                try:
                    status = assoc.send_c_store(path)
                except ValueError as exc:  # no accepted context for this file
                    status, note = None, str(exc)
                else:
                    note = ""
                if status is not None and "Status" in status and int(status.Status) == 0:
                    result.completed += 1
                    result.paths.append(path)
                elif status is not None and "Status" in status and 0xB000 <= int(status.Status) <= 0xBFFF:
                    result.warnings += 1
                    result.paths.append(path)
                else:
                    result.failed += 1
                    result.messages.append(f"{path}: {note or status_text(status)}")
                    if not assoc.is_established:
                        raise self._lost(f"C-STORE of {path}", status)
                if progress is not None:
                    progress(i + 1, len(files))
        return result
