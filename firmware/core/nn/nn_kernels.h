/* vigil's int8 neural-network kernels: each one bit-exact with TensorFlow Lite Micro's reference
 * kernel for the same op (tensorflow/lite/kernels/internal/reference/integer_ops/), one per file.
 *
 * Conventions (as TFLite's int8 scheme):
 * - tensors are NHWC with batch 1 (FULLY_CONNECTED allows several rows), int8, row-major;
 * - `input_offset` is MINUS the input zero point, `output_offset` is PLUS the output zero point,
 *   as TFLM's kernels store them; weights are symmetric (zero point 0) except FULLY_CONNECTED's
 *   `filter_offset` (minus the weights' zero point, 0 for the converter's int8 weights);
 * - output multipliers/shifts are TFLM's QuantizeMultiplier result (see nn_requant.h), per output
 *   channel for the convolutions, computed on the host (host/vigil/export/quant.py);
 * - `activation_min/max` is the fused activation (NONE/RELU/RELU6) range in the output's
 *   quantized domain, within [-128, 127];
 * - padding is given explicitly as the top/left padding TFLM computes (ComputePaddingHeightWidth);
 *   the bottom/right padding is implicit: taps outside the input are skipped.
 * Callers guarantee consistent dimensions; the kernels do not check them (no run-time parsing). */
#ifndef VIGIL_NN_KERNELS_H
#define VIGIL_NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Activation range of an int8 tensor with no fused activation. */
#define NN_INT8_MIN (-128)
#define NN_INT8_MAX 127

/* The two convolutions' parameters are built from the same parts, as CMSIS-NN composes cmsis_nn_conv_params and
 * cmsis_nn_dw_conv_params from cmsis_nn_dims / cmsis_nn_tile, cmsis_nn_activation and
 * cmsis_nn_per_channel_quant_params: the plan executor fills both from an op with one function (conv_parts).
 * The parts are ordered so that every CONV_2D field keeps the offset it had in the flat struct the hot loops were
 * tuned on: gcc generates the same kernel code. */

/* The offsets and the fused activation's clamp, in the quantized domain. */
typedef struct nn_quant {
    int32_t input_offset;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
} nn_quant_t;

/* Where a convolution's filter window goes over its input: the input, filter and output sizes, strides,
 * dilations and the padding before the input (top, left; taps outside the input are skipped). */
typedef struct nn_conv_geometry {
    uint16_t input_h, input_w, input_c;
    uint16_t filter_h, filter_w;
    uint16_t output_h, output_w, output_c;
    uint16_t stride_h, stride_w;
    uint16_t dilation_h, dilation_w;
    uint16_t pad_h, pad_w; /* top, left */
} nn_conv_geometry_t;

/* One requantization per output channel (TFLM's QuantizeMultiplier, computed on the host). */
typedef struct nn_per_channel_quant {
    const int32_t *output_multiplier; /* [output_c] */
    const int8_t *output_shift;       /* [output_c] */
} nn_per_channel_quant_t;

/* CONV_2D. filter: [output_c][filter_h][filter_w][input_c] (OHWI, TFLite's layout). */
typedef struct nn_conv2d_params {
    nn_quant_t quant;
    nn_conv_geometry_t geometry;
    nn_per_channel_quant_t per_channel;
} nn_conv2d_params_t;

/* DEPTHWISE_CONV_2D. geometry.output_c = input_c * depth_multiplier (the kernel works it out from those two);
 * filter: [filter_h][filter_w][output_c], output channel c*depth_multiplier + m reads input
 * channel c. */
typedef struct nn_depthwise_conv2d_params {
    nn_quant_t quant;
    nn_conv_geometry_t geometry;
    uint16_t depth_multiplier; /* in the two bytes after the geometry, which padding would take otherwise */
    nn_per_channel_quant_t per_channel;
} nn_depthwise_conv2d_params_t;

/* FULLY_CONNECTED. filter: [output_c][input_depth]; input: [batches][input_depth].
 * per_channel = 0: output_multiplier[0] / output_shift[0] for every output (per-tensor weights);
 * per_channel = 1: one per output channel. */
typedef struct nn_fully_connected_params {
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
    uint16_t batches;
    uint16_t input_depth;
    uint16_t output_c;
    uint8_t per_channel;
    const int32_t *output_multiplier;
    const int8_t *output_shift;
} nn_fully_connected_params_t;

/* MAX_POOL_2D and AVERAGE_POOL_2D (input and output share their quantization in TFLite). */
typedef struct nn_pool2d_params {
    int32_t activation_min;
    int32_t activation_max;
    uint16_t input_h, input_w, channels;
    uint16_t filter_h, filter_w;
    uint16_t output_h, output_w;
    uint16_t stride_h, stride_w;
    uint16_t pad_h, pad_w; /* top, left */
} nn_pool2d_params_t;

/* ADD of two same-shape tensors (TFLM's int8 ADD without broadcasting): both inputs are
 * rescaled to a common scale with 20 bits of headroom (left_shift), summed, rescaled to the
 * output. Multipliers come from QuantizeMultiplierSmallerThanOneExp (shifts <= 0). */
typedef struct nn_add_params {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
    int32_t left_shift; /* 20 for int8 */
    int32_t input1_multiplier;
    int32_t input2_multiplier;
    int32_t output_multiplier;
    int8_t input1_shift;
    int8_t input2_shift;
    int8_t output_shift;
    uint32_t size; /* elements */
} nn_add_params_t;

/* Broadcasting for ADD (TFLM's BroadcastAdd4DSlow): shapes right-aligned to 4D, an input's
 * stride is 0 along each output dimension where that input has size 1. */
typedef struct nn_broadcast4d {
    uint16_t out_dims[4];    /* output [N][H][W][C] */
    uint32_t in1_strides[4]; /* elements to step in input 1 per output index, per dimension */
    uint32_t in2_strides[4];
} nn_broadcast4d_t;

/* MEAN over the spatial axes of an NHWC tensor (Keras GlobalAveragePooling1D/2D): over H when
 * reduce_h, over W when reduce_w; the output is [reduce_h ? 1 : input_h][reduce_w ? 1 : input_w]
 * [channels]. TFLM's int8 MEAN (QuantizedMeanOrSum) folds 1/count into the multiplier: the host
 * gives that folded multiplier/shift (vigil.export.quant.mean_multiplier). No fused activation:
 * the output saturates to int8. */
typedef struct nn_mean_params {
    int32_t input_zero_point; /* plus the input zero point (not negated, as in TFLM's MEAN) */
    int32_t output_offset;
    int32_t output_multiplier;
    int8_t output_shift;
    uint8_t reduce_h, reduce_w;
    uint16_t input_h, input_w, channels;
} nn_mean_params_t;

/* LOGISTIC, int8 (output scale 1/256, zero point -128, as TFLite requires). The host computes the
 * input rescaling to Q4 as TFLM's Prepare does (vigil.export.quant.logistic_params): inputs beyond
 * +-input_range_radius (after removing the zero point) saturate to 127 / -128. */
typedef struct nn_logistic_params {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int8_t input_left_shift; /* in [-31, 30] */
    uint32_t size;
} nn_logistic_params_t;

/* SOFTMAX over the last axis, int8 in and out (output scale 1/256, zero point -128). The host
 * computes beta * input_scale as a Q5 multiplier and the cut-off difference, as TFLM's Prepare
 * does (vigil.export.quant.softmax_params). */
typedef struct nn_softmax_params {
    int32_t input_multiplier;
    int32_t diff_min; /* differences from the row's max below this give exp = 0 */
    int8_t input_left_shift; /* in [0, 32] (above 30 only with diff_min = 0) */
    uint16_t rows;
    uint16_t depth;
} nn_softmax_params_t;

/* RELU / RELU6 as standalone ops (relu_s8.c). rescale = 1 (RELU): out = clamp(output_offset +
 * MultiplyByQuantizedMultiplier(in - input_zero_point, output_multiplier, output_shift)); rescale = 0 (RELU6):
 * out = clamp(in), no multiplier. The clamp [activation_min, activation_max] comes from the host as TFLM's
 * Prepare computes it. The output may be the input (element-wise, in order). */
typedef struct nn_relu_params {
    int32_t input_zero_point; /* plus the zero point, subtracted (TFLM's ReluParams.input_offset) */
    int32_t output_offset;
    int32_t output_multiplier;
    int8_t output_shift;
    uint8_t rescale;
    int32_t activation_min;
    int32_t activation_max;
    uint32_t size;
} nn_relu_params_t;

/* CONV_2D's scratch, 32-bit words: a pair of int16 patches of n = filter_h * filter_w * input_c taps
 * (NN_PATCH_PAIR_WORDS(n) words, nn_dot.h) and two int8 gathers of n taps, each rounded up to a word.
 * The conv + max-pool kernel also keeps one int32 running maximum per output channel.
 * vigil.export.plan sizes an op's arena scratch with the same formulas (conv_scratch_bytes). */
#define NN_CONV2D_TAPS(fh, fw, c) ((size_t)(fh) * (size_t)(fw) * (size_t)(c))
#define NN_CONV2D_GATHER_BYTES(n) (((size_t)(n) + 3u) & ~(size_t)3u)
#define NN_CONV2D_SCRATCH_BYTES(fh, fw, c) \
    (4u * NN_CONV2D_TAPS(fh, fw, c) + 2u * NN_CONV2D_GATHER_BYTES(NN_CONV2D_TAPS(fh, fw, c)))
#define NN_CONV2D_MAXPOOL_SCRATCH_BYTES(fh, fw, c, out_c) (NN_CONV2D_SCRATCH_BYTES(fh, fw, c) + 4u * (size_t)(out_c))

/* bias may be NULL (no bias). scratch: NN_CONV2D_SCRATCH_BYTES, for CONV_2D only. */
void nn_conv2d_s8(const nn_conv2d_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                  int8_t *output, uint32_t *scratch);
void nn_depthwise_conv2d_s8(const nn_depthwise_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output);
/* Output rows [row_begin, row_end) only, written from `output` on (output row row_begin lands at output[0]);
 * the input is the whole input tensor. Rows are produced in increasing order: the plan executor uses this to
 * compute a convolution a few rows at a time (conv + max pool fusion) and for outputs overlapping inputs. */
void nn_conv2d_s8_rows(const nn_conv2d_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                       uint16_t row_begin, uint16_t row_end, int8_t *output, uint32_t *scratch);
/* CONV_2D then MAX_POOL_2D with pool stride >= pool window in both directions (windows do not overlap):
 * pp describes the pool (its input_h/w are the convolution's output_h/w, channels its output_c). scratch:
 * NN_CONV2D_MAXPOOL_SCRATCH_BYTES. The output is the pool's. */
void nn_conv2d_maxpool_s8(const nn_conv2d_params_t *cp, const nn_pool2d_params_t *pp, const int8_t *input,
                          const int8_t *filter, const int32_t *bias, int8_t *output, uint32_t *scratch);
void nn_depthwise_conv2d_s8_rows(const nn_depthwise_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, uint16_t row_begin, uint16_t row_end, int8_t *output);
void nn_fully_connected_s8(const nn_fully_connected_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output);
/* FULLY_CONNECTED with symmetric weights in the four-row interleaved layout NN_FC_WEIGHTS_ROW4, the input offset
 * already folded into the bias (input_offset and filter_offset are not read), and no left shift (every
 * output_shift <= 0). The weight matrix is zero-padded
 * to a multiple of four rows and of four inputs (d4 = input_depth rounded up to 4); for each group of four rows
 * (4 * d4 bytes), d4 / 4 blocks of 16 bytes: block k holds row 0's inputs 4k..4k+3, then row 1's, row 2's,
 * row 3's. The bias (if not NULL) is padded with zeros to a multiple of four rows as well. filter must be
 * word-aligned (the plan's weight arrays are). */
#define NN_FC_WEIGHTS_ROWS 0
#define NN_FC_WEIGHTS_ROW4 1
void nn_fully_connected_s8_row4(const nn_fully_connected_params_t *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output);
/* FULLY_CONNECTED for small layers (NN_FC_WEIGHTS_SMALL, written by vigil.export.plan.fc_small_rows): at most
 * NN_FC_SMALL_MAX_INPUTS inputs, held widened in registers for the whole layer, and one self-contained record
 * of NN_FC_SMALL_ROW_WORDS(input_words) int32 words per output row, everything precomputed on the host:
 *   [0]              2 * (bias - in_zp * sum(row))   the bias with the input offset folded in, doubled (below)
 *   [1 + 2k, 2 + 2k] inputs 4k..4k+3: the weights doubled, as int16 pairs {2w[4k], 2w[4k+2]},
 *                    {2w[4k+1], 2w[4k+3]} (low halfword first), zeros past the last input (k < input_words)
 *   [m = 1 + 2 * input_words]  multiplier, QuantizeMultiplier's, in [2^30, 2^31)
 *   [m + 1]          2^(e-1) + out_zp * 2^e: rounding constant and output zero point, e = -shift in [1, 31]
 *   [m + 2]          e, the right shift
 * (in the order the kernel uses them, read two words at a time).
 * The accumulator is 2 * acc, so TFLM's rounding doubling high multiply of acc by the multiplier is SMMULR
 * (round(2 * acc * m / 2^32)), and its rounding divide by 2^e then + out_zp is (h + [2] - (h < 0)) >> e:
 * both exact (the host refuses a layer whose accumulators could leave the ranges where that holds).
 * input: word-aligned, input_words * 4 bytes readable (the plan's arena offsets and size are multiples of 4;
 * the weights past the last input are zeros, so those bytes do not count). */
#define NN_FC_SMALL_MAX_INPUTS 16
#define NN_FC_SMALL_CHANNEL_WORDS 4 /* bias, multiplier, rounding, shift */
#define NN_FC_SMALL_ROW_WORDS(input_words) (NN_FC_SMALL_CHANNEL_WORDS + 2 * (input_words))
typedef struct nn_fc_small_params {
    const int32_t *rows;    /* output_c records */
    uint16_t input_words;   /* ceil(input_depth / 4), 1..NN_FC_SMALL_MAX_INPUTS / 4 */
    uint16_t output_c;
    int32_t activation_min; /* the fused activation's clamp, output zero point included */
    int32_t activation_max;
} nn_fc_small_params_t;
#define NN_FC_WEIGHTS_SMALL 2
void nn_fully_connected_s8_small(const nn_fc_small_params_t *p, const int8_t *input, int8_t *output);
void nn_max_pool2d_s8(const nn_pool2d_params_t *p, const int8_t *input, int8_t *output);
void nn_avg_pool2d_s8(const nn_pool2d_params_t *p, const int8_t *input, int8_t *output);
void nn_mean_s8(const nn_mean_params_t *p, const int8_t *input, int8_t *output);
void nn_logistic_s8(const nn_logistic_params_t *p, const int8_t *input, int8_t *output);
void nn_softmax_s8(const nn_softmax_params_t *p, const int8_t *input, int8_t *output);
void nn_relu_s8(const nn_relu_params_t *p, const int8_t *input, int8_t *output);
void nn_add_s8(const nn_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
/* ADD with broadcasting: p->size is not used, b gives the output shape and the input strides. */
void nn_add_broadcast_s8(const nn_add_params_t *p, const nn_broadcast4d_t *b, const int8_t *input1,
                         const int8_t *input2, int8_t *output);

#endif
