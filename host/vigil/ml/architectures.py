"""The network shapes vigil's engine is measured on (Keras, untrained), in one place for the
benchmarks and the tests: the seed's sleep CNN and the stress MLP."""

from __future__ import annotations

from typing import Any

SLEEP_IMAGE_SHAPE = (65, 73, 1)  # bins x frames x 1 (vigil.dsp.config: STFT_BINS, IMAGE_FRAMES)


def sleep_cnn(input_shape: tuple[int, int, int] = SLEEP_IMAGE_SHAPE, n_classes: int = 3, softmax: bool = False) -> Any:
    """The seed's CNN: conv 3x3x8, max pool 2, conv 3x3x16, dense 32, dense (wake / NREM / REM); with
    ``softmax`` a final softmax, so the int8 model outputs probabilities (the trained sleep model does)."""
    import keras

    L = keras.layers
    return keras.Sequential([
        keras.Input(input_shape),
        L.Conv2D(8, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(16, 3, activation="relu"),
        L.Flatten(),
        L.Dense(32, activation="relu"),
        L.Dense(n_classes),
        *([L.Softmax()] if softmax else []),
    ])  # fmt: skip


def stress_mlp(n_features: int = 6, n_classes: int = 2) -> Any:
    """The stress net: 6 HRV features, hidden 11 and 5, two classes (relax / stress)."""
    import keras

    L = keras.layers
    return keras.Sequential([keras.Input((n_features,)), L.Dense(11, activation="relu"), L.Dense(5, activation="relu"),
                             L.Dense(n_classes)])  # fmt: skip
