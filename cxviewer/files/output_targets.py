"""The one check of where a command may write its output files (standard library only).

``output_problem(source, outputs)`` says, in a sentence for the user, why the outputs cannot be
written there, or returns None: an output onto (or inside) the input file, an output that is a
folder, an output whose folder does not exist (commands never create folders the user did not
ask for), or two outputs that are the same file. Symbolic links and ``..`` are resolved first, so
the same file by another name is caught too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def _same_file(a: Path, b: Path) -> bool:
    """The same file: the same resolved path, or (both existing) the same inode (hard links, case-insensitive disks)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def output_problem(source: str | os.PathLike | None, outputs: Sequence[str | os.PathLike]) -> str | None:
    """Why ``outputs`` cannot be written when reading ``source`` (None: no input file), or None when they can."""
    src = Path(source) if source is not None else None
    targets = [Path(out) for out in outputs]
    for out in targets:
        if src is not None and (_same_file(out, src) or src.resolve() in out.resolve().parents):
            return f"{out}: refusing to write onto or into the input file"
        if out.is_dir():
            return f"{out} is a folder; give a file name"
        folder = out.resolve().parent
        if not folder.is_dir():
            if folder.exists():
                return f"cannot write {out}: {folder} is a file, not a folder"
            return f"the output folder {folder} does not exist"
    for i, first in enumerate(targets):
        for second in targets[i + 1:]:
            if _same_file(first, second):
                return f"{first} and {second} are the same file; give each output its own name"
    return None
