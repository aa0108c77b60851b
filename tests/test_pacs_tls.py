"""DIMSE over TLS against a real Orthanc with DICOM TLS on (mutual TLS: it requires our certificate),
both ways: our client to Orthanc, and Orthanc's C-MOVE to our listener over TLS.

The certificates are made for the test by ``openssl`` (tests/tls_certs.py): a CA, Orthanc's and our
certificates signed by it, and an unrelated CA with a certificate of its own. Every call goes
through the project's own code (``cxviewer pacs``), and every wrong certificate gets a clear message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pydicom
import pytest

from cxviewer.cli import main
from tests.conftest import REPO_ROOT
from tests.orthanc_server import CALLING_AET, LISTENER_AET, ORTHANC_AET, Orthanc, dicomweb_plugin, free_port, orthanc_binary
from tests.tls_certs import make_pki, openssl


@pytest.fixture(scope="module")
def tls_orthanc(tmp_path_factory):
    if orthanc_binary() is None or dicomweb_plugin() is None:
        pytest.skip("Orthanc with its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)")
    if openssl() is None:
        pytest.skip("the openssl command is needed to make the test certificates")
    folder = tmp_path_factory.mktemp("orthanc-tls")
    pki = make_pki(folder / "pki")
    server = Orthanc(folder, free_port(), free_port(), free_port())
    server.start(dicomweb_plugin(), {
        "DicomTlsEnabled": True,
        "DicomTlsCertificate": str(pki.server_cert),
        "DicomTlsPrivateKey": str(pki.server_key),
        "DicomTlsTrustedCertificates": str(pki.ca),  # clients with a certificate signed by our CA
        "DicomTlsRemoteCertificateRequired": True,
        "DicomModalities": {  # Orthanc's C-MOVE reaches our listener over TLS too
            "cxviewer": [CALLING_AET, "127.0.0.1", server.listener_port],
            "listener": {"AET": LISTENER_AET, "Host": "127.0.0.1", "Port": server.listener_port, "UseDicomTls": True},
        },
    })
    try:
        yield server, pki
    finally:
        server.stop()


def _tls(pki, *, ca=None, cert=True) -> list[str]:
    args = ["--tls", "--ca-file", str(ca or pki.ca), "--timeout", "5"]
    if cert:
        args += ["--cert", str(pki.client_cert), "--key", str(pki.client_key)]
    return args


def test_echo_and_store_over_tls(tls_orthanc, dicom_dir, capsys):
    server, pki = tls_orthanc
    assert main(["pacs", "echo", server.address, *_tls(pki)]) == 0
    assert f"{server.address} (TLS): C-ECHO ok" in capsys.readouterr().out
    tiny = pydicom.dcmread(dicom_dir / "CR_tiny_3.dcm", stop_before_pixels=True)
    assert main(["pacs", "send", server.address, *_tls(pki), str(dicom_dir / "CR_tiny_3.dcm")]) == 0
    assert "1 of 1 files stored" in capsys.readouterr().out
    stored = server.study_instances(str(tiny.StudyInstanceUID))
    assert [i["MainDicomTags"]["SOPInstanceUID"] for i in stored] == [str(tiny.SOPInstanceUID)]
    # and a query over the same channel finds it
    assert main(["pacs", "find", server.address, *_tls(pki), "--patient-id", str(tiny.PatientID), "--json"]) == 0
    assert str(tiny.StudyInstanceUID) in capsys.readouterr().out


def test_wrong_certificates_get_clear_errors(tls_orthanc, capsys):
    server, pki = tls_orthanc
    t0 = time.monotonic()
    # the peer's certificate is not signed by the CA we trust
    assert main(["pacs", "echo", server.address, *_tls(pki, ca=pki.other_ca)]) == 1
    err = capsys.readouterr().err
    assert "TLS refused: the peer's certificate is not trusted" in err and str(pki.other_ca) in err
    # no client certificate, where Orthanc requires one
    assert main(["pacs", "echo", server.address, *_tls(pki, cert=False)]) == 1
    assert "requires a client certificate" in capsys.readouterr().err
    # our certificate signed by a CA Orthanc does not trust
    assert main(["pacs", "echo", server.address, "--tls", "--ca-file", str(pki.ca), "--cert", str(pki.stranger_cert),
                 "--key", str(pki.stranger_key)]) == 1
    assert "does not trust our client certificate" in capsys.readouterr().err
    # plain DIMSE to the TLS port: no answer, with the hint
    assert main(["pacs", "echo", server.address, "--timeout", "5"]) == 3
    assert "does the peer expect TLS?" in capsys.readouterr().err
    assert time.monotonic() - t0 < 20  # none of these waits for a timeout
    # unreadable files are bad arguments, found before any connection
    assert main(["pacs", "echo", server.address, "--tls", "--ca-file", str(pki.ca) + ".missing"]) == 2
    assert "cannot use the CA file" in capsys.readouterr().err
    assert main(["pacs", "echo", server.address, *_tls(pki), "--key", str(pki.server_key)]) == 2  # key of another cert
    assert "cannot use the client certificate" in capsys.readouterr().err


def test_tls_to_a_plain_dicom_port_says_so(orthanc, tls_orthanc, capsys):
    _server, pki = tls_orthanc
    assert main(["pacs", "echo", orthanc.address, *_tls(pki)]) == 1
    assert "does it speak TLS on this port?" in capsys.readouterr().err


def test_nodes_dialog_tests_a_tls_node_with_our_certificate(tls_orthanc, qtbot):
    """The viewer's node settings carry the CA, our certificate and key; "Test" echoes over TLS."""
    from PySide6.QtWidgets import QPushButton

    from cxviewer.ui.pacs.nodes import PacsNodesDialog, configured_nodes
    from cxviewer.settings import Settings

    server, pki = tls_orthanc
    dialog = PacsNodesDialog(Settings.load())
    qtbot.addWidget(dialog)
    dialog.name.setText("TLS Orthanc")
    dialog.address.setText(server.address)
    dialog.tls.setChecked(True)
    dialog.ca_file.setText(str(pki.ca))

    def test() -> str:
        dialog.findChild(QPushButton, "pacsTest").click()
        qtbot.waitUntil(lambda: not dialog.message.text().startswith("Testing"), timeout=30_000)
        return dialog.message.text()

    assert "requires a client certificate" in test()
    dialog.cert_file.setText(str(pki.client_cert))
    dialog.key_file.setText(str(pki.client_key))
    assert test().startswith(f"{server.address} (TLS) answers (")
    dialog._add()
    dialog._accept()
    (node,) = configured_nodes(Settings.load(dialog.settings.path))
    assert (node.tls, node.ca_file, node.cert_file, node.key_file) == (True, str(pki.ca), str(pki.client_cert),
                                                                       str(pki.client_key))


def test_listen_with_tls_receives_a_c_move(tls_orthanc, dicom_dir, tmp_path, capsys):
    """`pacs listen --tls-cert ... --ca-file CA`: Orthanc (its certificate signed by CA) C-MOVEs to it."""
    server, pki = tls_orthanc
    tiny = pydicom.dcmread(dicom_dir / "CR_tiny_1.dcm", stop_before_pixels=True)
    server.upload(dicom_dir / "CR_tiny_1.dcm")
    out = tmp_path / "received"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxviewer", "pacs", "listen", "--ae", LISTENER_AET, "--port", str(server.listener_port),
         "--bind", "127.0.0.1", "-o", str(out), "--allow", ORTHANC_AET, "--tls-cert", str(pki.client_cert),
         "--tls-key", str(pki.client_key), "--ca-file", str(pki.ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    try:
        assert "with TLS" in proc.stderr.readline()
        assert main(["pacs", "get", server.address, *_tls(pki), str(tiny.StudyInstanceUID), "--move-to", LISTENER_AET]) == 0
        assert " sent, 0 failed" in capsys.readouterr().out  # the tiny files share one study
        path = out / str(tiny.StudyInstanceUID) / f"{tiny.SOPInstanceUID}.dcm"
        assert pydicom.dcmread(path).PixelData == pydicom.dcmread(dicom_dir / "CR_tiny_1.dcm").PixelData
        # a stranger's certificate (another CA) cannot even reach the association
        assert main(["pacs", "echo", f"{LISTENER_AET}@127.0.0.1:{server.listener_port}", "--tls", "--ca-file", str(pki.ca),
                     "--cert", str(pki.stranger_cert), "--key", str(pki.stranger_key), "--timeout", "5"]) == 1
        assert "does not trust our client certificate" in capsys.readouterr().err
        proc.send_signal(signal.SIGINT)
        stdout, _stderr = proc.communicate(timeout=15)
        assert proc.returncode == 0 and f"{ORTHANC_AET}: {path}" in stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the listener's own files are checked before it starts
    assert main(["pacs", "listen", "--port", str(free_port()), "-o", str(tmp_path / "x"), "--allow", "A",
                 "--tls-cert", str(pki.client_cert) + ".missing"]) == 2
    assert "cannot use the listener's certificate" in capsys.readouterr().err


def test_the_viewers_listener_receives_over_tls(tls_orthanc, dicom_dir, qtbot):
    """The listener toggle with a TLS certificate and a senders' CA in the settings: Orthanc's C-MOVE
    (requested over TLS by the project's client, with the node's certificate) arrives through TLS."""
    from cxviewer.pacs.dimse import DimseClient
    from cxviewer.ui.main_window import MainWindow
    from cxviewer.ui.pacs.dialog import install_pacs
    from cxviewer.ui.pacs.nodes import configured_nodes
    from cxviewer.settings import Settings

    server, pki = tls_orthanc
    tiny = pydicom.dcmread(dicom_dir / "CR_tiny_2.dcm", stop_before_pixels=True)
    server.upload(dicom_dir / "CR_tiny_2.dcm")
    settings = Settings.load()
    settings["pacs"] = {**settings["pacs"], "listener_ae": LISTENER_AET, "listener_port": server.listener_port,
                        "listener_tls_cert": str(pki.client_cert), "listener_tls_key": str(pki.client_key),
                        "listener_ca_file": str(pki.ca),
                        "nodes": [{"name": "TLS Orthanc", "address": server.address, "tls": True, "ca_file": str(pki.ca),
                                   "cert_file": str(pki.client_cert), "key_file": str(pki.client_key)}]}
    w = MainWindow(settings)
    qtbot.addWidget(w)
    install_pacs(w)
    toggle = w.pacs_listener
    try:
        toggle.action.trigger()
        assert toggle.listener is not None and toggle.action.text().endswith("(TLS)")
        (node,) = configured_nodes(settings)
        result = DimseClient(node, calling_ae=CALLING_AET).move(str(tiny.StudyInstanceUID), LISTENER_AET)
        assert result.completed >= 1 and not result.failed
        qtbot.waitUntil(lambda: toggle.listener.received >= 1, timeout=30_000)
        assert toggle.listener.refused == 0
    finally:
        toggle.shutdown()
        w.loader.shutdown()
