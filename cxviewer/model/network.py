"""COVID-CXNet network: DenseNet-121 backbone + GAP -> Dense(10, ReLU) -> Dropout(0.2) -> Dense(n, softmax).

Imports TensorFlow/Keras; only ever imported lazily (by the classifier loader and training).
The backbone is built into the top-level graph (``input_tensor``) so Grad-CAM can tap its last
convolutional block (layer ``relu``: the final BN + ReLU, 1024 channels) directly.
"""

from __future__ import annotations

ARCHITECTURE = "densenet121-cxnet"
GRADCAM_LAYER = "relu"


def build_cxnet(input_size: int, n_classes: int = 3):
    import keras

    inputs = keras.Input((input_size, input_size, 3), name="image")
    backbone = keras.applications.DenseNet121(include_top=False, weights=None, input_tensor=inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(backbone.output)
    x = keras.layers.Dense(10, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(0.2, name="head_dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=ARCHITECTURE)


BUILDERS = {ARCHITECTURE: build_cxnet}
