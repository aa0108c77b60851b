"""Strip a training checkpoint down to the network's own weights (no optimizer state) for bundling."""

from __future__ import annotations

from pathlib import Path


def export_inference_weights(src: str | Path, dst: str | Path, input_size: int, n_classes: int = 3) -> Path:
    from cxviewer.model.network import build_cxnet
    from cxviewer.model.runtime import import_tensorflow

    import_tensorflow()
    model = build_cxnet(input_size, n_classes)  # never compiled: no optimizer variables to save
    model.load_weights(str(src))
    dst = Path(dst)
    tmp = dst.with_name(dst.stem + ".tmp.weights.h5")
    model.save_weights(str(tmp))
    tmp.replace(dst)
    return dst
