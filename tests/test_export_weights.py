"""export_inference_weights (the v3 card's reproduction command calls it): a training checkpoint, optimizer
state and all, becomes the network's own weights, which load into a fresh network and give the same answers."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # builds and trains DenseNet121 once in TensorFlow: about a minute on 2 cores

h5py = pytest.importorskip("h5py")
pytest.importorskip("keras")

INPUT = 32  # the smallest input DenseNet121 takes: the same layers as the bundled model, cheap to run


def _groups(path) -> set[str]:
    with h5py.File(path, "r") as fh:
        return set(fh.keys())


def test_a_checkpoint_is_stripped_to_inference_weights(tmp_path):
    import keras

    from cxviewer.model.network import build_cxnet
    from cxviewer.model.runtime import import_tensorflow
    from cxviewer.training.export_weights import export_inference_weights

    import_tensorflow()
    keras.utils.set_random_seed(7)
    model = build_cxnet(INPUT, 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    films = np.random.default_rng(7).uniform(0, 1, (2, INPUT, INPUT, 3)).astype("float32")
    model.train_on_batch(films, np.eye(3, dtype="float32")[[0, 2]])  # the optimizer now has its moments
    checkpoint = tmp_path / "epoch_001.weights.h5"
    model.save_weights(str(checkpoint))
    assert "optimizer" in _groups(checkpoint)

    out = export_inference_weights(checkpoint, tmp_path / "bundle" / "weights.weights.h5", INPUT)
    assert "optimizer" not in _groups(out)
    assert out.stat().st_size < checkpoint.stat().st_size
    assert not list(out.parent.glob(".*.tmp*"))  # the atomic writer's temp file is gone

    fresh = build_cxnet(INPUT, 3)
    fresh.load_weights(str(out))
    np.testing.assert_allclose(fresh.predict(films, verbose=0), model.predict(films, verbose=0), rtol=1e-5, atol=1e-6)
