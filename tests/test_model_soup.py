"""Weight averaging of checkpoints and the BatchNorm statistics measured again for the average (training/soup.py)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")


def tiny(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def test_average_is_the_mean_of_the_checkpoints(tmp_path):
    from cxviewer.training.soup import average_weights

    files, weights = [], []
    for seed in (1, 2, 3):
        m = tiny(seed)
        path = tmp_path / f"m{seed}.weights.h5"
        m.save_weights(str(path))
        files.append(path)
        weights.append(m.get_weights())
    soup = tiny(9)
    average_weights(soup, files)
    for got, *members in zip(soup.get_weights(), *weights):
        np.testing.assert_allclose(got, np.mean(members, axis=0), rtol=1e-6, atol=1e-7)


def test_batchnorm_statistics_are_measured_for_the_averaged_weights():
    from cxviewer.training.soup import reestimate_batchnorm

    model = tiny(4)
    rng = np.random.default_rng(0)
    data = (rng.normal(3.0, 2.0, (256, 8, 8, 2))).astype(np.float32)
    conv = keras.Model(model.inputs, model.get_layer("conv").output)
    feats = conv(data).numpy()
    bn = model.get_layer("bn")
    kernel_before = [w.copy() for w in model.get_layer("conv").get_weights()]
    reestimate_batchnorm(model, data, batches=8)
    np.testing.assert_allclose(bn.moving_mean.numpy(), feats.mean(axis=(0, 1, 2)), rtol=0.1, atol=0.05)
    np.testing.assert_allclose(bn.moving_variance.numpy(), feats.var(axis=(0, 1, 2)), rtol=0.25)
    for a, b in zip(kernel_before, model.get_layer("conv").get_weights()):
        np.testing.assert_array_equal(a, b)  # no weight moved
