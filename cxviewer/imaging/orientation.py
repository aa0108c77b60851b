"""Rotation and flips of the displayed image as a 2x2 signed permutation matrix (Qt-free maths).

Coordinates are image pixels with x = column to the right and y = row downwards (screen
convention), so ``ROTATE_CW`` turns the picture clockwise as the reader sees it. Flips act on
what is on screen, whatever the rotation: the new matrix is always ``op @ current``.
"""

from __future__ import annotations

import numpy as np

IDENTITY = np.array([[1, 0], [0, 1]])
ROTATE_CW = np.array([[0, -1], [1, 0]])
ROTATE_CCW = np.array([[0, 1], [-1, 0]])
FLIP_H = np.array([[-1, 0], [0, 1]])
FLIP_V = np.array([[1, 0], [0, -1]])

_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "H": "F", "F": "H"}


def opposite(direction: str) -> str:
    """Opposite patient direction of a DICOM orientation string ("LF" -> "RH")."""
    return "".join(_OPPOSITE.get(ch, ch) for ch in direction)


def rotation_degrees(m: np.ndarray) -> tuple[int, bool]:
    """(clockwise rotation in degrees, mirrored) that ``m`` represents; mirrored = flip then rotate."""
    mirrored = round(float(np.linalg.det(m))) < 0
    base = m @ FLIP_H if mirrored else m  # undo a horizontal flip applied first
    for deg, r in ((0, IDENTITY), (90, ROTATE_CW), (180, ROTATE_CW @ ROTATE_CW), (270, ROTATE_CCW)):
        if np.array_equal(base, r):
            return deg, mirrored
    raise ValueError(f"not a 90-degree orientation: {m.tolist()}")


def edge_labels(m: np.ndarray, row_direction: str, column_direction: str) -> dict[str, str]:
    """Patient directions shown at the screen edges.

    ``row_direction`` / ``column_direction`` are the two values of DICOM Patient Orientation
    (0020,0020): the patient direction of increasing column index and of increasing row index.
    Returns labels for "left", "right", "top", "bottom" of the screen.
    """
    inv = np.round(np.linalg.inv(m)).astype(int)

    def label(screen_vec: tuple[int, int]) -> str:
        vx, vy = inv @ np.array(screen_vec)
        if vx:
            return row_direction if vx > 0 else opposite(row_direction)
        return column_direction if vy > 0 else opposite(column_direction)

    return {"right": label((1, 0)), "left": label((-1, 0)),
            "bottom": label((0, 1)), "top": label((0, -1))}


def orient_array(arr: np.ndarray, m: np.ndarray | None) -> np.ndarray:
    """The 2-D array (rows = y) as it appears on screen under orientation ``m`` (for exports such as the PDF)."""
    if m is None:
        return arr
    (a, b), (c, d) = np.asarray(m).tolist()
    if b == 0 and c == 0:  # no quarter turn: flips only
        out = arr[:, ::-1] if a < 0 else arr
        return np.ascontiguousarray(out[::-1] if d < 0 else out)
    out = arr.T  # x' follows y and y' follows x
    out = out[::-1] if c < 0 else out
    return np.ascontiguousarray(out[:, ::-1] if b < 0 else out)
