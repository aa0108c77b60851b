"""The LiteRT path: converted models match their cards' checksums and TensorFlow's answers (probabilities
within 1e-4, Grad-CAM maps correlated >= 0.999), the runtime choice, and the numpy Grad-CAM itself.

Tests that need a converted model skip with the command that makes it when ``model.tflite`` is missing.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cxviewer.model import available_models, load_card
from cxviewer.model.card import ModelCardError

CLASSIFIERS = available_models()
SEGMENTERS = available_models("segmentation")
ALL = CLASSIFIERS + SEGMENTERS
PARITY_FILMS = ("RG1_UNCR.dcm", "RG2_JPLL.dcm", "RG3_J2KI.dcm", "CR-MONO1-10-chest.dcm")


def _converted(card) -> bool:
    from cxviewer.model.litert_network import tflite_path

    return tflite_path(card) is not None


def _needs_converted(card):
    if not _converted(card):
        pytest.skip(f"{card.name} has no model.tflite yet: run `cxviewer export-model {card.directory}`")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert has no wheel for this platform")


@pytest.mark.parametrize("card", ALL, ids=[c.name for c in ALL])
def test_card_records_the_converted_files_with_their_checksums(card):
    from cxviewer.training.litert_export import sha256

    _needs_converted(card)
    entry = card.data["litert"]
    assert entry["precision"] == "float32"
    assert sha256(card.directory / entry["file"]) == entry["sha256"]
    if card.kind == "classifier":
        assert sha256(card.directory / entry["head_file"]) == entry["head_sha256"]
        assert set(entry["outputs"]) == {"probabilities", "features", "feature_map"}
    else:
        assert set(entry["outputs"]) == {"lungs"}


def test_export_is_deterministic_and_records_itself_in_the_card(tmp_path):
    """Converting the lung segmenter (a copy of its folder) gives the bytes its card records when the same
    TensorFlow and Keras made them (else: the same bytes twice; the bundled cards name TensorFlow only, and
    the same TensorFlow with a newer Keras writes other bytes), and the card names the file with its checksum."""
    if not SEGMENTERS:
        pytest.skip("no lung segmenter is installed")
    pytest.importorskip("tensorflow")
    from cxviewer.training.litert_export import TFLITE_FILE, export_model, sha256, toolchain

    src = SEGMENTERS[0]
    folder = tmp_path / src.directory.name
    folder.mkdir()
    shutil.copy(src.weights_path, folder / src.weights_path.name)
    data = {k: v for k, v in src.data.items() if k != "litert"}
    (folder / "card.json").write_text(json.dumps(data), encoding="utf-8")
    first = export_model(folder)
    digest = sha256(folder / TFLITE_FILE)
    card = load_card(folder)
    assert card.data["litert"]["sha256"] == digest == first["sha256"] and card.data["litert"]["file"] == TFLITE_FILE
    assert card.data["name"] == src.name and card.data["metrics"] == src.data["metrics"]  # the rest is kept
    bundled = src.data.get("litert")
    assert card.data["litert"]["converted_with"] == toolchain()
    if bundled and bundled["converted_with"] == toolchain():
        assert bundled["sha256"] == digest  # the bundled file, made by export-model with this toolchain
    else:  # nothing to compare with: convert again
        assert export_model(folder)["sha256"] == digest


# ------------------------------------------------------------------------------------- runtime choice


def _card_without_tflite(tmp_path):
    if not CLASSIFIERS:
        pytest.skip("no classifier is installed")
    src = CLASSIFIERS[0]
    folder = tmp_path / "plain"
    folder.mkdir()
    shutil.copy(src.weights_path, folder / src.weights_path.name)
    data = {k: v for k, v in src.data.items() if k != "litert"}
    (folder / "card.json").write_text(json.dumps(data), encoding="utf-8")
    return load_card(folder)


def test_runtime_choice(tmp_path, monkeypatch):
    from cxviewer.model import runtime

    monkeypatch.delenv(runtime.RUNTIME_ENV, raising=False)
    plain = _card_without_tflite(tmp_path)
    assert runtime.resolve_runtime(plain, "auto") == "tensorflow"  # no converted model: TensorFlow
    assert runtime.resolve_runtime(plain, "tensorflow") == "tensorflow"
    with pytest.raises(ModelCardError, match="export-model"):
        runtime.resolve_runtime(plain, "litert")
    with pytest.raises(ModelCardError, match="unknown runtime"):
        runtime.resolve_runtime(plain, "onnx")
    converted = [c for c in CLASSIFIERS if _converted(c)]
    if not converted:
        return
    card = converted[0]
    monkeypatch.setattr(runtime, "cuda_gpu_usable", lambda: False)
    expected = "litert" if runtime.litert_importable() else "tensorflow"
    assert runtime.resolve_runtime(card) == expected
    monkeypatch.setenv(runtime.RUNTIME_ENV, "tensorflow")
    assert runtime.resolve_runtime(card) == "tensorflow"
    monkeypatch.delenv(runtime.RUNTIME_ENV)
    monkeypatch.setattr(runtime, "cuda_gpu_usable", lambda: True)  # a usable CUDA GPU: TensorFlow runs it
    assert runtime.resolve_runtime(card, "auto") == "tensorflow"
    assert runtime.resolve_runtime(card, "litert") == expected or not runtime.litert_importable()
    monkeypatch.setattr(runtime, "litert_importable", lambda: False)  # no LiteRT wheel here: auto falls back
    monkeypatch.setattr(runtime, "cuda_gpu_usable", lambda: False)
    assert runtime.resolve_runtime(card, "auto") == "tensorflow"
    with pytest.raises(ModelCardError, match="not installed"):
        runtime.resolve_runtime(card, "litert")


def test_no_gpu_is_seen_on_a_machine_without_an_nvidia_driver():
    from pathlib import Path

    from cxviewer.model.runtime import cuda_gpu_usable

    if Path("/proc/driver/nvidia/gpus").is_dir():
        pytest.skip("this machine has an NVIDIA driver")
    assert cuda_gpu_usable() is False


def test_a_model_folder_without_keras_weights_runs_on_litert_and_refuses_tensorflow(tmp_path, monkeypatch, dicom_dir):
    """The CPU desktop bundle ships model.tflite and head.npz without *.weights.h5: the card still loads,
    the model gives the same answer on LiteRT, and asking for TensorFlow says why it cannot."""
    from cxviewer.imaging import read_radiograph
    from cxviewer.model import runtime
    from cxviewer.model.classifier import Classifier
    from cxviewer.model.inputs import model_image

    src = next((c for c in CLASSIFIERS if _converted(c)), None)
    if src is None:
        pytest.skip("no converted classifier is installed")
    _needs_converted(src)
    folder = tmp_path / src.directory.name
    shutil.copytree(src.directory, folder, ignore=shutil.ignore_patterns("*.weights.h5", "checkpoints"))
    card = load_card(folder)
    assert not card.has_keras_weights and card.litert_path == folder / "model.tflite"
    monkeypatch.delenv(runtime.RUNTIME_ENV, raising=False)
    monkeypatch.setattr(runtime, "cuda_gpu_usable", lambda: True)  # even with a GPU: nothing for TensorFlow to load
    assert runtime.resolve_runtime(card, "auto") == "litert"
    expected = "Keras weights weights.weights.h5 are not installed" if runtime.tensorflow_importable() else "TensorFlow is not installed"
    with pytest.raises(ModelCardError, match=expected):
        runtime.resolve_runtime(card, "tensorflow")
    image = model_image(read_radiograph(dicom_dir / PARITY_FILMS[0]))
    alone, bundled = Classifier(card, "litert").predict(image), Classifier(src, "litert").predict(image)
    assert alone.runtime == "litert" and alone.label == bundled.label
    np.testing.assert_array_equal(alone.probabilities, bundled.probabilities)
    np.testing.assert_array_equal(alone.heatmap, bundled.heatmap)
    for f in folder.glob("model.tflite"):
        f.unlink()  # neither runtime has anything to run: the card is refused
    with pytest.raises(ModelCardError, match="missing"):
        load_card(folder)


# --------------------------------------------------------------------------- numpy Grad-CAM by itself


def test_head_gradcam_matches_autodiff_on_random_feature_maps():
    """The closed-form gradient through gap -> Dense -> ReLU -> Dense -> softmax against TensorFlow's tape."""
    tf = pytest.importorskip("tensorflow")
    from cxviewer.model.head_gradcam import Head

    rng = np.random.default_rng(7)
    c, hidden, k = 64, 10, 3
    head = Head(rng.normal(size=(c, hidden)) * 0.3, rng.normal(size=hidden) * 0.1,
                rng.normal(size=(hidden, k)), rng.normal(size=k) * 0.1)
    fmap = np.maximum(rng.normal(size=(4, 7, 7, c)), 0).astype(np.float32)
    x = tf.constant(fmap)
    with tf.GradientTape() as tape:
        tape.watch(x)
        pooled = tf.reduce_mean(x, axis=(1, 2))
        act = tf.nn.relu(pooled @ tf.constant(head.dense_kernel, tf.float32) + tf.constant(head.dense_bias, tf.float32))
        probs = tf.nn.softmax(act @ tf.constant(head.out_kernel, tf.float32) + tf.constant(head.out_bias, tf.float32))
        score = tf.gather(probs, tf.argmax(probs, axis=-1), axis=-1, batch_dims=1)
    grads = tape.gradient(score, x)
    weights = tf.reduce_mean(tf.nn.relu(grads), axis=(1, 2), keepdims=True)
    expected = tf.nn.relu(tf.reduce_sum(weights * x, axis=-1)).numpy()
    got = head.cams(fmap)
    assert got.shape == expected.shape == (4, 7, 7)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7 * float(expected.max()))


# ----------------------------------------------------------------------------- parity with TensorFlow


def _films(dicom_dir, shared_dir):
    import cv2

    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    images = [model_image(read_radiograph(dicom_dir / name)) for name in PARITY_FILMS if (dicom_dir / name).is_file()]
    for label in ("covid", "pneumonia", "normal"):
        path = sorted((shared_dir / "data" / "cxr" / "images" / label).glob("*.jpg"))[len(images)]
        images.append(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
    return images


@pytest.fixture(scope="module", params=CLASSIFIERS, ids=[c.name for c in CLASSIFIERS])
def both_runtimes(request):
    from cxviewer.model.classifier import Classifier

    card = request.param
    _needs_converted(card)
    pytest.importorskip("tensorflow")
    for seg in SEGMENTERS:
        _needs_converted(seg)
    return Classifier(card, "litert"), Classifier(card, "tensorflow")


def test_litert_gives_tensorflows_probabilities_features_and_gradcam(both_runtimes, dicom_dir, shared_dir):
    lite, tf = both_runtimes
    assert (lite.runtime, tf.runtime) == ("litert", "tensorflow")
    assert lite.device.startswith("CPU (XNNPACK")
    images = _films(dicom_dir, shared_dir)
    assert len(images) >= 6
    for image in images:
        a = lite.predict(image, gradcam=True, outline=False)
        b = tf.predict(image, gradcam=True, outline=False)
        assert a.runtime == "litert" and b.runtime == "tensorflow"
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-4)
        assert a.label == b.label
        if b.ood_score is not None:
            assert a.ood_score == pytest.approx(b.ood_score, rel=1e-3, abs=1e-3)
            assert a.scope_reason == b.scope_reason
        assert a.input_box == b.input_box and a.lung_crop == b.lung_crop
        assert a.heatmap.shape == b.heatmap.shape == image.shape
        if float(b.heatmap.max()) == 0.0:  # no positive evidence: both must say so
            assert float(a.heatmap.max()) == 0.0
            continue
        r = np.corrcoef(a.heatmap.ravel(), b.heatmap.ravel())[0, 1]
        assert r >= 0.999, f"Grad-CAM correlation {r:.5f}"


def test_litert_batches_agree_with_single_images(both_runtimes, dicom_dir, shared_dir):
    lite, tf = both_runtimes
    images = _films(dicom_dir, shared_dir)
    batched = lite.predict_batch(images)
    for image, p in zip(images, batched):
        single = lite.predict(image, gradcam=False, outline=False)
        np.testing.assert_allclose(p.probabilities, single.probabilities, atol=1e-5)
        assert p.lung_crop == single.lung_crop
    ref = tf.predict_batch(images)
    np.testing.assert_allclose([p.probabilities for p in batched], [p.probabilities for p in ref], atol=1e-4)


def test_lung_segmenter_parity(dicom_dir, shared_dir):
    if not SEGMENTERS:
        pytest.skip("no lung segmenter is installed")
    _needs_converted(SEGMENTERS[0])
    pytest.importorskip("tensorflow")
    from cxviewer.model.segmenter import LungSegmenter

    images = _films(dicom_dir, shared_dir)
    lite = LungSegmenter(SEGMENTERS[0], "litert")
    tf = LungSegmenter(SEGMENTERS[0], "tensorflow")
    np.testing.assert_allclose(lite.probabilities(images), tf.probabilities(images), atol=1e-4)
    assert [r.box for r in lite.segment_many(images)] == [r.box for r in tf.segment_many(images)]
