"""DICOMweb client (dicomweb-client): QIDO-RS to search, WADO-RS to retrieve, STOW-RS to store.

HTTPS is verified against the system's CA store (or the node's ``ca_file``); basic auth or a
bearer token come from the node and are never printed. HTTP errors become ``PeerError`` with the
status line, connection problems and timeouts ``Unreachable``.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmwrite
from pydicom.dataset import Dataset

from cxviewer.pacs.dimse import Progress, TransferResult
from cxviewer.pacs.errors import Cancelled, PeerError, Unreachable
from cxviewer.pacs.nodes import Node
from cxviewer.pacs.query import RETURN_KEYS, StudyQuery, StudyResult, check_uid
from cxviewer.pacs.storage import ObjectStore


class WebClient:
    def __init__(self, node: Node, timeout: float = 10.0, read_timeout: float = 60.0) -> None:
        self.node = node
        self.timeout = timeout
        session = requests.Session()
        if node.token:
            session.headers["Authorization"] = f"Bearer {node.token}"
        elif node.username:
            session.auth = (node.username, node.password)
        if node.ca_file:
            session.verify = node.ca_file
        self._client = DICOMwebClient(node.url, session=session, timeout=(timeout, read_timeout))
        self._client.set_http_retry_params(retry=False)  # a timeout must mean the timeout, not five of them

    @contextmanager
    def _errors(self, what: str):
        try:
            yield
        except requests.HTTPError as exc:
            response = exc.response
            code = response.status_code if response is not None else "?"
            reason = response.reason if response is not None else str(exc)
            hint = " (check the credentials)" if code in (401, 403) else ""
            raise PeerError(f"{what}: {self.node.describe()} answered HTTP {code} {reason}{hint}") from None
        except requests.exceptions.SSLError as exc:
            raise PeerError(f"{what}: TLS failed with {self.node.describe()}: {exc}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "cannot connect"
            raise Unreachable(f"{what}: {self.node.describe()}: {kind} (timeout {self.timeout:g} s)") from None

    def echo(self) -> float:
        """A one-study QIDO-RS search: proves the service answers and accepts our credentials."""
        t0 = time.perf_counter()
        with self._errors("QIDO-RS"):
            self._client.search_for_studies(limit=1)
        return (time.perf_counter() - t0) * 1000

    def find(self, query: StudyQuery) -> list[StudyResult]:
        query.validate()
        with self._errors("QIDO-RS"):
            answers = self._client.search_for_studies(search_filters=query.qido_filters(), fields=list(RETURN_KEYS),
                                                      get_remaining=True)
        return [StudyResult.from_json(a) for a in answers]

    def get(self, study_uid: str, store: ObjectStore, progress: Progress | None = None,
            cancel: threading.Event | None = None, patient_id: str = "") -> TransferResult:
        """WADO-RS the whole study, each instance as stored (any transfer syntax)."""
        study_uid = check_uid(study_uid)
        total = 0
        try:
            with self._errors("WADO-RS"):
                for ds in self._client.iter_study(study_uid, media_types=(("application/dicom", "*"),)):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("WADO-RS cancelled")
                    buffer = io.BytesIO()
                    dcmwrite(buffer, ds, enforce_file_format=True)
                    store.save(buffer.getvalue(), str(ds.get("StudyInstanceUID", study_uid)), str(ds.get("SOPInstanceUID", "")))
                    total += 1
                    if progress is not None:
                        progress(total, 0)
        except BaseException:
            store.discard()
            raise
        return TransferResult(completed=total, paths=list(store.written))

    def send(self, files: list[tuple[Path, Dataset]], progress: Progress | None = None,
             cancel: threading.Event | None = None, read: Callable[[Path], Dataset] | None = None) -> TransferResult:
        """STOW-RS, one request per study; ``read`` loads a whole file (pixel data included)."""
        result = TransferResult(paths=[], messages=[])
        by_study: dict[str, list[Path]] = {}
        for path, ds in files:
            by_study.setdefault(str(ds.StudyInstanceUID), []).append(path)
        done = 0
        for study_uid, paths in by_study.items():
            if cancel is not None and cancel.is_set():
                raise Cancelled("STOW-RS cancelled")
            datasets = [read(p) for p in paths]
            with self._errors("STOW-RS"):
                answer = self._client.store_instances(datasets, study_instance_uid=study_uid)
            failed = {str(item.ReferencedSOPInstanceUID): item for item in answer.get("FailedSOPSequence", [])}
            for path, ds in zip(paths, datasets):
                item = failed.get(str(ds.SOPInstanceUID))
                if item is None:
                    result.completed += 1
                    result.paths.append(path)
                else:
                    result.failed += 1
                    result.messages.append(f"{path}: failure reason 0x{int(item.get('FailureReason', 0)):04X}")
            done += len(paths)
            if progress is not None:
                progress(done, len(files))
        return result
