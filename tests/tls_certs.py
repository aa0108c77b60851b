"""Throw-away certificates for the DICOM TLS tests, made with the ``openssl`` command (OpenSSL 1.1.1+).

``make_pki(folder)`` writes a CA; a certificate for Orthanc and one for CXViewer, both signed by it,
for 127.0.0.1/localhost, each usable as TLS server and client (a DICOM node is both: it answers
associations and opens them); a second, unrelated CA (the "wrong" one) and a certificate it signed
(a stranger's): EC P-256 keys, valid one day.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a client trusting only it must refuse the server
    stranger_cert: Path  # signed by other_ca: the server must refuse it
    stranger_key: Path


def openssl() -> str | None:
    return shutil.which("openssl")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([openssl(), *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> None:
    _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "1", "-subj", f"/CN=CXViewer test {name}",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)


def _leaf(folder: Path, name: str, ca: str = "ca") -> None:
    (folder / f"{name}.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
        "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
         "-out", f"{name}.csr", "-subj", f"/CN=CXViewer test {name}", cwd=folder)
    _run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
         "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext", cwd=folder)


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    _ca(folder, "ca")
    _ca(folder, "other-ca")
    _leaf(folder, "server")
    _leaf(folder, "client")
    _leaf(folder, "stranger", ca="other-ca")
    return Pki(ca=folder / "ca.crt", server_cert=folder / "server.crt", server_key=folder / "server.key",
               client_cert=folder / "client.crt", client_key=folder / "client.key", other_ca=folder / "other-ca.crt",
               stranger_cert=folder / "stranger.crt", stranger_key=folder / "stranger.key")
