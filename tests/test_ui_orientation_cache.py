"""Qt-free helpers of the viewer: orientation maths, edge labels, the bounded radiograph cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cxviewer.imaging import orientation as vo
from cxviewer.ui.studies.radiograph_cache import RadiographCache


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


@pytest.mark.parametrize("ops", [(), ("rotate",), ("rotate", "flip_h"), ("flip_v",), ("rotate", "rotate", "rotate", "flip_h"), ("flip_h", "rotate")])
def test_orient_array_matches_what_the_view_shows(qtbot, tmp_path, ops):
    """The PDF's copy of the image is turned and flipped exactly as the view turns it on screen."""
    import cv2

    from cxviewer.imaging import read_radiograph
    from cxviewer.ui.viewer.image_view import ImageView
    from cxviewer.imaging.orientation import orient_array

    img = np.zeros((30, 50), np.uint8)
    path = tmp_path / "m.png"
    cv2.imwrite(str(path), img)
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    view.set_radiograph(read_radiograph(path))
    for op in ops:
        {"rotate": view.rotate, "flip_h": view.flip_horizontal, "flip_v": view.flip_vertical}[op]()
    view.fit()
    marker = np.zeros((30, 50), np.uint8)
    marker[3, 41] = 1  # pixel (x=41, y=3)
    oriented = orient_array(marker, view.orientation)
    (oy,), (ox,) = np.nonzero(oriented)
    rect = view.image_rect_in_view()
    tl, br = view.image_to_widget(0, 0), view.image_to_widget(50, 30)  # opposite corners, wherever they landed
    p = view.image_to_widget(41.5, 3.5)
    left, right = min(tl.x(), br.x()), max(tl.x(), br.x())
    top, bottom = min(tl.y(), br.y()), max(tl.y(), br.y())
    fx, fy = (p.x() - left) / (right - left), (p.y() - top) / (bottom - top)
    h, w = oriented.shape
    assert abs(fx - (ox + 0.5) / w) < 0.02 and abs(fy - (oy + 0.5) / h) < 0.02
    assert rect.width() > 0
