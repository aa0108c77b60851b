"""Least-recently-used cache of decoded radiographs, bounded by the bytes of their pixel arrays.

Only decoded pixels are dropped; the study browser keeps each image's metadata and thumbnail, and a
dropped image is simply read again from disk when it is shown.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any


def _nbytes(rad: Any) -> int:
    pixels = getattr(rad, "pixels", None)
    return int(getattr(pixels, "nbytes", 0))


class RadiographCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Path, Any] = OrderedDict()
        self._bytes = 0

    def __contains__(self, path: Path) -> bool:
        return Path(path) in self._items

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, path: Path) -> Any | None:
        path = Path(path)
        rad = self._items.get(path)
        if rad is not None:
            self._items.move_to_end(path)
        return rad

    def put(self, path: Path, rad: Any) -> None:
        """Add ``rad``; evict the least recently used others until the budget holds.

        The newest item is always kept, even when it alone is larger than the budget.
        """
        path = Path(path)
        old = self._items.pop(path, None)
        if old is not None:
            self._bytes -= _nbytes(old)
        self._items[path] = rad
        self._bytes += _nbytes(rad)
        while self._bytes > self.max_bytes and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= _nbytes(dropped)

    def discard(self, path: Path) -> None:
        rad = self._items.pop(Path(path), None)
        if rad is not None:
            self._bytes -= _nbytes(rad)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
