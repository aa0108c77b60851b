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

BN_BATCH = 32
BN_BATCHES = 30


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

    The network runs forward in training mode over batches of ``tensors`` (prepared, unaugmented training
    inputs) with each layer's momentum set to t / (t + 1) for the t-th batch, so the moving statistics end as
    the plain average over all batches (what PyTorch's cumulative BatchNorm update does). Training's own
    moving statistics (momentum 0.9, batches of 8) reflect only the last ~80 augmented films, whatever
    classes they were, and move the validation figures from one epoch to the next. Trainable weights are not
    touched (no gradient is taken).
    """
    import keras

    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in bns]
    for layer in bns:
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    order = np.random.default_rng(seed).permutation(len(tensors))
    size = min(BN_BATCH, len(tensors))
    try:
        for t in range(batches):
            for layer in bns:
                layer.momentum = t / (t + 1.0)
            idx = order[(t * size) % len(order):][:size]
            if len(idx) < size:
                idx = np.concatenate([idx, order[: size - len(idx)]])
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
