"""Convert a model folder's Keras weights to LiteRT (``model.tflite``) and record it in the card.

A classifier's converted model has one signature, ``serve``, with three outputs: ``probabilities``,
``features`` (the pooled features the OOD gate reads, layer ``gap``) and ``feature_map`` (the
Grad-CAM layer's output). The head after the pooling (Dense -> ReLU -> Dense -> softmax) is also
saved as ``head.npz``, so Grad-CAM can be computed in numpy without autodiff
(:mod:`cxviewer.model.head_gradcam`). A lung segmenter's model has one output, ``lungs``.

Float32, no optimisation (no quantisation): the LiteRT path must give TensorFlow's answers.
Imports TensorFlow; only the ``export-model`` command and training call it.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from cxviewer.files.atomic import atomic_write_bytes
from cxviewer.model.card import ModelCard, ModelCardError, load_card, save_card

TFLITE_FILE = "model.tflite"
HEAD_FILE = "head.npz"
SIGNATURE = "serve"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _keras_model(card: ModelCard):
    if card.kind == "segmentation":
        from cxviewer.model.lung_unet import ARCHITECTURE, build_lung_unet

        if card.architecture != ARCHITECTURE:
            raise ModelCardError(f"{card.title}: unknown segmentation architecture {card.architecture!r}")
        model = build_lung_unet(card.input_size)
    else:
        from cxviewer.model.network import BUILDERS

        if card.architecture not in BUILDERS:
            raise ModelCardError(f"{card.title}: unknown architecture {card.architecture!r}")
        model = BUILDERS[card.architecture](card.input_size, len(card.labels))
    model.load_weights(str(card.weights_path))
    return model


def head_layers(model, gradcam_layer: str):
    """The Dense layers after ``gap``, checked to be the head the numpy Grad-CAM is exact for:
    the Grad-CAM layer feeds ``gap``, then Dense(ReLU) [-> Dropout] -> Dense(softmax)."""
    gap = model.get_layer("gap")
    if gap.input is not model.get_layer(gradcam_layer).output:
        raise ModelCardError(f"the Grad-CAM layer {gradcam_layer!r} does not feed the pooling layer 'gap'")
    after = model.layers[model.layers.index(gap) + 1:]
    dense = [layer for layer in after if type(layer).__name__ == "Dense"]
    others = [layer for layer in after if type(layer).__name__ not in ("Dense", "Dropout")]
    acts = [layer.get_config()["activation"] for layer in dense]
    if others or len(dense) != 2 or acts != ["relu", "softmax"]:
        raise ModelCardError(f"head after 'gap' is not Dense(relu) -> Dense(softmax): {[l.name for l in after]}")
    return dense


def _head_npz(dense) -> bytes:
    """The head's weights as an .npz written byte for byte the same every time (np.savez stamps the clock)."""
    (k1, b1), (k2, b2) = (layer.get_weights() for layer in dense)
    arrays = {"dense_kernel": k1, "dense_bias": b1, "out_kernel": k2, "out_bias": b2}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(value, dtype=np.float32), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), member.getvalue())
    return buf.getvalue()


def convert(card: ModelCard) -> tuple[bytes, bytes | None, dict]:
    """(tflite bytes, head.npz bytes or None, output names) for a card's model."""
    import keras

    from cxviewer.model.runtime import import_tensorflow

    tf = import_tensorflow()
    model = _keras_model(card)
    size = card.input_size
    if card.kind == "segmentation":
        channels, head = 1, None
        outputs = {"lungs": "(N, S, S, 1) lung probability"}

        def serve(image):
            return {"lungs": model(image, training=False)}
    else:
        channels = 3
        dense = head_layers(model, card.gradcam_layer)
        head = _head_npz(dense)
        tap = keras.Model(model.inputs, [model.outputs[0], model.get_layer("gap").output,
                                         model.get_layer(card.gradcam_layer).output])
        outputs = {"probabilities": "(N, classes) softmax", "features": "(N, C) the 'gap' layer",
                   "feature_map": f"(N, h, w, C) the Grad-CAM layer {card.gradcam_layer!r}"}

        def serve(image):
            probs, feats, fmap = tap(image, training=False)
            return {"probabilities": probs, "features": feats, "feature_map": fmap}

    spec = tf.TensorSpec((None, size, size, channels), tf.float32, name="image")
    # Through a SavedModel: converting a concrete function straight from a Keras 3 model leaves its
    # variables unfrozen (a 66 kB file that answers NaN); Keras' own export archive tracks them.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cxviewer-export-") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(SIGNATURE, serve, input_signature=[spec])
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[SIGNATURE])
        converter.optimizations = []  # float32: the same answers as TensorFlow
        flat = converter.convert()
    return flat, head, outputs


def toolchain() -> str:
    """What made a converted file: the bytes depend on Keras (its export archive) as well as TensorFlow."""
    import keras
    import tensorflow as tf

    return f"tf.lite.TFLiteConverter, TensorFlow {tf.__version__}, Keras {keras.__version__}"


def export_model(model_dir: str | Path) -> dict:
    """Write ``model.tflite`` (and a classifier's ``head.npz``) into ``model_dir`` and record both in its card."""
    card = load_card(model_dir)
    if not card.has_keras_weights:
        raise ModelCardError(f"{card.title}: its Keras weights {card.weights_path.name} are not here, nothing to convert")
    flat, head, outputs = convert(card)
    directory = Path(model_dir)
    atomic_write_bytes(directory / TFLITE_FILE, flat, private=False)
    entry = {
        "file": TFLITE_FILE,
        "sha256": sha256(directory / TFLITE_FILE),
        "precision": "float32",
        "outputs": outputs,
        "converted_with": toolchain(),
        "command": f"cxviewer export-model models/{directory.resolve().name}",
    }
    if head is not None:
        atomic_write_bytes(directory / HEAD_FILE, head, private=False)
        entry["head_file"] = HEAD_FILE
        entry["head_sha256"] = sha256(directory / HEAD_FILE)
    data = dict(card.data)
    data["litert"] = entry
    save_card(directory, data)
    return entry
