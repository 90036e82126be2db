/* A compiled int8 network for vigil's engine: the layout of NAME_plan.h, written by the host
 * (vigil.export.headers from vigil.export.plan). Everything is decided on the host: shapes, paddings,
 * per-channel requantization (TFLM QuantizeMultiplier semantics), the clamp range of the fused activation,
 * and where every activation tensor lives in one static arena. The executor only walks `ops`.
 *
 * Conventions
 * - Batch 1; every activation is int8, NHWC without N: (h, w, c), c fastest. A vector of n values is
 *   (1, 1, n).
 * - Offsets are byte offsets into the caller's arena (NN_ARENA_ALIGN-aligned, arena_bytes long).
 * - Weights keep TFLite's layouts: CONV_2D (out_c, kh, kw, in_c); DEPTHWISE_CONV_2D (1, kh, kw, out_c)
 *   with out_c = in_c * depth_multiplier; FULLY_CONNECTED (out_n, in_n) unless p[NN_P_FC_LAYOUT] says
 *   otherwise (below). Biases int32 (always present,
 *   zeros when the model had none).
 * - Per-op parameters match nn_kernels.h (the executor fills the kernels' structs from nn_op: offsets
 *   there are -in_zp / +out_zp; MEAN takes +in_zp).
 * - out_mult/out_shift: per output channel, real = in_scale * w_scale[c] / out_scale = out_mult * 2^(out_shift-31)
 *   (TFLM sign convention: out_shift > 0 shifts left). Requantize with TFLM's
 *   MultiplyByQuantizedMultiplier (double rounding), add out_zp, clamp to [act_min, act_max].
 * - Zero points are the tensors' own (TFLM kernels use input_offset = -in_zp).
 * - p[]: op-specific fixed-point parameters, see NN_P_* below. */
#ifndef VIGIL_NN_PLAN_H
#define VIGIL_NN_PLAN_H

#include <stdint.h>

struct nn_fc_small_params; /* nn_kernels.h */

/* Arena offsets are multiples of this, so int32 views of a buffer are aligned. */
#define NN_ARENA_ALIGN 4u
/* Op-specific parameter slots in nn_op.p. */
#define NN_OP_PARAMS 8u

typedef enum nn_op_kind {
    NN_OP_CONV_2D = 1,
    NN_OP_DEPTHWISE_CONV_2D = 2,
    NN_OP_FULLY_CONNECTED = 3,
    NN_OP_MAX_POOL_2D = 4,
    NN_OP_AVERAGE_POOL_2D = 5,
    NN_OP_RESHAPE = 6, /* in place: out_offset == in_offset, nothing to do */
    NN_OP_SOFTMAX = 7,
    NN_OP_LOGISTIC = 8,
    NN_OP_MEAN = 9,
    NN_OP_ADD = 10,
    NN_OP_RELU = 11, /* standalone (not fused) RELU: rescales to the output's quantization */
    NN_OP_RELU6 = 12 /* standalone RELU6: a clamp in the input's quantization, as TFLM */
} nn_op_kind;

/* nn_op.p[] contents per kind (everything as TFLM's Prepare computes it):
 * SOFTMAX:  p[0] input_multiplier, p[1] input_left_shift, p[2] diff_min (beta folded in; out is 1/256, -128)
 * LOGISTIC: p[0] input_multiplier, p[1] input_left_shift, p[2] input_range_radius (out is 1/256, -128)
 * MEAN:     p[0] multiplier, p[1] shift of in_scale/out_scale with 1/count folded in (TFLM's QuantizedMeanOrSum),
 *           p[2] values averaged per output value (count), p[3] 1 if H is reduced, p[4] 1 if W is reduced (at
 *           least one of them). `out` is the output tensor's own shape: with keep_dims false the reduced axis is
 *           gone from it (a (1, H, C) output of a W-only mean is out = {1, H, C}), so only p[3]/p[4] say which
 *           axes are reduced. Either way the output holds [reduce_h ? 1 : in.h][reduce_w ? 1 : in.w][in.c].
 * FULLY_CONNECTED: p[0] the weights' layout, NN_FC_WEIGHTS_ROWS (TFLite's (out_n, in_n)) or
 *           NN_FC_WEIGHTS_ROW4 (nn_kernels.h; vigil.export.plan writes this one unless a channel's shift is
 *           a left shift). With NN_FC_WEIGHTS_ROW4 the bias already holds bias - in_zp * sum(row) (the input
 *           offset folded in on the host) and the kernel adds no offset to the input.
 *           NN_FC_WEIGHTS_SMALL (plans compiled with small_fc, for layers of at most NN_FC_SMALL_MAX_INPUTS
 *           inputs): the op's fc_small points at the kernel's whole parameter struct, const data from the host
 *           (nn_fc_small_params_t in nn_kernels.h: one record per output row with bias, requantization constants
 *           and weights); weights/bias/out_mult/out_shift are NULL and the executor fills nothing at run time.
 * RELU:     p[0] multiplier, p[1] shift of in_scale/out_scale; clamp [act_min, act_max] = [out_zp, 127]
 * RELU6:    no p[]; clamp [act_min, act_max] = [in_zp, 6 quantized with the input's scale and zero point]
 * ADD:      p[0] in1 multiplier, p[1] in1 shift, p[2] in2 multiplier, p[3] in2 shift,
 *           p[4] out multiplier, p[5] out shift, p[6] left shift (20). The first operand is the activation at
 *           in_offset; the second is the activation at in2_offset (weights == NULL) or a constant int8 array in
 *           `weights` (a dilated conv's bias as the converter writes it, a Keras `x + v`; the host makes a
 *           constant the second operand, swapping the operands' parameters with it). Shapes broadcast as in
 *           NumPy and TFLM's BroadcastAdd4DSlow: along each of h, w, c, in and in2 each either equal out or
 *           are 1 (then repeated along that axis), e.g. (h, w, c) + (1, 1, c), (h, w, c) + (h, w, 1),
 *           (1, 1, c) + (h, w, 1); out is the broadcast shape. The executor derives the per-axis strides (0
 *           along a broadcast axis) from in, in2 and out, and refuses shapes that do not broadcast. */
enum {
    NN_P_MULT = 0,
    NN_P_SHIFT = 1,
    NN_P_SOFTMAX_DIFF_MIN = 2,
    NN_P_LOGISTIC_RADIUS = 2,
    NN_P_MEAN_COUNT = 2,
    NN_P_MEAN_REDUCE_H = 3,
    NN_P_MEAN_REDUCE_W = 4,
    NN_P_FC_LAYOUT = 0,
    NN_P_ADD_IN1_MULT = 0,
    NN_P_ADD_IN1_SHIFT = 1,
    NN_P_ADD_IN2_MULT = 2,
    NN_P_ADD_IN2_SHIFT = 3,
    NN_P_ADD_OUT_MULT = 4,
    NN_P_ADD_OUT_SHIFT = 5,
    NN_P_ADD_LEFT_SHIFT = 6
};

/* nn_op.flags. Both are opt-in on the host (vigil.export.plan.compile_plan(fuse_pool=, overlap=)): a plan
 * carries them only for an engine whose kernels honour these contracts.
 * NN_OP_FLAG_POOL: a CONV_2D/DEPTHWISE_CONV_2D whose output goes straight through a MAX_POOL_2D (pool_*
 *   fields; window, strides, top/left padding, clamp, as nn_pool2d_params). The convolution's output
 *   (shape `mid`) is never stored whole: the kernel computes it pool_h rows at a time into the scratch
 *   buffer (scratch_offset; pool_h * mid.w * mid.c bytes, valid during this op only) and pools them into
 *   `out`. Same numbers as the two ops run one after the other. A CONV_2D's own scratch
 *   (NN_CONV2D_SCRATCH_BYTES) follows the strip at the next multiple of NN_ARENA_ALIGN. A CONV_2D whose pool
 *   windows do not overlap (nn_op_pools_directly) has no strip: nn_conv2d_maxpool_s8 computes one pooled
 *   output at a time in NN_CONV2D_MAXPOOL_SCRATCH_BYTES of scratch.
 * Every CONV_2D has scratch (its im2col patches, nn_kernels.h) at scratch_offset, fused or not.
 * NN_OP_FLAG_OUT_OVERLAPS_IN: the output shares arena bytes with the input (which dies here). The
 *   planner guarantees that output row r ends before the first input row that rows r, r+1, ... read
 *   (in_offset - out_offset >= max_r ((r+1) * out_row - max(0, r*stride_h - pad_h) * in_row)), so the
 *   kernel must write output rows in increasing order and never write a row before it has finished
 *   reading for the previous rows (no look-ahead buffering of later output rows). */
#define NN_OP_FLAG_POOL 0x01u
#define NN_OP_FLAG_OUT_OVERLAPS_IN 0x02u

typedef struct nn_shape {
    uint16_t h, w, c;
} nn_shape;

typedef struct nn_op {
    uint8_t kind;             /* nn_op_kind */
    uint8_t flags;            /* NN_OP_FLAG_* */
    uint16_t source_index;    /* operator index in the .tflite (for reports) */
    uint32_t in_offset;       /* arena offsets */
    uint32_t in2_offset;      /* ADD only */
    uint32_t out_offset;
    nn_shape in, in2, out;    /* in2: ADD only */
    uint16_t filter_h, filter_w;   /* conv kernel or pool window (1x1 for FULLY_CONNECTED) */
    uint16_t stride_h, stride_w;
    uint16_t dilation_h, dilation_w;
    uint16_t pad_h, pad_w;    /* padding before (top, left); TFLite SAME puts any odd extra after */
    uint16_t depth_multiplier;
    int16_t in_zp, in2_zp, out_zp;
    int16_t act_min, act_max; /* fused NONE/RELU/RELU6 as an int8 clamp range */
    uint32_t macs;            /* multiply-accumulates of this op (for instructions per MAC) */
    const int8_t *weights;    /* NULL when the op has none */
    const int32_t *bias;
    const int32_t *out_mult;
    const int8_t *out_shift;  /* in [-31, 30], as nn_kernels.h takes them */
    int32_t p[NN_OP_PARAMS];
    const struct nn_fc_small_params *fc_small; /* FULLY_CONNECTED with NN_FC_WEIGHTS_SMALL only, else NULL */
    /* NN_OP_FLAG_POOL only (zeros otherwise) */
    nn_shape mid;             /* the convolution's output shape, before the pool */
    uint16_t pool_h, pool_w, pool_stride_h, pool_stride_w, pool_pad_h, pool_pad_w;
    int16_t pool_act_min, pool_act_max;
    uint32_t scratch_offset, scratch_bytes; /* arena bytes this op alone may use */
} nn_op;

/* A fused CONV_2D + MAX_POOL_2D that nn_conv2d_maxpool_s8 runs window by window (vigil.export.plan decides
 * the scratch size with the same test: pools_directly). */
static inline int nn_op_pools_directly(const nn_op *op)
{
    return op->kind == NN_OP_CONV_2D && (op->flags & NN_OP_FLAG_POOL) && op->pool_stride_h >= op->pool_h &&
           op->pool_stride_w >= op->pool_w;
}

typedef struct nn_plan {
    const nn_op *ops;
    uint16_t n_ops;
    uint32_t arena_bytes;
    uint32_t weight_bytes;
    uint32_t macs;
    uint32_t in_offset, in_bytes;
    uint32_t out_offset, out_bytes;
    nn_shape in_shape, out_shape;
    int32_t in_zp, out_zp;
    float in_scale, out_scale; /* for the application to (de)quantize; no kernel reads them */
} nn_plan;

#endif /* VIGIL_NN_PLAN_H */
