"""Strip a training checkpoint down to the network's own weights (no optimizer state) for bundling."""

from __future__ import annotations

from pathlib import Path

from cxviewer.files.atomic import atomic_write_with


def export_inference_weights(src: str | Path, dst: str | Path, input_size: int, n_classes: int = 3) -> Path:
    from cxviewer.model.network import build_cxnet
    from cxviewer.model.runtime import import_tensorflow

    import_tensorflow()
    model = build_cxnet(input_size, n_classes)  # never compiled: no optimizer variables to save
    model.load_weights(str(src))
    # Keras insists on a name ending in .weights.h5, so the temp file gets that suffix
    return atomic_write_with(dst, lambda temp: model.save_weights(str(temp)), private=False, suffix=".tmp.weights.h5")
