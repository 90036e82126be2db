"""Epoch images: the C ring (firmware/core/dsp/epoch_image.c) against its twin."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vigil.dsp import config
from vigil.dsp.epoch_image import epoch_image, epoch_images


def run_harness(program: Path, columns: np.ndarray) -> list[tuple[int, int, int]]:
    data = struct.pack("<I", len(columns)) + columns.astype(np.int8).tobytes()
    out = subprocess.run([str(program), "harness", "epoch_image"], input=data, capture_output=True, check=True).stdout
    return [struct.unpack_from("<IiI", out, i) for i in range(0, len(out), 12)]


@pytest.mark.parametrize("n_columns", [0, 47, 48, 200, 1500])
def test_images_match_the_twin(ctest_program: Path, n_columns: int) -> None:
    columns = np.random.default_rng(n_columns).integers(-128, 128, (n_columns, config.STFT_BINS)).astype(np.int8)
    want = [(e.epoch, e.first_column, e.crc) for e in epoch_images(columns)]
    assert run_harness(ctest_program, columns) == want
    if n_columns >= 48:
        assert want, "at least epoch 0 completes once its last column exists"


def test_first_image_is_padded_and_centred() -> None:
    columns = np.arange(100, dtype=np.int64)[:, None].repeat(config.STFT_BINS, 1).astype(np.int8)
    img = epoch_image(columns, 0)
    pad = -img.first_column
    assert (img.image[:pad] == -128).all()
    assert img.image[pad, 0] == 0 and img.image[-1, 0] == img.first_column + config.IMAGE_FRAMES - 1
    # The middle column's centre is within half a hop of the epoch's centre (sample 750).
    middle = img.first_column + config.IMAGE_FRAMES // 2
    assert abs(middle * config.STFT_HOP + config.STFT_N // 2 - config.EPOCH_SAMPLES // 2) <= config.STFT_HOP // 2
