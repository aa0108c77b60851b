"""A PACS node: a DIMSE peer (AE title, host, port, optional TLS) or a DICOMweb service (URL, auth).

``parse_address`` reads the command line's ``AET@HOST:PORT`` or ``http(s)://host:port/dicom-web``.
Credentials never appear in ``repr`` or ``describe`` (they must stay out of logs).
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from cxviewer.pacs.errors import BadAddress

DEFAULT_AE = "CXVIEWER"
_ADDRESS = re.compile(r"^(?P<aet>[^@]+)@(?P<host>\[[^\]]+\]|[^:@\[\]]+):(?P<port>\d{1,5})$")


def check_ae_title(title: str) -> str:
    """An AE title as PS3.5 allows it: 1-16 characters, no backslash or control characters, not blank."""
    if not title or not title.strip() or len(title) > 16 or "\\" in title or any(ord(c) < 32 or ord(c) > 126 for c in title):
        raise BadAddress(f"invalid AE title {title!r}: 1 to 16 printable ASCII characters, no backslash")
    return title.strip()


@dataclass
class Node:
    """Where a PACS is. A node has either ``url`` (DICOMweb) or ``ae_title``/``host``/``port`` (DIMSE)."""

    name: str = ""
    ae_title: str = ""
    host: str = ""
    port: int = 0
    url: str = ""
    tls: bool = False  # DIMSE over TLS (DICOMweb uses the URL's scheme)
    ca_file: str = ""  # CA bundle that signs the peer's certificate (empty: the system's)
    cert_file: str = ""  # our certificate (PEM) for DIMSE TLS peers that require one (mutual TLS)
    key_file: str = ""  # its private key (PEM; empty: in cert_file)
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)  # bearer token for DICOMweb

    @property
    def is_web(self) -> bool:
        return bool(self.url)

    def describe(self) -> str:
        """The address without credentials, for messages and logs."""
        if self.is_web:
            return self.url
        return f"{self.ae_title}@{self.host}:{self.port}" + (" (TLS)" if self.tls else "")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client-side TLS context for a DIMSE node with ``tls``; None otherwise."""
        if not self.tls or self.is_web:
            return None
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise BadAddress(f"cannot use the CA file {self.ca_file!r}: {getattr(exc, 'strerror', None) or exc}") from None
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file:
            try:
                ctx.load_cert_chain(self.cert_file, self.key_file or None)
            except (OSError, ssl.SSLError) as exc:
                raise BadAddress(f"cannot use the client certificate {self.cert_file!r}"
                                 + (f" with the key {self.key_file!r}" if self.key_file else "")
                                 + f": {getattr(exc, 'strerror', None) or exc}") from None
        return ctx

    def validate(self) -> Node:
        if self.is_web:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise BadAddress(f"not a DICOMweb URL: {self.url!r} (want http(s)://host:port/dicom-web)")
        else:
            check_ae_title(self.ae_title)
            if not self.host:
                raise BadAddress("no host given")
            if not 0 < int(self.port) < 65536:
                raise BadAddress(f"port {self.port} is outside 1-65535")
        return self


def parse_address(text: str) -> Node:
    """``AET@HOST:PORT`` (DIMSE) or ``http(s)://[user:password@]host:port/path`` (DICOMweb)."""
    text = text.strip()
    if text.lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        username, password = parts.username or "", parts.password or ""
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        try:
            port = parts.port
        except ValueError as exc:
            raise BadAddress(f"bad port in {text!r}") from exc
        if port:
            netloc += f":{port}"
        url = urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))
        return Node(url=url, username=username, password=password).validate()
    match = _ADDRESS.match(text)
    if not match:
        raise BadAddress(f"not an address: {text!r} (want AET@HOST:PORT or http(s)://host:port/dicom-web)")
    host = match["host"].strip("[]")
    return Node(ae_title=match["aet"], host=host, port=int(match["port"])).validate()
