"""A compact U-Net for lung fields (COVID-CXNet's step 2), sized for a laptop CPU.

Four down-sampling levels of two 3 x 3 conv + BatchNorm + ReLU blocks (16, 32, 64, 128 filters,
256 at the bottom), transposed-convolution up-sampling with skip connections, one sigmoid output
channel. About 1.9 M parameters. Imports Keras; only ever imported lazily.
"""

from __future__ import annotations

ARCHITECTURE = "unet-compact"


def _block(x, filters: int, name: str):
    import keras

    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_lung_unet(input_size: int, base: int = 16):
    import keras

    inputs = keras.Input((input_size, input_size, 1), name="image")
    skips, x = [], inputs
    for level in range(4):
        x = _block(x, base * 2**level, f"down{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(name=f"pool{level}")(x)
    x = _block(x, base * 16, "bottom")
    for level in reversed(range(4)):
        x = keras.layers.Conv2DTranspose(base * 2**level, 2, strides=2, name=f"up{level}")(x)
        x = keras.layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _block(x, base * 2**level, f"dec{level}")
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid", name="lungs")(x)
    return keras.Model(inputs, outputs, name=ARCHITECTURE)
