"""The one small interface through which the app, the CLI and the scan reach the model."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from cxviewer.class_names import display_name
from cxviewer.model.calibration import UNCERTAIN
from cxviewer.model.card import ModelCard, ModelCardError, load_card
from cxviewer.model.gradcam import normalise
from cxviewer.model.helper_thread import beside
from cxviewer.model.inputs import InputRecipe
from cxviewer.model.prediction import Prediction
from cxviewer.model.runtime import ClassifierNetwork

DEFAULT_LUNG_MODEL = "lung-unet"
FILM_CHECK_REASON = ("the model's film check fired: a rule trained to tell whole upright frontal films from "
                     "upside-down films and central cuts scores this film on the wrong side (it measures how the "
                     "film looks to the model, not what is on it); the model's output may not apply")


class Classifier:
    """A model described by its card, run by LiteRT or TensorFlow (``runtime``). Build with :func:`load_classifier`."""

    def __init__(self, card: ModelCard, runtime: str | None = None):
        from cxviewer.model.runtime import resolve_runtime

        if card.kind != "classifier":
            raise ModelCardError(f"{card.directory} holds a {card.kind} model ({card.name}), not a classifier: "
                                 "choose a classifier's folder")
        self.card = card
        self.runtime = resolve_runtime(card, runtime)
        self._net: ClassifierNetwork
        if self.runtime == "litert":
            from cxviewer.model.litert_network import LiteRTClassifierNetwork

            self._net = LiteRTClassifierNetwork(card)
        else:
            from cxviewer.model.tf_network import TFClassifierNetwork

            self._net = TFClassifierNetwork(card)
        self.device = self._net.device
        # TensorFlow on the CPU runs best in chunks of about one image per core; LiteRT's threads share one image
        self.chunk = cpu_chunk() if self.device == "CPU" else None
        self.gate = None
        ood = card.data.get("ood")
        if ood:
            from cxviewer.model.ood import OodGate

            self.gate = OodGate.load(card.directory / ood["file"])
        self.film_check = None
        if ood and ood.get("film_check_file"):
            from cxviewer.model.film_check import FilmCheck

            self.film_check = FilmCheck.load(card.directory / ood["film_check_file"])
        from cxviewer.model.calibration import Calibration

        self.calibration = Calibration.from_card(card.data.get("calibration"))
        if self.calibration is not None:
            try:  # a per-class rule must name every label: said when the model is loaded, not on each film
                self.calibration.thresholds(card.labels)
            except ValueError as exc:
                raise ModelCardError(f"{card.title}: {exc}") from exc
        self._runtime_asked = runtime
        self.crops, self._segmenter = _lung_segmenter(card, runtime)
        self._outline_tried = self.crops  # a cropping model's segmenter is loaded (and required) up front

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def _display(self, label: str) -> str:
        return display_name(label, self.card.display_names)

    @property
    def segmenter(self):
        """The lung segmenter: a cropping model's own; for any other model the bundled one, loaded the first
        time an outline is asked for (the CLI, the scan and evaluation never pay for it); None without one."""
        if not self._outline_tried:
            self._outline_tried = True
            self._segmenter = _outline_segmenter(self._runtime_asked)
        return self._segmenter

    @property
    def recipe(self) -> InputRecipe:
        """How a display image becomes this model's input (the one recipe, shared with the scan's decoders)."""
        return InputRecipe.of_card(self.card, self.segmenter.size if self.crops else None)

    def prepare(self, image_u8: np.ndarray):
        """Display image -> (model input, geometry); a cropping model first cuts the film to its lungs."""
        tensor, geometry, _ = self.prepare_with_lungs(image_u8, segment=self.crops)
        return tensor, geometry

    def prepare_with_lungs(self, image_u8: np.ndarray, segment: bool = True):
        """(model input, geometry, LungResult or None). ``segment`` runs the lung segmenter when there is one."""
        seg = self.segmenter if segment else None
        lungs = seg.segment(image_u8) if seg is not None else None
        tensor, geometry = self.prepare_segmented(image_u8, lungs)
        return tensor, geometry, lungs

    def prepare_segmented(self, image_u8: np.ndarray, lungs):
        """(model input, geometry) for an image whose lungs were already found (``lungs`` may be None:
        a cropping model then sees the whole film and says so). Thread-safe: OpenCV and numpy only."""
        box = lungs.box if (self.crops and lungs is not None) else None
        recipe = self.recipe  # made from the card on each access: once per film
        window = None
        if box is not None and recipe.mask_outside_lungs:
            y0, x0, y1, x1 = box
            window = lungs.mask[y0:y1, x0:x1]
        tensor, geometry = recipe.prepare(image_u8, crop=box, lung_mask=window)
        if self.crops:  # a box may be clipped to the whole film: whether lungs were found is recorded, not inferred
            geometry = dataclasses.replace(geometry, lungs_found=box is not None)
        return tensor, geometry

    def _crop_state(self, geometry) -> tuple[tuple | None, str | None]:
        if not self.crops or geometry.lungs_found is None:
            return None, None
        if not geometry.lungs_found:
            return None, "lungs not found"
        return tuple(geometry.crop), "applied"

    def _prediction(self, probs, elapsed_ms: float, heatmap=None, features=None, **extra) -> Prediction:
        score = None
        if self.gate is not None and features is not None:
            score = float(self.gate.score(features)[0])
        if self.film_check is not None and self.gate is not None and features is not None and "scope_reason" not in extra:
            if bool(self.film_check.refuses(self.gate.project(features))[0]):
                extra["scope_reason"] = FILM_CHECK_REASON
        if self.calibration is not None:
            probs = self.calibration.apply(probs)
            call = self.calibration.call(self.labels, probs)
            extra.update(calibrated=True, call=call)
            if call == UNCERTAIN:
                extra["call_note"] = self.calibration.why_no_call(self.labels, probs, display=self._display) or None
        return Prediction(
            labels=self.labels,
            probabilities=tuple(float(p) for p in probs),
            model_name=self.card.name,
            model_version=self.card.version,
            elapsed_ms=elapsed_ms,
            device=self.device,
            runtime=self.runtime,
            display_names=self.card.display_names,
            heatmap=heatmap,
            ood_score=score,
            ood_threshold=None if self.gate is None else self.gate.threshold,
            **extra,
        )

    def predict(self, image_u8: np.ndarray, gradcam: bool = True, outline: bool = True) -> Prediction:
        """Classify one display image; with ``gradcam`` the map comes back on the image's own pixel grid, with
        ``outline`` the lung mask too (a cropping model always segments; for others it costs one more network).
        The mask comes with the map as well, when there is one (the map's share inside the lungs is measured on
        it); without either, nobody draws or measures it, and it is not made."""
        start = time.perf_counter()
        seg = self.segmenter if (outline or self.crops) else None
        # after the network the full-size mask is made on the helper thread (the second core) while this thread
        # draws the map: single-threaded OpenCV work, which lets the interpreter lock go (the network itself keeps
        # both cores busy)
        lungs = seg.segment(image_u8) if seg is not None else None
        tensor, geometry = self.prepare_segmented(image_u8, lungs)
        batch = tensor[np.newaxis]
        if gradcam:
            probs, cam, feats = (None if t is None else t[0] for t in self._net.explain(batch))
        else:
            probs, feats = (t[0] for t in self._net.forward(batch))
            cam = None
        mask = beside(lambda: lungs.mask) if lungs is not None and (outline or gradcam) else None
        heatmap = map_on_film(cam, geometry) if cam is not None else None
        lung_mask = mask.result() if mask is not None else None
        box, crop = self._crop_state(geometry)
        return self._prediction(
            probs, (time.perf_counter() - start) * 1000.0, heatmap, feats,
            lung_mask=lung_mask, input_box=box, lung_crop=crop,
        )

    def refuse(self, reason: str) -> Prediction:
        """The answer for an input the header or pixels already rule out (a CT slice, a hand film...):
        no probabilities, the reason instead; the network is not run."""
        return Prediction(
            labels=self.labels, probabilities=tuple(float("nan") for _ in self.labels), model_name=self.card.name,
            model_version=self.card.version, elapsed_ms=0.0, device=self.device, scope_reason=reason,
            runtime=self.runtime, display_names=self.card.display_names,
        )

    def predict_radiograph(self, rad, gradcam: bool = True, outline: bool = True) -> Prediction:
        """Classify a read radiograph: first the header/pixel scope check the batch scan uses, then the model."""
        from cxviewer.model.inputs import model_image
        from cxviewer.model.scope import scope_problem

        reason = scope_problem(rad)
        return self.refuse(reason) if reason else self.predict(model_image(rad), gradcam=gradcam, outline=outline)

    def _run_forward(self, tensors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network on (N, S, S, 3) inputs; on the CPU in chunks of ``self.chunk`` images."""
        x = np.ascontiguousarray(tensors, dtype=np.float32)
        step = self.chunk or len(x)
        if len(x) <= step:
            return self._net.forward(x)
        parts = [self._net.forward(x[i:i + step]) for i in range(0, len(x), step)]
        return np.concatenate([p for p, _ in parts]), np.concatenate([f for _, f in parts])

    def predict_prepared(self, tensors: np.ndarray, geometries=None) -> list[Prediction]:
        """Predictions (with the gate's score) for inputs already made by :meth:`prepare`; pass their
        ``geometries`` to have each say whether its lung crop was found."""
        start = time.perf_counter()
        probs, feats = self._run_forward(tensors)
        share = (time.perf_counter() - start) * 1000.0 / max(1, len(probs))
        geometries = geometries if geometries is not None else [None] * len(probs)
        out = []
        for p, f, g in zip(probs, feats, geometries):
            box, crop = self._crop_state(g) if g is not None else (None, None)
            out.append(self._prediction(p, share, features=f[np.newaxis], input_box=box, lung_crop=crop))
        return out

    def predict_batch(self, images: list[np.ndarray]) -> list[Prediction]:
        """Batched classification without Grad-CAM (batch scan); ``elapsed_ms`` is the per-image share.
        A cropping model segments the whole batch in one run of the segmenter."""
        if not images:
            return []
        lungs = self._segmenter.segment_many(images) if self.crops else [None] * len(images)
        prepared = [self.prepare_segmented(img, seg) for img, seg in zip(images, lungs)]
        return self.predict_prepared(np.stack([t for t, _ in prepared]), [g for _, g in prepared])


def map_on_film(cam: np.ndarray, geometry) -> np.ndarray:
    """A Grad-CAM map over the model input -> float32 in [0, 1] on the film's own pixel grid (0 outside the crop)."""
    import cv2

    heatmap = geometry.to_source(normalise(cam))
    y0, x0, y1, x1 = geometry.crop
    # The linear resize of a map in [0, 1] has weights >= 0 that sum to 1 within a rounding, so it is never below 0
    # and at most a rounding above 1: cutting the crop's part at 1 is np.clip(0, 1), in place, in a quarter of the time
    region = heatmap[y0:y1, x0:x1]
    cut = cv2.threshold(region, 1.0, 1.0, cv2.THRESH_TRUNC, dst=region)[1]
    if cut.ctypes.data != region.ctypes.data:  # OpenCV made its own array after all
        region[...] = cut
    return heatmap


def _lung_segmenter(card: ModelCard, runtime: str | None = None):
    """(crops, segmenter). A model whose card asks for the lung crop needs its segmenter (an error if it is
    missing); any other model gets None here and borrows the bundled one later, for the lung outline."""
    from cxviewer.model.registry import find_model
    from cxviewer.model.segmenter import LungSegmenter

    crop = card.data.get("input", {}).get("crop")
    name = crop.get("segmentation_model") if isinstance(crop, dict) else None
    return (True, LungSegmenter(find_model(name, "segmentation"), runtime)) if name else (False, None)


def _outline_segmenter(runtime: str | None = None):
    from cxviewer.model.registry import find_model
    from cxviewer.model.segmenter import LungSegmenter

    try:
        return LungSegmenter(find_model(DEFAULT_LUNG_MODEL, "segmentation"), runtime)
    except ModelCardError:
        return None


def cpu_chunk() -> int:
    """Images per forward pass on the CPU: about one per core. On the 2-core test machine, with a
    training job competing for both cores, batches of 2 ran at 5.9 images/s and batches of 16 at
    3.8 (medians of 8 interleaved rounds); with the cores to itself the batch size made no clear
    difference (10-14 images/s for 1 to 16)."""
    return max(1, min(8, os.cpu_count() or 1))


def load_classifier(model_dir: str | Path | None = None, runtime: str | None = None) -> Classifier:
    """Load the model a card describes (``None``: the bundled default) on ``runtime`` (auto, litert or
    tensorflow; None: $CXVIEWER_RUNTIME, else auto). Only the TensorFlow runtime imports TensorFlow."""
    from cxviewer.model.registry import default_model_dir

    return Classifier(load_card(model_dir if model_dir is not None else default_model_dir()), runtime)
