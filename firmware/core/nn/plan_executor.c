/* The plan executor (see plan_executor.h): one dispatch per op, kernel parameters copied from nn_op (or, for the
 * small FULLY_CONNECTED, taken as they are from the plan). */
#include "nn/plan_executor.h"

#include <string.h>

#include "nn/nn_kernels.h"

/* In nn_op, zero points are the tensors' own; the kernels take input_offset = -zp, output_offset = +zp. */

/* The parts both convolutions' kernel parameters share (nn_kernels.h), from the op. out: the convolution's own
 * output (op->mid when a max pool is fused after it). */
static void conv_parts(const nn_op *op, nn_shape out, nn_quant_t *q, nn_conv_geometry_t *g, nn_per_channel_quant_t *pc)
{
    q->input_offset = -(int32_t)op->in_zp;
    q->output_offset = op->out_zp;
    q->activation_min = op->act_min;
    q->activation_max = op->act_max;
    g->input_h = op->in.h;
    g->input_w = op->in.w;
    g->input_c = op->in.c;
    g->filter_h = op->filter_h;
    g->filter_w = op->filter_w;
    g->output_h = out.h;
    g->output_w = out.w;
    g->output_c = out.c;
    g->stride_h = op->stride_h;
    g->stride_w = op->stride_w;
    g->dilation_h = op->dilation_h;
    g->dilation_w = op->dilation_w;
    g->pad_h = op->pad_h;
    g->pad_w = op->pad_w;
    pc->output_multiplier = op->out_mult;
    pc->output_shift = op->out_shift;
}

static void conv_params(const nn_op *op, nn_shape out, nn_conv2d_params_t *p)
{
    conv_parts(op, out, &p->quant, &p->geometry, &p->per_channel);
}

static void depthwise_params(const nn_op *op, nn_shape out, nn_depthwise_conv2d_params_t *p)
{
    conv_parts(op, out, &p->quant, &p->geometry, &p->per_channel);
    p->depth_multiplier = op->depth_multiplier;
}

static void pool_params(const nn_op *op, nn_pool2d_params_t *p)
{
    p->activation_min = op->act_min;
    p->activation_max = op->act_max;
    p->input_h = op->in.h;
    p->input_w = op->in.w;
    p->channels = op->in.c;
    p->filter_h = op->filter_h;
    p->filter_w = op->filter_w;
    p->output_h = op->out.h;
    p->output_w = op->out.w;
    p->stride_h = op->stride_h;
    p->stride_w = op->stride_w;
    p->pad_h = op->pad_h;
    p->pad_w = op->pad_w;
}

static uint32_t shape_elems(nn_shape s)
{
    return (uint32_t)s.h * s.w * s.c;
}

static int same_shape(nn_shape a, nn_shape b)
{
    return a.h == b.h && a.w == b.w && a.c == b.c;
}

/* NN_OP_FLAG_POOL: for each pooled output row, the convolution rows its window covers (at most pool_h of them,
 * clipped to the convolution's output) are made present in the scratch buffer, then that strip is max-pooled
 * as a one-row pool whose window is exactly the strip. Taps outside the convolution's output never count in a
 * max pool, so this is the same as the convolution followed by the pool. When windows overlap (pool stride <
 * pool_h) the rows already computed are moved to the front of the scratch instead of being recomputed. */
static void run_conv_pool(const nn_op *op, const int8_t *in, int8_t *out, int8_t *scratch)
{
    nn_conv2d_params_t cp;
    nn_depthwise_conv2d_params_t dp;
    const int is_conv = op->kind == NN_OP_CONV_2D;
    if (is_conv) {
        conv_params(op, op->mid, &cp);
    } else {
        depthwise_params(op, op->mid, &dp);
    }
    /* the pool over the whole convolution output */
    nn_pool2d_params_t pp = {
        .activation_min = op->pool_act_min, .activation_max = op->pool_act_max,
        .input_h = op->mid.h, .input_w = op->mid.w, .channels = op->mid.c,
        .filter_h = op->pool_h, .filter_w = op->pool_w, .output_h = op->out.h, .output_w = op->out.w,
        .stride_h = op->pool_stride_h, .stride_w = op->pool_stride_w,
        .pad_h = op->pool_pad_h, .pad_w = op->pool_pad_w,
    };
    if (nn_op_pools_directly(op)) {
        nn_conv2d_maxpool_s8(&cp, &pp, in, op->weights, op->bias, out, (uint32_t *)(void *)scratch);
        return;
    }
    /* from here on, one pooled row at a time over a strip that is exactly the window's rows */
    pp.output_h = 1;
    pp.stride_h = 1;
    pp.pad_h = 0;
    const size_t out_row = (size_t)op->out.w * op->out.c;
    const size_t mid_row = (size_t)op->mid.w * op->mid.c;
    const size_t strip_bytes = ((size_t)op->pool_h * mid_row + NN_ARENA_ALIGN - 1u) & ~(size_t)(NN_ARENA_ALIGN - 1u);
    uint32_t *conv_scratch = (uint32_t *)(void *)(scratch + strip_bytes);
    uint16_t have_lo = 0, have_hi = 0; /* convolution rows [have_lo, have_hi) are in scratch, from row 0 on */
    for (uint16_t r = 0; r < op->out.h; r++) {
        const int32_t y0 = (int32_t)r * op->pool_stride_h - op->pool_pad_h;
        const int32_t y_end = y0 + op->pool_h;
        const uint16_t lo = (uint16_t)(y0 < 0 ? 0 : y0);
        const uint16_t hi = (uint16_t)(y_end > op->mid.h ? op->mid.h : y_end);
        /* windows only move down: keep the rows still needed, compute the rest */
        uint16_t from = lo;
        if (lo >= have_lo && lo < have_hi) {
            memmove(scratch, scratch + (size_t)(lo - have_lo) * mid_row, (size_t)(have_hi - lo) * mid_row);
            from = have_hi;
        }
        int8_t *dst = scratch + (size_t)(from - lo) * mid_row;
        if (is_conv) {
            nn_conv2d_s8_rows(&cp, in, op->weights, op->bias, from, hi, dst, conv_scratch);
        } else {
            nn_depthwise_conv2d_s8_rows(&dp, in, op->weights, op->bias, from, hi, dst);
        }
        have_lo = lo;
        have_hi = hi;
        pp.input_h = (uint16_t)(hi - lo);
        pp.filter_h = pp.input_h;
        nn_max_pool2d_s8(&pp, scratch, out + (size_t)r * out_row);
    }
}

/* Number of axes of an activation (h, w, c) and of the ADD kernel's broadcast shape (n, h, w, c). */
#define NN_HWC_AXES 3u
#define NN_BROADCAST_AXES 4u

/* One operand's element strides along the output's (n, h, w, c) for nn_add_broadcast_s8: 0 along an axis where
 * the operand has size 1 and the output does not (the same element repeats, as TFLM's broadcast loop does), its
 * row-major stride elsewhere. 0 if the operand does not broadcast to out (an axis neither equal nor 1). */
static int add_strides(nn_shape in, nn_shape out, uint32_t strides[NN_BROADCAST_AXES])
{
    const uint16_t in_dims[NN_HWC_AXES] = {in.h, in.w, in.c};
    const uint16_t out_dims[NN_HWC_AXES] = {out.h, out.w, out.c};
    uint32_t step = 1u;
    for (uint32_t a = NN_HWC_AXES; a-- > 0u;) {
        if (in_dims[a] != out_dims[a] && in_dims[a] != 1u) {
            return 0;
        }
        strides[a + 1u] = in_dims[a] == out_dims[a] ? step : 0u;
        step *= in_dims[a];
    }
    strides[0] = 0u; /* batch 1 */
    return 1;
}

static nn_status run_add(const nn_op *op, const uint8_t *arena, int8_t *out)
{
    const int8_t *in1 = (const int8_t *)(arena + op->in_offset);
    const int8_t *in2 = op->weights != NULL ? op->weights : (const int8_t *)(arena + op->in2_offset);
    nn_add_params_t p = {
        .input1_offset = -(int32_t)op->in_zp, .input2_offset = -(int32_t)op->in2_zp,
        .output_offset = op->out_zp, .activation_min = op->act_min, .activation_max = op->act_max,
        .left_shift = op->p[NN_P_ADD_LEFT_SHIFT],
        .input1_multiplier = op->p[NN_P_ADD_IN1_MULT], .input1_shift = (int8_t)op->p[NN_P_ADD_IN1_SHIFT],
        .input2_multiplier = op->p[NN_P_ADD_IN2_MULT], .input2_shift = (int8_t)op->p[NN_P_ADD_IN2_SHIFT],
        .output_multiplier = op->p[NN_P_ADD_OUT_MULT], .output_shift = (int8_t)op->p[NN_P_ADD_OUT_SHIFT],
    };
    if (same_shape(op->in, op->out) && same_shape(op->in2, op->out)) {
        p.size = shape_elems(op->out); /* one flat pass, TFLM's Add */
        nn_add_s8(&p, in1, in2, out);
        return NN_OK;
    }
    /* TFLM's BroadcastAdd4DSlow: every output element from the operands' elements at its index, an operand's
     * index frozen along the axes where it has size 1 */
    nn_broadcast4d_t b = {.out_dims = {1u, op->out.h, op->out.w, op->out.c}};
    if (!add_strides(op->in, op->out, b.in1_strides) || !add_strides(op->in2, op->out, b.in2_strides)) {
        return NN_ERR_UNSUPPORTED;
    }
    nn_add_broadcast_s8(&p, &b, in1, in2, out);
    return NN_OK;
}

/* Every op but the small FULLY_CONNECTED: fills the kernel's parameter struct from nn_op and calls it. Kept out
 * of line (its frame holds every kind's struct) so the small-layer path in nn_plan_run_op pays none of that. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static nn_status run_op_filled(const nn_op *op, uint8_t *arena)
{
    const int8_t *in = (const int8_t *)(arena + op->in_offset);
    int8_t *out = (int8_t *)(arena + op->out_offset);
    switch ((nn_op_kind)op->kind) {
    case NN_OP_CONV_2D:
    case NN_OP_DEPTHWISE_CONV_2D:
        if (op->flags & NN_OP_FLAG_POOL) {
            run_conv_pool(op, in, out, (int8_t *)(arena + op->scratch_offset));
        } else if (op->kind == NN_OP_CONV_2D) {
            /* rows in increasing order: also honours NN_OP_FLAG_OUT_OVERLAPS_IN */
            nn_conv2d_params_t p;
            conv_params(op, op->out, &p);
            nn_conv2d_s8_rows(&p, in, op->weights, op->bias, 0, op->out.h, out,
                              (uint32_t *)(void *)(arena + op->scratch_offset));
        } else {
            nn_depthwise_conv2d_params_t p;
            depthwise_params(op, op->out, &p);
            nn_depthwise_conv2d_s8_rows(&p, in, op->weights, op->bias, 0, op->out.h, out);
        }
        return NN_OK;
    case NN_OP_FULLY_CONNECTED: {
        const nn_fully_connected_params_t p = {
            .input_offset = -(int32_t)op->in_zp, .filter_offset = 0, .output_offset = op->out_zp,
            .activation_min = op->act_min, .activation_max = op->act_max,
            .batches = 1, .input_depth = (uint16_t)shape_elems(op->in), .output_c = op->out.c,
            .per_channel = 1, .output_multiplier = op->out_mult, .output_shift = op->out_shift,
        };
        if (op->p[NN_P_FC_LAYOUT] == NN_FC_WEIGHTS_ROW4) {
            nn_fully_connected_s8_row4(&p, in, op->weights, op->bias, out); /* offset folded into the bias */
        } else {
            nn_fully_connected_s8(&p, in, op->weights, op->bias, out);
        }
        return NN_OK;
    }
    case NN_OP_MAX_POOL_2D:
    case NN_OP_AVERAGE_POOL_2D: {
        /* both kernels write rows in increasing order (overlap-safe) */
        nn_pool2d_params_t p;
        pool_params(op, &p);
        if (op->kind == NN_OP_MAX_POOL_2D) {
            nn_max_pool2d_s8(&p, in, out);
        } else {
            nn_avg_pool2d_s8(&p, in, out);
        }
        return NN_OK;
    }
    case NN_OP_RESHAPE:
        return NN_OK; /* in place: the planner gave output and input the same bytes */
    case NN_OP_SOFTMAX: {
        const nn_softmax_params_t p = {
            .input_multiplier = op->p[NN_P_MULT], .diff_min = op->p[NN_P_SOFTMAX_DIFF_MIN],
            .input_left_shift = (int8_t)op->p[NN_P_SHIFT],
            .rows = (uint16_t)((uint32_t)op->in.h * op->in.w), .depth = op->in.c,
        };
        nn_softmax_s8(&p, in, out);
        return NN_OK;
    }
    case NN_OP_LOGISTIC: {
        const nn_logistic_params_t p = {
            .input_zero_point = op->in_zp, .input_range_radius = op->p[NN_P_LOGISTIC_RADIUS],
            .input_multiplier = op->p[NN_P_MULT], .input_left_shift = (int8_t)op->p[NN_P_SHIFT],
            .size = shape_elems(op->in),
        };
        nn_logistic_s8(&p, in, out);
        return NN_OK;
    }
    case NN_OP_MEAN: {
        /* the reduced axes come from the plan: with keep_dims false the output shape cannot tell them (a W-only
         * mean's (1, H, C) output is out = {1, H, C}, as an H-only mean's would be) */
        const nn_mean_params_t p = {
            .input_zero_point = op->in_zp, .output_offset = op->out_zp,
            .output_multiplier = op->p[NN_P_MULT], .output_shift = (int8_t)op->p[NN_P_SHIFT],
            .reduce_h = op->p[NN_P_MEAN_REDUCE_H] != 0, .reduce_w = op->p[NN_P_MEAN_REDUCE_W] != 0,
            .input_h = op->in.h, .input_w = op->in.w, .channels = op->in.c,
        };
        const uint32_t kept = (uint32_t)(p.reduce_h ? 1u : op->in.h) * (p.reduce_w ? 1u : op->in.w) * op->in.c;
        if ((!p.reduce_h && !p.reduce_w) || kept != shape_elems(op->out)) {
            return NN_ERR_UNSUPPORTED; /* no reduced axis (a plan from before the flags) or a wrong output size */
        }
        nn_mean_s8(&p, in, out);
        return NN_OK;
    }
    case NN_OP_ADD:
        return run_add(op, arena, out);
    case NN_OP_RELU:
    case NN_OP_RELU6: {
        const nn_relu_params_t p = {
            .input_zero_point = op->in_zp, .output_offset = op->out_zp,
            .output_multiplier = op->p[NN_P_MULT], .output_shift = (int8_t)op->p[NN_P_SHIFT],
            .rescale = op->kind == NN_OP_RELU, .activation_min = op->act_min, .activation_max = op->act_max,
            .size = shape_elems(op->in),
        };
        nn_relu_s8(&p, in, out);
        return NN_OK;
    }
    }
    return NN_ERR_UNSUPPORTED;
}

nn_status nn_plan_run_op(const nn_op *op, uint8_t *arena)
{
    if (op->fc_small != NULL) { /* NN_FC_WEIGHTS_SMALL: the kernel's parameters are const data in the plan */
        nn_fully_connected_s8_small(op->fc_small, (const int8_t *)(arena + op->in_offset),
                                    (int8_t *)(arena + op->out_offset));
        return NN_OK;
    }
    return run_op_filled(op, arena);
}

nn_status nn_plan_run(const nn_plan *plan, uint8_t *arena, size_t arena_bytes, nn_op_hook_fn hook, void *ctx)
{
    if (plan == NULL || arena == NULL || ((uintptr_t)arena % NN_ARENA_ALIGN) != 0u) {
        return NN_ERR_ARGS;
    }
    if (arena_bytes < plan->arena_bytes) {
        return NN_ERR_ARENA_TOO_SMALL;
    }
    const nn_op *const end = plan->ops + plan->n_ops;
    if (hook == NULL) { /* the plain loop: a model of a few small ops is a few hundred instructions in all */
        for (const nn_op *op = plan->ops; op != end; op++) {
            const nn_status s = nn_plan_run_op(op, arena);
            if (s != NN_OK) {
                return s;
            }
        }
        return NN_OK;
    }
    for (const nn_op *op = plan->ops; op != end; op++) {
        const uint16_t i = (uint16_t)(op - plan->ops);
        hook(ctx, i, NN_OP_BEFORE);
        const nn_status s = nn_plan_run_op(op, arena);
        hook(ctx, i, NN_OP_AFTER);
        if (s != NN_OK) {
            return s;
        }
    }
    return NN_OK;
}
