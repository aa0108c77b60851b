"""A real Orthanc PACS for the PACS tests: temporary configuration, free localhost ports, DICOMweb on.

Needs the Debian packages ``orthanc`` and ``orthanc-dicomweb`` (``.ci/run`` installs them); the
tests that use it skip when the ``Orthanc`` binary is missing.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ORTHANC_AET = "ORTHANCTEST"
CALLING_AET = "CXVIEWER"  # our calling AE title, known to Orthanc
LISTENER_AET = "CXVLISTEN"  # our listener, Orthanc's C-MOVE destination
PLUGIN_CANDIDATES = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so",
)


def orthanc_binary() -> str | None:
    return shutil.which("Orthanc") or (("/usr/sbin/Orthanc") if Path("/usr/sbin/Orthanc").exists() else None)


def dicomweb_plugin() -> str | None:
    for path in PLUGIN_CANDIDATES:
        if Path(path).exists():
            return path
    found = sorted(Path("/usr/lib/orthanc").glob("libOrthancDicomWeb.so*")) if Path("/usr/lib/orthanc").is_dir() else []
    return str(found[0]) if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Orthanc:
    folder: Path
    dicom_port: int
    http_port: int
    listener_port: int
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{ORTHANC_AET}@127.0.0.1:{self.dicom_port}"

    @property
    def dicomweb(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def rest(self, path: str, data: bytes | None = None, method: str | None = None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/dicom")
        with urllib.request.urlopen(req, timeout=30) as rsp:
            return json.loads(rsp.read() or b"null")

    def upload(self, path: Path) -> dict:
        return self.rest("/instances", data=path.read_bytes())

    def study_instances(self, study_uid: str) -> list[dict]:
        """Orthanc's instances of a study (each with its MainDicomTags), [] when the study is unknown."""
        ids = self.rest("/tools/lookup", data=study_uid.encode(), method="POST")
        studies = [i["ID"] for i in ids if i["Type"] == "Study"]
        return self.rest(f"/studies/{studies[0]}/instances") if studies else []

    def start(self, plugin: str, extra: dict | None = None) -> None:
        """``extra``: configuration entries added to (or replacing) the defaults, e.g. DICOM TLS."""
        config = {
            "Name": "cxviewer-test",
            "StorageDirectory": str(self.folder / "db"),
            "IndexDirectory": str(self.folder / "db"),
            "DicomAet": ORTHANC_AET,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomModalities": {
                "cxviewer": [CALLING_AET, "127.0.0.1", self.listener_port],
                "listener": [LISTENER_AET, "127.0.0.1", self.listener_port],
            },
            "DicomScuTimeout": 10,
            "DicomAssociationCloseDelay": 0,
            "Plugins": [plugin],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "StudiesMetadata": "Full"},
            "StableAge": 1,
            **(extra or {}),
        }
        cfg = self.folder / "orthanc.json"
        cfg.write_text(json.dumps(config, indent=1))
        log = open(self.folder / "orthanc.log", "wb")
        self.process = subprocess.Popen([orthanc_binary(), str(cfg)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {(self.folder / 'orthanc.log').read_text(errors='replace')[-2000:]}")
            try:
                self.rest("/system")
                plugins = self.rest("/plugins")
                if "dicom-web" not in plugins:
                    raise RuntimeError(f"Orthanc runs without its DICOMweb plugin: {plugins}")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Orthanc did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
