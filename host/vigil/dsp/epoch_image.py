"""Twin of firmware/core/dsp/epoch_image.c: the CNN's input image for each 30-s epoch."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from vigil.dsp.config import IMAGE_FRAMES, STFT_BINS, image_first_column

EMPTY_VALUE = -128


@dataclass(frozen=True)
class EpochImage:
    epoch: int
    first_column: int
    image: np.ndarray  # (IMAGE_FRAMES, STFT_BINS) int8: frames x bins

    @property
    def crc(self) -> int:
        return zlib.crc32(self.image.astype(np.int8).tobytes()) & 0xFFFFFFFF


def epoch_image(columns: np.ndarray, epoch: int) -> EpochImage:
    """Epoch ``epoch``'s image from all columns so far (columns before 0 read as -128)."""
    first = image_first_column(epoch)
    image = np.full((IMAGE_FRAMES, STFT_BINS), EMPTY_VALUE, dtype=np.int8)
    lo = max(first, 0)
    hi = first + IMAGE_FRAMES
    image[lo - first :] = columns[lo:hi]
    return EpochImage(epoch, first, image)


def epoch_images(columns: np.ndarray) -> list[EpochImage]:
    """Every epoch whose last column exists, as the device emits them."""
    out = []
    epoch = 0
    while image_first_column(epoch) + IMAGE_FRAMES <= len(columns):
        out.append(epoch_image(columns, epoch))
        epoch += 1
    return out
