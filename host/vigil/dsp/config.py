"""The DSP's shared constants: one source for the host twins and the firmware
(``firmware/core/dsp/dsp_config.h`` is generated from this module by
``python -m vigil.dsp.codegen``)."""

from __future__ import annotations

# Accelerometer -> spectrogram image (sleep input)
ACCEL_RATE_HZ = 50
STFT_N = 128  # FFT length (samples of the acceleration derivative)
STFT_HOP = 64
STFT_BINS = STFT_N // 2 + 1  # 65: DC .. Nyquist
EPOCH_S = 30
EPOCH_SAMPLES = EPOCH_S * ACCEL_RATE_HZ  # 1500
IMAGE_FRAMES = 73  # columns per epoch image: 73 x 1.28 s = 93.4 s centred on the epoch
# The image's int8 values are already in the CNN's input quantization:
#     real value (dB of (milli-g)^2 power) = IMAGE_SCALE_DB * (q - IMAGE_ZERO_POINT)
IMAGE_SCALE_DB = 0.5
IMAGE_ZERO_POINT = -128

# PPG -> beats -> HRV (stress input)
PPG_RATES_HZ = (64, 100, 128)
SEGMENT_S = 60


def image_first_column(epoch: int) -> int:
    """First STFT column of epoch ``epoch``'s image. Column j covers derivative samples
    [j*HOP, j*HOP + N), centred at j*HOP + N/2; the middle column (j0 + IMAGE_FRAMES // 2) is
    the one whose centre is nearest the epoch's centre (ties to the later column).
    May be negative for the first epochs: such columns are filled with -128."""
    centre = epoch * EPOCH_SAMPLES + EPOCH_SAMPLES // 2
    middle = (centre - STFT_N // 2 + STFT_HOP // 2) // STFT_HOP
    return middle - IMAGE_FRAMES // 2
