"""Grad-CAM as COVID-CXNet used it: positive gradients averaged per channel, positive evidence only.

``make_explainer`` compiles one TensorFlow function that returns class probabilities, the
class-activation map of the leading class and the layer's pooled features (what the head and the
out-of-distribution gate see) in a single forward/backward pass.
"""

from __future__ import annotations

import numpy as np


def make_explainer(model, layer_name: str):
    import keras
    import tensorflow as tf

    grad_model = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])

    @tf.function(reduce_retracing=True)
    def explain(x):
        with tf.GradientTape() as tape:
            conv, probs = grad_model(x, training=False)
            top = tf.argmax(probs, axis=-1)
            score = tf.gather(probs, top, axis=-1, batch_dims=1)
        grads = tape.gradient(score, conv)
        weights = tf.reduce_mean(tf.nn.relu(grads), axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * conv, axis=-1))
        return probs, cam, tf.reduce_mean(conv, axis=(1, 2))

    return explain


def normalise(cam: np.ndarray) -> np.ndarray:
    """Scale a map to [0, 1] (all-zero stays zero: the model found no positive evidence)."""
    cam = np.maximum(cam.astype(np.float32), 0.0)
    peak = float(cam.max())
    return cam / peak if peak > 0 else cam
