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

# Accelerometer -> per-epoch features -> sleep context (the context sleep model's input; twin
# vigil.dsp.epoch_features, firmware/core/dsp/epoch_features.c and sleep_context.c)
POSTURE_WINDOW_SAMPLES = 250  # 5 s: the arm's mean direction is taken per window
POSTURE_WINDOWS = EPOCH_SAMPLES // POSTURE_WINDOW_SAMPLES  # 6 windows per epoch
DIRECTION_ONE = 4096  # Q12: a unit direction vector's length
STILL_CHANGE_Q12 = 357  # a window is still when its direction moved <= this: 2 sin(2.5 deg) * 4096, about 5 deg
LOG_CODE_PER_OCTAVE = 10  # log codes: floor(10 log2(v + 1)), capped at FEATURE_CODE_MAX
FEATURE_CODE_MAX = 255
EPOCH_FEATURES = 4  # activity, direction change, still windows, elapsed minutes
# Activity counts only the part of each sample's |d| above a dead band (as ActiGraph's counts do): a 16-bit sensor's
# noise (|d| of a few milli-g) and an 8-bit logger's single-count flips (the ICHI lab's ~31 mg steps, smoothed by the
# 100 -> 50 Hz resampler) both read as still, so a model trained on one sensor reads the other.
ACTIVITY_DEADBAND_MG = 10
FEATURE_ZERO_POINT = -128  # int8 feature = code + FEATURE_ZERO_POINT: the model's input scale 1.0, real value = code
SLEEP_CONTEXT_EPOCHS = 54  # rows of the context model's input: the epochs e - 53 .. e, oldest first
SLEEP_CONTEXT_DELAY = 6  # epochs: when epoch e completes, the device decides epoch e - 6 (3 minutes late)
SLEEP_CONTEXT_INPUT = SLEEP_CONTEXT_EPOCHS * EPOCH_FEATURES  # 216 int8
ELAPSED_SHIFT = 1  # elapsed code = epoch >> 1: minutes since the stream started
assert POSTURE_WINDOWS * POSTURE_WINDOW_SAMPLES == EPOCH_SAMPLES, "an epoch is a whole number of posture windows"
assert SLEEP_CONTEXT_DELAY < SLEEP_CONTEXT_EPOCHS

# PPG -> beats -> HRV (stress input)
PPG_RATES_HZ = (64, 100, 128)
#: The six HRV features in the order of hrv_features_t, the HRV record, the models' inputs and the proposal's file.
HRV_FEATURES: tuple[str, ...] = ("avhr", "avrr", "sdrr", "rmssd", "pnn50", "pnn20")
#: The features beyond the proposal's six, in the order of hrv_features_t and the HRV record (hrv_features.h):
#: Poincare SD1/SD2, pulse amplitude, and the last 4 minutes' LF and HF power and their ratio.
HRV_EXTRA_FEATURES: tuple[str, ...] = ("sd1", "sd2", "pamp", "lf", "hf", "lfhf")
SEGMENT_S = 60


def image_first_column(epoch: int) -> int:
    """First STFT column of epoch ``epoch``'s image. Column j covers derivative samples
    [j*HOP, j*HOP + N), centred at j*HOP + N/2; the middle column (j0 + IMAGE_FRAMES // 2) is
    the one whose centre is nearest the epoch's centre (ties to the later column).
    May be negative for the first epochs: such columns are filled with -128."""
    centre = epoch * EPOCH_SAMPLES + EPOCH_SAMPLES // 2
    middle = (centre - STFT_N // 2 + STFT_HOP // 2) // STFT_HOP
    return middle - IMAGE_FRAMES // 2


def image_delay_epochs() -> int:
    """Whole epochs after epoch t within which its image completes (its last column's last sample), for every t:
    the CNN's decision delay as the SLEEP record states it (epoch t's record comes by the end of epoch t + this).
    The placement repeats every STFT_HOP epochs, so those cover every t."""
    ends = [(image_first_column(t) + IMAGE_FRAMES - 1) * STFT_HOP + STFT_N for t in range(STFT_HOP)]
    return max(-(-(end - (t + 1) * EPOCH_SAMPLES) // EPOCH_SAMPLES) for t, end in enumerate(ends))


IMAGE_DELAY_EPOCHS = image_delay_epochs()  # 2: the image of epoch t ends 1588-1648 samples (about 32 s) after the epoch
