"""Quantization parameters exactly as TensorFlow Lite Micro computes them at Prepare time.

The device kernels (firmware/core/nn) take precomputed multipliers, shifts, offsets and activation
ranges; these functions give the numbers TFLM derives from the same `.tflite` tensors, so the
kernels' outputs are bit-identical with the tflite-micro interpreter's:

- `quantize_multiplier`: TFLM's QuantizeMultiplier (quantization_util.cc), double-rounding build
  (the tflite-micro Python package is built without TFLITE_SINGLE_ROUNDING): frexp, round half away
  from zero of the Q31 significand, carry into the exponent, flush below 2^-31 to zero.
- `conv_multipliers`: PopulateConvolutionQuantizationParams — per channel,
  double(input_scale) * double(filter_scale) / double(output_scale).
- `fully_connected_multiplier`: GetQuantizedConvolutionMultipler — the product of the input and
  filter scales is formed in float32 (as TFLM does) before the division in double.
- `add_params`: CalculateOpDataAdd for int8 (left shift 20).
- `activation_range`: CalculateActivationRangeQuantized (NONE/RELU/RELU6/RELU_N1_TO_1).
- `compute_padding` / `compute_out_size`: ComputePaddingHeightWidth's pieces.
- `mean_multiplier`: int8 MEAN (QuantizedMeanOrSum folds 1/count into the multiplier).
- `logistic_params`, `softmax_params`: the int8 LOGISTIC / SOFTMAX Prepare (gemmlowp fixed point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from vigil.errors import VigilError

INT8_MIN = -128
INT8_MAX = 127
ADD_LEFT_SHIFT_INT8 = 20

# TFLite's ActivationFunctionType values (schema)
ACT_NONE = 0
ACT_RELU = 1
ACT_RELU_N1_TO_1 = 2
ACT_RELU6 = 3


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(Q31 significand, shift) with real == significand * 2^(shift - 31), TFLM's QuantizeMultiplier."""
    if real == 0.0:
        return 0, 0
    significand, shift = math.frexp(real)
    q = _round_half_away(significand * float(1 << 31))
    if q > (1 << 31):
        raise ValueError(f"multiplier {real!r} rounds out of range")
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q), int(shift)


class TflmAbortError(VigilError):
    """TFLM's Prepare aborts on these scales (a TFLITE_CHECK fails, the process ends): a model TFLM cannot run has
    no reference to be exact with, so the engine refuses it too, saying why."""


def quantize_multiplier_smaller_than_one(real: float, what: str = "multiplier") -> tuple[int, int]:
    """TFLM's QuantizeMultiplierSmallerThanOneExp: 0 < real < 1, else TFLM aborts."""
    if not 0.0 < real < 1.0:
        raise TflmAbortError(f"{what} {real:.6g} is not in (0, 1): TFLM's QuantizeMultiplierSmallerThanOneExp "
                             "aborts on this model")
    return quantize_multiplier(real)


def _round_half_away(x: float) -> int:
    """std::round on a double: ties away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def conv_multipliers(
    input_scale: float, filter_scales: Sequence[float], output_scale: float, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multipliers, shifts) for CONV_2D / DEPTHWISE_CONV_2D (and per-channel
    FULLY_CONNECTED); a single filter scale is used for every channel (per-tensor weights)."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    mults = np.zeros(channels, dtype=np.int32)
    shifts = np.zeros(channels, dtype=np.int32)
    for c in range(channels):
        fs = float(scales[c] if scales.size > 1 else scales[0])
        real = float(np.float32(input_scale)) * fs / float(np.float32(output_scale))
        mults[c], shifts[c] = quantize_multiplier(real)
    return mults, shifts


def fully_connected_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """Per-tensor FULLY_CONNECTED multiplier: float32 product of scales, then double division."""
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


@dataclass(frozen=True)
class AddParams:
    """TFLM's int8 ADD parameters (offsets follow TFLM: inputs negated, output as is)."""

    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int


def add_params(
    scale1: float, zero1: int, scale2: float, zero2: int, out_scale: float, out_zero: int
) -> AddParams:
    """CalculateOpDataAdd for int8 inputs and output."""
    s1, s2, so = (float(np.float32(s)) for s in (scale1, scale2, out_scale))
    twice_max = 2.0 * max(s1, s2)
    m1 = quantize_multiplier_smaller_than_one(s1 / twice_max)
    m2 = quantize_multiplier_smaller_than_one(s2 / twice_max)
    mo = quantize_multiplier_smaller_than_one(twice_max / ((1 << ADD_LEFT_SHIFT_INT8) * so),
                                              "ADD output multiplier (the output scale is over 2^20 times finer than "
                                              "the inputs')")
    return AddParams(-zero1, -zero2, out_zero, ADD_LEFT_SHIFT_INT8, m1[0], m1[1], m2[0], m2[1], mo[0], mo[1])


def _quantize_value(value: float, scale: float, zero_point: int) -> int:
    """TFLM's Quantize in CalculateActivationRangeQuantizedImpl: round(f / scale) in float32."""
    ratio = float(np.float32(value) / np.float32(scale))
    return zero_point + _round_half_away(ratio)


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int]:
    """Quantized [min, max] of a fused activation on an int8 output."""
    lo, hi = INT8_MIN, INT8_MAX
    if activation == ACT_RELU:
        lo = max(lo, _quantize_value(0.0, scale, zero_point))
    elif activation == ACT_RELU6:
        lo = max(lo, _quantize_value(0.0, scale, zero_point))
        hi = min(hi, _quantize_value(6.0, scale, zero_point))
    elif activation == ACT_RELU_N1_TO_1:
        lo = max(lo, _quantize_value(-1.0, scale, zero_point))
        hi = min(hi, _quantize_value(1.0, scale, zero_point))
    elif activation != ACT_NONE:
        raise ValueError(f"unsupported fused activation {activation}")
    return lo, hi


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """TFLM's ComputePadding: the top/left padding."""
    effective = (filter_size - 1) * dilation + 1
    pad = ((out_size - 1) * stride + effective - in_size) // 2
    return max(pad, 0)


def compute_out_size(same: bool, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    """TFLM's ComputeOutSize for padding SAME (True) or VALID (False)."""
    effective = (filter_size - 1) * dilation + 1
    if same:
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """TFLM's int8 MEAN multiplier with 1/count folded in (QuantizedMeanOrSum): the multiplier of
    input_scale / output_scale is scaled by 2^k / count, k = floor(log2(count)) clamped so that the
    shift stays >= -31, and the shift lowered by k."""
    mult, shift = quantize_multiplier(float(np.float32(input_scale)) / float(np.float32(output_scale)))
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return int((mult << k) // count), shift - k


@dataclass(frozen=True)
class LogisticParams:
    input_zero_point: int
    input_range_radius: int
    input_multiplier: int
    input_left_shift: int


LOGISTIC_INPUT_INTEGER_BITS = 4
SOFTMAX_DIFF_INTEGER_BITS = 5


def _input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """TFLM's CalculateInputRadius: the largest input difference that the Q(integer_bits)
    rescaling does not overflow."""
    max_rescaled = 1.0 * ((1 << integer_bits) - 1) * float(1 << (total_signed_bits - integer_bits))
    return int(math.floor(max_rescaled / float(2.0**left_shift)))


def logistic_params(input_scale: float, input_zero_point: int) -> LogisticParams:
    """TFLM's int8 LOGISTIC Prepare: input rescaled to Q4 by frexp of scale * 2^27 (no carry of a
    significand that rounds to 2^31, as in TFLM)."""
    real = float(np.float32(input_scale)) * float(1 << (31 - LOGISTIC_INPUT_INTEGER_BITS))
    significand, shift = math.frexp(real)
    mult = _round_half_away(significand * float(1 << 31))
    if mult >= (1 << 31):
        raise ValueError(f"LOGISTIC input scale {input_scale!r}: multiplier overflows in TFLM")
    radius = _input_radius(LOGISTIC_INPUT_INTEGER_BITS, shift)
    return LogisticParams(input_zero_point, radius, mult, shift)


@dataclass(frozen=True)
class SoftmaxParams:
    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_params(beta: float, input_scale: float) -> SoftmaxParams:
    """TFLM's int8 SOFTMAX Prepare (PreprocessSoftmaxScaling, double rounding build)."""
    real = float(np.float32(beta)) * float(np.float32(input_scale)) * float(1 << (31 - SOFTMAX_DIFF_INTEGER_BITS))
    real = min(real, float((1 << 31) - 1))
    if not real > 1.0:  # QuantizeMultiplierGreaterThanOne's TFLITE_CHECK_GT
        raise TflmAbortError(f"SOFTMAX beta x input scale x 2^26 = {real:.6g} is not above 1 (input scale "
                             f"{input_scale:.3g}): TFLM's PreprocessSoftmaxScaling aborts on this model")
    mult, shift = quantize_multiplier(real)
    return SoftmaxParams(mult, shift, -_input_radius(SOFTMAX_DIFF_INTEGER_BITS, shift))
