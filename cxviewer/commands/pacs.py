"""``cxviewer pacs echo|find|get|send|listen``: talk to a PACS over DIMSE or DICOMweb.

Exit codes: 0 done, 1 the peer refused or failed (its status is shown), 2 bad arguments,
3 unreachable or timed out. A PEER is ``AET@HOST:PORT`` (DIMSE) or ``http(s)://host:port/dicom-web``
(DICOMweb: QIDO-RS, WADO-RS, STOW-RS). Passwords and tokens come from the URL or the environment
(``CXVIEWER_PACS_PASSWORD``, ``CXVIEWER_PACS_TOKEN``) and are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

PASSWORD_ENV = "CXVIEWER_PACS_PASSWORD"
TOKEN_ENV = "CXVIEWER_PACS_TOKEN"


def _peer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("peer", help="AET@HOST:PORT (DIMSE) or http(s)://host:port/dicom-web (DICOMweb)")
    p.add_argument("--ae", default="CXVIEWER", help="our calling AE title (default CXVIEWER)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to connect and to wait for each answer (default 10)")
    p.add_argument("--tls", action="store_true", help="DIMSE over TLS (verified against the system's CAs or --ca-file)")
    p.add_argument("--ca-file", default="", help="CA bundle for TLS/HTTPS")
    p.add_argument("--cert", default="", metavar="PEM", help="our client certificate, for a DIMSE TLS peer that requires one")
    p.add_argument("--key", default="", metavar="PEM", help="the private key of --cert (default: inside --cert)")
    p.add_argument("--user", default="", help=f"DICOMweb basic auth user (password from ${PASSWORD_ENV}); "
                   f"a bearer token is taken from ${TOKEN_ENV}")
    p.add_argument("--root", choices=("study", "patient"), default="study", help="query/retrieve information model (DIMSE)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("echo", help="check that a peer answers (C-ECHO, or a QIDO-RS request for a URL)")
    _peer_options(p)
    p = sub.add_parser("find", help="search studies (C-FIND, or QIDO-RS for a URL)")
    _peer_options(p)
    p.add_argument("--patient-id", default="")
    p.add_argument("--patient-name", default="", help="may use * and ? wildcards")
    p.add_argument("--study-date", default="", help="YYYYMMDD or YYYYMMDD-YYYYMMDD")
    p.add_argument("--modality", default="", help="e.g. CR")
    p.add_argument("--accession", default="")
    p.add_argument("--json", action="store_true", help="one JSON object per study")
    p = sub.add_parser("get", help="retrieve a study (C-GET, WADO-RS for a URL, or C-MOVE with --move-to)")
    _peer_options(p)
    p.add_argument("study_uid", help="StudyInstanceUID")
    p.add_argument("-o", "--out", default=None, help="folder for the retrieved files (FOLDER/<study>/<instance>.dcm)")
    p.add_argument("--move-to", default="", metavar="AET", help="C-MOVE to this AE title (our listener) instead of C-GET")
    p = sub.add_parser("send", help="store files on a peer (C-STORE, or STOW-RS for a URL)")
    _peer_options(p)
    p.add_argument("paths", nargs="+", help="DICOM files, or folders searched for DICOM files by content")
    p = sub.add_parser("listen", help="receive objects (C-STORE SCP) until Ctrl-C")
    p.add_argument("--ae", default="CXVIEWER", help="our AE title (default CXVIEWER)")
    p.add_argument("--port", type=int, default=11112, help="TCP port (default 11112)")
    p.add_argument("--bind", default="", help="address to listen on (default: all interfaces)")
    p.add_argument("-o", "--out", required=True, help="folder for the received files (FOLDER/<study>/<instance>.dcm)")
    p.add_argument("--allow", action="append", default=[], metavar="AET", help="a calling AE title allowed to send (repeatable)")
    p.add_argument("--accept-any", action="store_true", help="accept every calling AE title (no allow list)")
    p.add_argument("--max-size", type=float, default=1024, metavar="MB", help="largest object accepted (default 1024 MB)")
    p.add_argument("--max-count", type=int, default=100_000, help="objects accepted before refusing more (default 100000)")
    p.add_argument("--tls-cert", default="", metavar="PEM", help="listen with TLS, presenting this certificate")
    p.add_argument("--tls-key", default="", metavar="PEM", help="the private key of --tls-cert (default: inside it)")
    p.add_argument("--ca-file", default="", help="with --tls-cert: callers must present a certificate signed by this CA")


def _fail(exc: Exception, code: int) -> int:
    print(f"cxviewer pacs: {exc}", file=sys.stderr)
    return code


def _node(args: argparse.Namespace):
    from cxviewer.pacs import parse_address

    node = parse_address(args.peer)
    node.tls = args.tls
    node.ca_file = args.ca_file
    if node.is_web:
        node.username = args.user or node.username
        node.password = os.environ.get(PASSWORD_ENV, node.password)
        node.token = os.environ.get(TOKEN_ENV, "")
    else:
        node.tls = bool(args.tls or args.ca_file or args.cert)
        node.cert_file, node.key_file = args.cert, args.key
        node.ssl_context()  # an unreadable CA, certificate or key is a bad argument, before any connection
    return node


def _client(args: argparse.Namespace):
    from cxviewer.pacs.client import open_client

    return open_client(_node(args), calling_ae=args.ae, timeout=args.timeout, model=args.root)


def _out_folder(text: str) -> Path:
    from cxviewer.pacs.errors import BadAddress

    out = Path(text).expanduser()
    if out.exists() and not out.is_dir():
        raise BadAddress(f"{out} is not a folder")
    return out


def _echo(args) -> int:
    client = _client(args)
    ms = client.echo()
    print(f"{client.node.describe()}: {'QIDO-RS' if client.node.is_web else 'C-ECHO'} ok in {ms:.0f} ms")
    return 0


def _find(args) -> int:
    from cxviewer.pacs import StudyQuery

    query = StudyQuery(patient_id=args.patient_id, patient_name=args.patient_name, study_date=args.study_date,
                       modality=args.modality.upper(), accession=args.accession).validate()
    results = _client(args).find(query)
    if args.json:
        for r in results:
            print(json.dumps(r.as_json()))
        return 0
    for r in results:
        n = "?" if r.instances is None else r.instances
        print(f"{r.study_date or '--------'}  {r.patient_id:<16} {r.patient_name:<24} {'/'.join(r.modalities) or '-':<6} "
              f"{n:>4} img  acc {r.accession or '-':<12} {r.study_uid}")
    print(f"{len(results)} stud{'y' if len(results) == 1 else 'ies'}", file=sys.stderr)
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\r{done}/{total or '?'}", end="", file=sys.stderr, flush=True)


def _get(args) -> int:
    from cxviewer.pacs.errors import BadAddress
    from cxviewer.pacs.query import check_uid
    from cxviewer.pacs.storage import ObjectStore

    uid = check_uid(args.study_uid)
    client = _client(args)
    if args.move_to:
        if client.node.is_web:
            raise BadAddress("--move-to needs a DIMSE peer (AET@HOST:PORT), not a URL")
        result = client.move(uid, args.move_to, progress=_progress)
        print(file=sys.stderr)
        print(f"C-MOVE to {args.move_to}: {result.completed} sent, {result.failed} failed, {result.warnings} warnings")
        return 0 if not result.failed else 1
    if not args.out:
        raise BadAddress("-o DIR is required (or --move-to AET)")
    store = ObjectStore(_out_folder(args.out))
    result = client.get(uid, store, progress=_progress)
    print(file=sys.stderr)
    for path in result.paths or []:
        print(path)
    print(f"{len(result.paths or [])} files written under {store.folder}", file=sys.stderr)
    return 0 if result.paths else 1


def _send(args) -> int:
    from cxviewer.imaging.dicom_file import read_dataset
    from cxviewer.pacs.files import collect

    files, skipped = collect([Path(p) for p in args.paths])
    for message in skipped:
        print(f"cxviewer pacs: skipped {message}", file=sys.stderr)
    if not files:
        print("cxviewer pacs: nothing to send", file=sys.stderr)
        return 2
    client = _client(args)
    if client.node.is_web:
        result = client.send(files, progress=_progress, read=read_dataset)
    else:
        result = client.send(files, progress=_progress)
    print(file=sys.stderr)
    for message in result.messages or []:
        print(f"cxviewer pacs: failed {message}", file=sys.stderr)
    print(f"{result.completed + result.warnings} of {len(files)} files stored on {client.node.describe()}")
    return 0 if not result.failed else 1


def _listen(args) -> int:
    from cxviewer.pacs.errors import BadAddress
    from cxviewer.pacs.listener import Listener, listener_ssl_context
    from cxviewer.pacs.storage import ObjectStore

    if not args.allow and not args.accept_any:
        raise BadAddress("name the calling AE titles allowed to send (--allow AET), or --accept-any")
    store = ObjectStore(_out_folder(args.out), max_object_bytes=int(args.max_size * 1024 * 1024), max_objects=args.max_count)

    def received(path: Path, calling: str, study_uid: str) -> None:
        print(f"{calling}: {path}", flush=True)

    if (args.tls_key or args.ca_file) and not args.tls_cert:
        raise BadAddress("--tls-key and --ca-file need --tls-cert (the listener's certificate)")
    tls = listener_ssl_context(args.tls_cert, args.tls_key, args.ca_file) if args.tls_cert else None
    listener = Listener(store, ae_title=args.ae, port=args.port, host=args.bind,
                        allowed=None if args.accept_any else set(args.allow), on_received=received, ssl_context=tls)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    listener.start()
    print(f"listening as {listener.ae_title} on port {listener.port}{' with TLS' if tls else ''}; "
          f"files go to {store.folder}; Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        listener.stop()
    print(f"stopped: {listener.received} received, {listener.refused} refused", file=sys.stderr, flush=True)
    return 0


ACTIONS = {"echo": _echo, "find": _find, "get": _get, "send": _send, "listen": _listen}


def run(args: argparse.Namespace) -> int:
    from cxviewer.pacs.errors import PacsError

    try:
        return ACTIONS[args.action](args)
    except PacsError as exc:
        return _fail(exc, exc.exit_code)
    except KeyboardInterrupt:
        return _fail(Exception("interrupted"), 1)
