"""What the model is shown: the default display of a radiograph (C.11 window, MONOCHROME1 handled), and the one
recipe that turns that display image into a model's input (:class:`InputRecipe`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def model_image(radiograph) -> np.ndarray:
    from cxviewer.imaging import render_display

    return render_display(radiograph)


@dataclass(frozen=True)
class InputRecipe:
    """How a display image becomes a model's input, from its card alone (picklable: the Ray scan sends it to decode
    tasks that load no model). The one place of this rule: :meth:`Classifier.prepare_segmented
    <cxviewer.model.classifier.Classifier.prepare_segmented>` prepares with :meth:`prepare`, the scan's decode
    steps with :meth:`__call__`.

    A model that crops to the lungs cannot be finished before its segmenter has run: :meth:`from_display` then
    gives the display image and the segmenter's input, and the caller segments, cuts and :meth:`prepare` s.
    """

    input_size: int
    standardise: str | None
    segmenter_size: int | None = None  # set for a model that crops to the lungs
    spectrum_template: tuple[float, ...] | None = None  # for the 'equalize_hist+spectrum' standardisation
    mask_outside_lungs: bool = False  # the input keeps only the lungs in view (needs the segmenter's mask)

    @classmethod
    def of_card(cls, card, segmenter_size: int | None = None) -> InputRecipe:
        """The recipe of a classifier's card (``segmenter_size``: its lung segmenter's input size, if it crops)."""
        template = card.spectrum_template
        return cls(card.input_size, card.standardise, segmenter_size, None if template is None else tuple(template),
                   card.mask_outside_lungs)

    @classmethod
    def of(cls, classifier) -> InputRecipe:
        """The recipe of a loaded classifier (its card, and its segmenter's input size if it crops)."""
        return classifier.recipe

    @property
    def crops(self) -> bool:
        return self.segmenter_size is not None

    def prepare(self, image_u8: np.ndarray, crop=None, lung_mask: np.ndarray | None = None):
        """(model input, geometry) for an 8-bit display image, cut to ``crop`` (y0, x0, y1, x1) if given;
        ``lung_mask`` (on the cut region's grid) is used when the model sees only the lungs."""
        from cxviewer.model.preprocess import prepare

        return prepare(image_u8, self.input_size, crop=crop, standardise=self.standardise,
                       spectrum_template=self.spectrum_template,
                       lung_mask=lung_mask if self.mask_outside_lungs else None)

    def __call__(self, rad):
        return self.from_display(model_image(rad))

    def from_display(self, image):
        """The model input for an 8-bit display image; a cropping model's: (display image, segmenter input)."""
        if self.crops:
            from cxviewer.model.lung_mask import segmenter_input

            return image, segmenter_input(image, self.segmenter_size)
        return self.prepare(image)[0]
