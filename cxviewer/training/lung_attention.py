"""``--attention-penalty``: train the classifier to be right for the right reasons.

A penalty on the share of the Grad-CAM map that falls outside the lungs (Ross et al.'s "right for the
right reasons", here on the map the app shows). The map is the one :mod:`cxviewer.model.head_gradcam`
computes, written in TensorFlow ops so the share is differentiable: the score is the softmax probability
of the leading class, the channel weights are the spatial mean of the positive part of its gradient
(which for this head has a closed form), the map is the positive part of the weighted sum of the
channels. Each training film's lung mask (the bundled segmenter's, moved with the film by the
augmentation) is averaged over the cells of the feature map, so a cell half on the lungs counts half.

Imports TensorFlow and Keras at once: only the training loop imports this module.
"""

from __future__ import annotations

import cv2
import keras
import numpy as np
import tensorflow as tf

from cxviewer.model.network import GRADCAM_LAYER


def mask_cells(mask: np.ndarray, cells: int) -> np.ndarray:
    """A uint8 0/1 mask on the film's pixel grid -> the lungs' share of each of ``cells`` x ``cells`` cells
    (the feature map's grid: the input is resized to a square, so the cells split the film evenly)."""
    return cv2.resize(mask.astype(np.float32), (cells, cells), interpolation=cv2.INTER_AREA)


def outside_share(feature_map, dense_kernel, dense_bias, out_kernel, out_bias, lung_cells):
    """(B,) share of each film's Grad-CAM mass (its leading class) outside the lungs; 0 for an empty map.

    ``feature_map`` (B, h, w, C) is the Grad-CAM layer's output, ``lung_cells`` (B, h, w) the lungs' share
    of each cell. Dropout is left out, as at inference, so this is the map the app would draw.
    """
    hw = tf.cast(tf.shape(feature_map)[1] * tf.shape(feature_map)[2], feature_map.dtype)
    pooled = tf.reduce_mean(feature_map, axis=(1, 2))
    hidden = pooled @ dense_kernel + dense_bias
    probs = tf.nn.softmax(tf.nn.relu(hidden) @ out_kernel + out_bias)
    top = tf.one_hot(tf.argmax(tf.stop_gradient(probs), axis=1), tf.shape(probs)[1], dtype=probs.dtype)
    p_top = tf.reduce_sum(probs * top, axis=1, keepdims=True)
    d_logits = p_top * (top - probs)  # d p_c / d z_k = p_c (delta_ck - p_k)
    d_hidden = (d_logits @ tf.transpose(out_kernel)) * tf.cast(hidden > 0, hidden.dtype)
    weights = tf.nn.relu((d_hidden @ tf.transpose(dense_kernel)) / hw)
    cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", feature_map, weights))
    total = tf.reduce_sum(cam, axis=(1, 2))
    inside = tf.reduce_sum(cam * lung_cells, axis=(1, 2))
    return tf.where(total > 0, 1.0 - inside / tf.maximum(total, 1e-12), tf.zeros_like(total))


def jensen_shannon(p, q):
    """(B,) Jensen-Shannon divergence (natural log) between rows of two (B, K) probability tensors."""
    m = tf.clip_by_value(0.5 * (p + q), 1e-7, 1.0)
    p, q = tf.clip_by_value(p, 1e-7, 1.0), tf.clip_by_value(q, 1e-7, 1.0)
    return 0.5 * tf.reduce_sum(p * tf.math.log(p / m), axis=1) + 0.5 * tf.reduce_sum(q * tf.math.log(q / m), axis=1)


class LungAttentionTrainer(keras.Model):
    """Trains ``network`` on the weighted cross-entropy plus ``penalty`` x the weighted mean share of the
    Grad-CAM map outside the lungs. Batches are ``((images, lung_cells), one_hot, sample_weight)``.
    With ``consistency`` the batch is two views of each film (the first half, then the second half in the same
    order: one framing, two looks) and the loss adds ``consistency`` x the weighted mean Jensen-Shannon
    divergence between each film's two predictions (AugMix's consistency, Hendrycks et al., ICLR 2020): a change
    of look alone must not change the answer.
    The network's own weights are what is saved and shipped; this wrapper only adds the loss."""

    def __init__(self, network, penalty: float, label_smoothing: float, consistency: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.penalty = float(penalty)
        self.consistency = float(consistency)
        self.disagreement_mean = keras.metrics.Mean(name="disagreement")
        self.taps = keras.Model(network.inputs, [network.get_layer(GRADCAM_LAYER).output, network.output])
        self.dense = network.get_layer("head_dense")
        self.out = network.get_layer("probabilities")
        self.ce = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing,
                                                       reduction="none")
        self.loss_mean = keras.metrics.Mean(name="loss")
        self.outside_mean = keras.metrics.Mean(name="outside_lungs")
        self.accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")

    def call(self, x, training=False):
        return self.network(x, training=training)

    @property
    def metrics(self):
        extra = [self.disagreement_mean] if self.consistency else []
        return [self.loss_mean, self.outside_mean, *extra, self.accuracy]

    def train_step(self, data):
        (x, cells), y, w = data
        w = tf.cast(w, tf.float32)
        with tf.GradientTape() as tape:
            fmap, probs = self.taps(x, training=True)
            outside = outside_share(fmap, self.dense.kernel, self.dense.bias, self.out.kernel, self.out.bias, cells)
            norm = tf.maximum(tf.reduce_sum(w), 1e-6)
            ce = tf.reduce_sum(self.ce(y, probs) * w) / norm
            loss = ce + self.penalty * tf.reduce_sum(outside * w) / norm
            if self.consistency:
                half = tf.shape(probs)[0] // 2
                jsd = jensen_shannon(probs[:half], probs[half:])
                loss += self.consistency * tf.reduce_sum(jsd * w[:half]) / tf.maximum(tf.reduce_sum(w[:half]), 1e-6)
        variables = self.network.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.loss_mean.update_state(loss)
        self.outside_mean.update_state(outside)
        if self.consistency:
            self.disagreement_mean.update_state(jsd)
        self.accuracy.update_state(y, probs)
        return {m.name: m.result() for m in self.metrics}
