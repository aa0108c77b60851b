"""The lung segmenter behind one small interface, like the classifier: loaded from its card, imports TensorFlow."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxviewer.model.card import ModelCard, ModelCardError, load_card
from cxviewer.model.lung_mask import clean_mask, crop_box, segmenter_input, to_source


@dataclass(frozen=True)
class LungResult:
    mask_small: np.ndarray  # uint8 0/1 at the segmenter's resolution, cleaned
    box: tuple[int, int, int, int] | None  # dilated bounding box + margin in source pixels; None: implausible mask
    source_shape: tuple[int, int]

    @property
    def mask(self) -> np.ndarray:
        """uint8 0/1 on the source pixel grid."""
        return to_source(self.mask_small, self.source_shape)


class LungSegmenter:
    def __init__(self, card: ModelCard):
        from cxviewer.model.lung_unet import ARCHITECTURE, build_lung_unet
        from cxviewer.model.runtime import import_tensorflow

        tf = import_tensorflow()
        if card.architecture != ARCHITECTURE:
            raise ModelCardError(f"{card.title}: not a lung segmenter ({card.architecture!r})")
        self.card = card
        self.size = card.input_size
        self._model = build_lung_unet(self.size)
        self._model.load_weights(str(card.weights_path))
        spec = tf.TensorSpec((None, self.size, self.size, 1), tf.float32)
        self._forward = tf.function(lambda x: self._model(x, training=False), input_signature=[spec])
        self._lock = threading.Lock()

    def probabilities(self, images: list[np.ndarray], batch: int = 8) -> np.ndarray:
        """(N, S, S) lung probabilities for 8-bit display images."""
        x = np.stack([segmenter_input(img, self.size) for img in images])
        with self._lock:
            parts = [self._forward(x[i : i + batch]).numpy() for i in range(0, len(x), batch)]
        return np.concatenate(parts)[..., 0]

    def segment_many(self, images: list[np.ndarray]) -> list[LungResult]:
        out = []
        for img, prob in zip(images, self.probabilities(images)):
            small = clean_mask(prob)
            out.append(LungResult(small, crop_box(small, img.shape[:2]), tuple(img.shape[:2])))
        return out

    def segment(self, image_u8: np.ndarray) -> LungResult:
        return self.segment_many([image_u8])[0]


def load_segmenter(model_dir: str | Path) -> LungSegmenter:
    return LungSegmenter(load_card(model_dir))
