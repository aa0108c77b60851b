"""Qt-free helpers of the viewer: orientation maths, edge labels, the bounded radiograph cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cxviewer.ui import view_orientation as vo
from cxviewer.ui.radiograph_cache import RadiographCache


def test_four_clockwise_turns_are_identity_and_cw_then_ccw_cancels():
    m = vo.IDENTITY
    for _ in range(4):
        m = vo.ROTATE_CW @ m
    assert np.array_equal(m, vo.IDENTITY)
    assert np.array_equal(vo.ROTATE_CCW @ vo.ROTATE_CW, vo.IDENTITY)


def test_clockwise_turn_moves_right_to_down_on_screen():
    # screen coordinates: y grows downwards, so "right" (1, 0) must go to "down" (0, 1)
    assert tuple(vo.ROTATE_CW @ np.array([1, 0])) == (0, 1)


@pytest.mark.parametrize("ops, expected", [
    ([], (0, False)),
    ([vo.ROTATE_CW], (90, False)),
    ([vo.ROTATE_CW, vo.ROTATE_CW], (180, False)),
    ([vo.ROTATE_CCW], (270, False)),
    ([vo.FLIP_H], (0, True)),
    ([vo.FLIP_V], (180, True)),
    ([vo.FLIP_H, vo.FLIP_V], (180, False)),
])
def test_rotation_degrees(ops, expected):
    m = vo.IDENTITY
    for op in ops:
        m = op @ m
    assert vo.rotation_degrees(m) == expected


def test_edge_labels_follow_rotation_and_flip():
    # Patient Orientation L\F: columns increase towards the patient's left, rows towards the feet
    # (a PA chest: patient's right on the viewer's left).
    base = vo.edge_labels(vo.IDENTITY, "L", "F")
    assert base == {"right": "L", "left": "R", "bottom": "F", "top": "H"}
    flipped = vo.edge_labels(vo.FLIP_H, "L", "F")
    assert flipped["right"] == "R" and flipped["left"] == "L" and flipped["top"] == "H"
    turned = vo.edge_labels(vo.ROTATE_CW, "L", "F")
    # after a clockwise turn the feet point left and the patient's left points down
    assert turned == {"right": "H", "left": "F", "bottom": "L", "top": "R"}
    assert vo.opposite("LF") == "RH"


@dataclass
class _Rad:
    pixels: np.ndarray


def test_cache_evicts_least_recently_used_within_byte_budget():
    mb = 1 << 20
    cache = RadiographCache(max_bytes=3 * mb)
    rads = {f"/img{i}.dcm": _Rad(np.zeros(mb, np.uint8)) for i in range(4)}
    for p in list(rads)[:3]:
        cache.put(Path(p), rads[p])
    assert len(cache) == 3 and cache.nbytes == 3 * mb
    assert cache.get(Path("/img0.dcm")) is rads["/img0.dcm"]  # now most recently used
    cache.put(Path("/img3.dcm"), rads["/img3.dcm"])
    assert Path("/img1.dcm") not in cache  # the least recently used went
    assert Path("/img0.dcm") in cache and Path("/img3.dcm") in cache
    assert cache.nbytes <= 3 * mb


def test_cache_keeps_the_newest_even_if_larger_than_budget():
    cache = RadiographCache(max_bytes=10)
    cache.put(Path("/a"), _Rad(np.zeros(100, np.uint8)))
    cache.put(Path("/b"), _Rad(np.zeros(100, np.uint8)))
    assert len(cache) == 1 and Path("/b") in cache
    cache.discard(Path("/b"))
    assert len(cache) == 0 and cache.nbytes == 0
