"""Weight averaging ("model soup") of fine-tuned checkpoints of one network, with BatchNorm statistics
re-estimated on training films.

Averaging the weights of checkpoints fine-tuned from the same starting point (epochs of one run, or runs
that differ in one option) lands in a flatter region of the loss and is known to hold up better under a
change of source than any single checkpoint (Izmailov et al. 2018, SWA; Cha et al. 2021, SWAD, for domain
generalisation; Wortsman et al. 2022, model soups, for distribution shift). The averaged network's
BatchNorm moving statistics belong to none of the members, so they are measured again by running the
averaged network over unaugmented training films in training mode. Nothing here looks at other sources.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BN_BATCH = 16
BN_BATCHES = 60


def average_weights(model, weight_files: list[str | Path]) -> None:
    """Load the mean of the checkpoints' weights into ``model`` (built with the same architecture)."""
    total = None
    for path in weight_files:
        model.load_weights(str(path))
        values = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
        total = values if total is None else [t + v for t, v in zip(total, values)]
    model.set_weights([(t / len(weight_files)).astype(np.float32) for t in total])


def reestimate_batchnorm(model, tensors: np.ndarray, seed: int = 0, batches: int = BN_BATCHES) -> None:
    """Measure every BatchNorm layer's moving mean and variance again for the current weights.

    The moving statistics are reset and the network runs forward in training mode over random batches of
    ``tensors`` (prepared, unaugmented training inputs); with the layers' momentum the estimates converge
    within a few dozen batches. Trainable weights are not touched (no gradient is taken).
    """
    import keras

    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in bns]
    for layer in bns:
        layer.momentum = 0.9
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    rng = np.random.default_rng(seed)
    try:
        for _ in range(batches):
            idx = rng.choice(len(tensors), size=min(BN_BATCH, len(tensors)), replace=False)
            model(tensors[idx], training=True)
    finally:
        for layer, m in zip(bns, saved):
            layer.momentum = m


def make_soup(weight_files: list[str | Path], input_size: int, n_classes: int, bn_tensors: np.ndarray):
    """A fresh network holding the averaged weights with re-estimated BatchNorm statistics."""
    from cxviewer.model.network import build_cxnet
    from cxviewer.model.runtime import import_tensorflow

    import_tensorflow()
    model = build_cxnet(input_size, n_classes)
    average_weights(model, weight_files)
    reestimate_batchnorm(model, bn_tensors)
    return model
