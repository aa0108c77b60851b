"""Grad-CAM lands exactly where a model's evidence is, on the original (non-square) pixel grid.

A tiny real Keras model whose only evidence is brightness: its class-0 score grows with the
mean of a 1x1 convolution, so Grad-CAM must light up the one bright rectangle in the image.
"""

import numpy as np
import pytest

from cxviewer.model.gradcam import make_explainer, normalise
from cxviewer.model.preprocess import InputGeometry, prepare

keras = pytest.importorskip("keras")

SIZE = 64


def brightness_model():
    inp = keras.Input((SIZE, SIZE, 3))
    feat = keras.layers.Conv2D(2, 1, use_bias=False, kernel_initializer=keras.initializers.Constant(1 / 3), activation="relu", name="feat")(inp)
    feat = keras.layers.AveragePooling2D(4, name="cells")(feat)
    pooled = keras.layers.GlobalAveragePooling2D()(feat)
    out = keras.layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers.Constant([[4.0, -4.0], [4.0, -4.0]]))(pooled)
    return keras.Model(inp, out)


def heatmap_for(image, crop=None):
    model = brightness_model()
    explain = make_explainer(model, "cells")
    tensor, geometry = prepare(image, SIZE, crop=crop)
    probs, cam, _ = explain(tensor[np.newaxis])
    assert int(np.argmax(probs.numpy()[0])) == 0
    return geometry.to_source(normalise(cam.numpy()[0])), geometry


def centroid(m):
    """Centroid of the evidence (> 20 % of peak; CLAHE lifts the flat background a little)."""
    m = np.where(m > 0.2 * m.max(), m, 0.0)
    ys, xs = np.indices(m.shape)
    return (m * ys).sum() / m.sum(), (m * xs).sum() / m.sum()


@pytest.mark.parametrize("shape,box", [((300, 500), (60, 350, 120, 420)), ((480, 256), (300, 40, 380, 100))])
def test_heatmap_registers_on_non_square_image(shape, box):
    image = np.zeros(shape, np.uint8)
    y0, x0, y1, x1 = box
    image[y0:y1, x0:x1] = 255
    heat, geometry = heatmap_for(image)
    assert heat.shape == shape
    cell_y, cell_x = shape[0] / (SIZE / 4), shape[1] / (SIZE / 4)
    cy, cx = centroid(heat)
    assert abs(cy - (y0 + y1 - 1) / 2) < cell_y / 2
    assert abs(cx - (x0 + x1 - 1) / 2) < cell_x / 2
    grown = np.zeros(shape, bool)
    grown[max(0, int(y0 - cell_y)) : int(y1 + cell_y), max(0, int(x0 - cell_x)) : int(x1 + cell_x)] = True
    evidence = np.where(heat > 0.2, heat, 0.0)
    assert evidence[grown].sum() / evidence.sum() > 0.98
    peak = np.unravel_index(np.argmax(heat), shape)
    assert y0 <= peak[0] < y1 and x0 <= peak[1] < x1


def test_heatmap_registers_through_a_crop():
    shape = (400, 600)
    image = np.zeros(shape, np.uint8)
    image[200:260, 300:380] = 255
    crop = (100, 150, 380, 560)  # the model sees only this box
    heat, geometry = heatmap_for(image, crop=crop)
    assert heat.shape == shape
    assert heat[:100].max() == 0 and heat[:, :150].max() == 0 and heat[380:].max() == 0 and heat[:, 560:].max() == 0
    cy, cx = centroid(heat)
    cell_y, cell_x = (380 - 100) / 16, (560 - 150) / 16
    assert abs(cy - 229.5) < cell_y / 2 and abs(cx - 339.5) < cell_x / 2


def test_geometry_to_source_identity_for_full_resolution_map():
    g = InputGeometry((5, 7), (0, 0, 5, 7), 64)
    m = np.arange(35, dtype=np.float32).reshape(5, 7)
    np.testing.assert_allclose(g.to_source(m), m)
