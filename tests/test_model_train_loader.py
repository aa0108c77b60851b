"""The training loader skips unreadable films with a logged reason instead of ending the run."""

import shutil

import cv2
import numpy as np

from cxviewer.training.dataset import read_manifest
from cxviewer.training.train import load_readable, view_balanced_weights, view_group


def test_unreadable_and_tiny_films_are_skipped_with_a_reason(tmp_path, shared_dir):
    src = shared_dir / "data/cxr"
    rows = (src / "manifest.csv").read_text(encoding="utf-8").splitlines()
    header, first, second = rows[0], rows[1], rows[2]
    (tmp_path / "images/covid").mkdir(parents=True)
    good = first.split(",")[0]
    shutil.copy(src / good, tmp_path / good)
    broken = second.split(",")[0]
    (tmp_path / broken).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    tiny = "images/covid/tiny.jpg"
    cv2.imwrite(str(tmp_path / tiny), np.zeros((8, 8), np.uint8))
    (tmp_path / "manifest.csv").write_text(
        "\n".join([header, first, second, tiny + first[len(good):]]) + "\n", encoding="utf-8")
    messages = []
    kept, images = load_readable(read_manifest(tmp_path), messages.append)
    assert [s.path.name for s in kept] == [(tmp_path / good).name]
    assert images[0].shape == cv2.imread(str(src / good), cv2.IMREAD_GRAYSCALE).shape
    assert len(messages) == 2
    assert any(broken.split("/")[-1] in m and "unreadable" in m for m in messages)
    assert any("tiny.jpg" in m and "too small" in m for m in messages)


def test_view_weights_give_ap_and_pa_equal_weight_within_each_class():
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    views = [None, "AP", "PA", "AP", "AP", "AP", "PA", "AP Supine", "PA", "PA"]
    assert [view_group(v or "") for v in views] == [None, "AP", "PA", "AP", "AP", "AP", "PA", "AP", "PA", "PA"]
    w = view_balanced_weights(labels, [view_group(v or "") for v in views], 3)
    for k in range(3):
        ap = [i for i in range(10) if labels[i] == k and view_group(views[i] or "") == "AP"]
        pa = [i for i in range(10) if labels[i] == k and view_group(views[i] or "") == "PA"]
        assert np.isclose(w[ap].sum(), w[pa].sum())
    # each class keeps its balanced total weight
    totals = [w[labels == k].sum() for k in range(3)]
    assert np.allclose(totals, totals[0])
