"""What can go wrong talking to a PACS, each kind with the command line's exit code."""

from __future__ import annotations


class PacsError(Exception):
    """Base class; ``exit_code`` is what ``cxviewer pacs`` returns for it."""

    exit_code = 1


class PeerError(PacsError):
    """The peer answered but refused or failed (association rejected, a failure status, HTTP 4xx/5xx)."""

    exit_code = 1


class BadAddress(PacsError, ValueError):
    """An address or argument that cannot be used (not AET@HOST:PORT or a URL, a bad AE title...)."""

    exit_code = 2


class Unreachable(PacsError):
    """No answer: connection refused, unknown host, or a timeout."""

    exit_code = 3


class Cancelled(PacsError):
    """The caller cancelled a transfer; files of the unfinished transfer are removed."""

    exit_code = 1


class LimitExceeded(PacsError):
    """A received object or count went over the configured limits."""

    exit_code = 1
