/* The plan executor (firmware/core/nn/plan_executor.c) on small hand-built plans whose results are known
 * exactly: a 3x3 all-ones convolution with unit requantization (its output is the window sum), a max pool,
 * the same two ops fused (NN_OP_FLAG_POOL), the convolution writing over its own input
 * (NN_OP_FLAG_OUT_OVERLAPS_IN), an in-place RESHAPE, an ADD with a broadcast (1, 1, c) constant, ADDs of two
 * activations that broadcast, MEAN over W or H alone (reduced axes from p[]); plus the arena-size refusal and the
 * per-op hook. Whole converted models are compared with TFLM in
 * tests/test_plan_executor.py. */
#include <string.h>

#include "check.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"
#include "nn/plan_executor.h"

#define PT_IN_SIDE 5u                          /* 5x5x1 input */
#define PT_IN_BYTES (PT_IN_SIDE * PT_IN_SIDE)
#define PT_MID_SIDE 3u                         /* 3x3 VALID convolution output */
#define PT_MID_BYTES (PT_MID_SIDE * PT_MID_SIDE)
#define PT_OUT_SIDE 2u                         /* 2x2 max pool, stride 1 */
#define PT_OUT_BYTES (PT_OUT_SIDE * PT_OUT_SIDE)
#define PT_CONV_SCRATCH 64u               /* the convolution's im2col scratch */
#define PT_CONV_SCRATCH_BYTES NN_CONV2D_SCRATCH_BYTES(3, 3, 1)
#define PT_STRIP_BYTES 8u                 /* fused: 2 rows of 3, rounded up to a word */
#define PT_ARENA_BYTES 144u              /* the fused op's scratch reaches 64 + 8 + 60 = 132 */
#define PT_ADD_PIXELS 4u
#define PT_ADD_C 3u
#define PT_HOOK_LOG 8u

/* multiplier 2^30 with shift 1 is exactly 1.0: requantization leaves the sum as it is */
#define PT_UNIT_MULT (1 << 30)
#define PT_UNIT_SHIFT 1

static const int8_t ones3x3[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
static const int32_t zero_bias[1] = {0};
static const int32_t unit_mult[1] = {PT_UNIT_MULT};
static const int8_t unit_shift[1] = {PT_UNIT_SHIFT};

static nn_op conv_op(uint32_t in_offset, uint32_t out_offset)
{
    nn_op op;
    memset(&op, 0, sizeof op);
    op.kind = NN_OP_CONV_2D;
    op.in_offset = in_offset;
    op.out_offset = out_offset;
    op.in = (nn_shape){PT_IN_SIDE, PT_IN_SIDE, 1};
    op.out = (nn_shape){PT_MID_SIDE, PT_MID_SIDE, 1};
    op.filter_h = op.filter_w = 3;
    op.stride_h = op.stride_w = 1;
    op.dilation_h = op.dilation_w = 1;
    op.depth_multiplier = 1;
    op.act_min = NN_INT8_MIN;
    op.act_max = NN_INT8_MAX;
    op.weights = ones3x3;
    op.bias = zero_bias;
    op.out_mult = unit_mult;
    op.out_shift = unit_shift;
    op.scratch_offset = PT_CONV_SCRATCH;
    op.scratch_bytes = PT_CONV_SCRATCH_BYTES;
    return op;
}

static nn_op pool_op(uint32_t in_offset, uint32_t out_offset)
{
    nn_op op;
    memset(&op, 0, sizeof op);
    op.kind = NN_OP_MAX_POOL_2D;
    op.in_offset = in_offset;
    op.out_offset = out_offset;
    op.in = (nn_shape){PT_MID_SIDE, PT_MID_SIDE, 1};
    op.out = (nn_shape){PT_OUT_SIDE, PT_OUT_SIDE, 1};
    op.filter_h = op.filter_w = 2;
    op.stride_h = op.stride_w = 1;
    op.act_min = NN_INT8_MIN;
    op.act_max = NN_INT8_MAX;
    return op;
}

static nn_plan make_plan(const nn_op *ops, uint16_t n, uint32_t in_offset, uint32_t out_offset, uint32_t out_bytes)
{
    nn_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.ops = ops;
    plan.n_ops = n;
    plan.arena_bytes = PT_ARENA_BYTES;
    plan.in_offset = in_offset;
    plan.in_bytes = PT_IN_BYTES;
    plan.out_offset = out_offset;
    plan.out_bytes = out_bytes;
    return plan;
}

/* input v(y, x) = 5y + x - 12: the all-ones 3x3 window sum at (y, x) is 9 * (5y + x - 6) */
static void fill_input(uint8_t *arena, uint32_t offset)
{
    memset(arena, 0x5A, PT_ARENA_BYTES); /* garbage everywhere else */
    for (unsigned i = 0; i < PT_IN_BYTES; i++) {
        arena[offset + i] = (uint8_t)(int8_t)((int)i - 12);
    }
}

typedef struct hook_log {
    unsigned n;
    uint16_t index[PT_HOOK_LOG];
    nn_op_phase phase[PT_HOOK_LOG];
} hook_log_t;

static void log_hook(void *ctx, uint16_t op_index, nn_op_phase phase)
{
    hook_log_t *log = ctx;
    if (log->n < PT_HOOK_LOG) {
        log->index[log->n] = op_index;
        log->phase[log->n] = phase;
    }
    log->n++;
}

static void check_pooled(check_totals_t *t, const uint8_t *arena, uint32_t offset, const char *what)
{
    static const int8_t expected[PT_OUT_BYTES] = {0, 9, 45, 54};
    CHECK(t, memcmp(arena + offset, expected, PT_OUT_BYTES) == 0, "%s: pooled output", what);
}

static void test_conv_then_pool(check_totals_t *t)
{
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    const nn_op ops[2] = {conv_op(0, 28), pool_op(28, 40)};
    const nn_plan plan = make_plan(ops, 2, 0, 40, PT_OUT_BYTES);
    hook_log_t log = {0};
    fill_input(arena, 0);
    CHECK(t, nn_plan_run(&plan, arena, sizeof arena, log_hook, &log) == NN_OK, "two-op plan runs");
    int8_t mid_ok = 1;
    for (unsigned y = 0; y < PT_MID_SIDE; y++) {
        for (unsigned x = 0; x < PT_MID_SIDE; x++) {
            mid_ok &= (int8_t)arena[28 + y * PT_MID_SIDE + x] == (int8_t)(9 * (5 * (int)y + (int)x - 6));
        }
    }
    CHECK(t, mid_ok, "convolution output is the window sum");
    check_pooled(t, arena, 40, "conv then pool");
    CHECK(t, log.n == 4 && log.index[0] == 0 && log.phase[0] == NN_OP_BEFORE && log.index[1] == 0 &&
                 log.phase[1] == NN_OP_AFTER && log.index[2] == 1 && log.phase[3] == NN_OP_AFTER,
          "hook before/after each op in order (%u calls)", log.n);
    CHECK(t, nn_plan_run(&plan, arena, PT_ARENA_BYTES - 1u, NULL, NULL) == NN_ERR_ARENA_TOO_SMALL,
          "an arena smaller than the plan's is refused");
    CHECK(t, nn_plan_run(&plan, arena + 1, PT_ARENA_BYTES - 1u, NULL, NULL) == NN_ERR_ARGS,
          "a misaligned arena is refused");
    CHECK(t, nn_plan_run(NULL, arena, PT_ARENA_BYTES, NULL, NULL) == NN_ERR_ARGS, "no plan is refused");
}

static void test_fused_pool(check_totals_t *t)
{
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    nn_op op = conv_op(0, 40);
    op.flags = NN_OP_FLAG_POOL;
    op.mid = op.out;
    op.out = (nn_shape){PT_OUT_SIDE, PT_OUT_SIDE, 1};
    op.pool_h = op.pool_w = 2;
    op.pool_stride_h = op.pool_stride_w = 1;
    op.pool_act_min = NN_INT8_MIN;
    op.pool_act_max = NN_INT8_MAX;
    op.scratch_bytes = PT_STRIP_BYTES + PT_CONV_SCRATCH_BYTES;
    const nn_plan plan = make_plan(&op, 1, 0, 40, PT_OUT_BYTES);
    fill_input(arena, 0);
    CHECK(t, nn_plan_run(&plan, arena, sizeof arena, NULL, NULL) == NN_OK, "fused plan runs");
    check_pooled(t, arena, 40, "fused conv + pool");
    /* nothing outside input, scratch and output was touched */
    int8_t untouched = 1;
    for (unsigned i = 44; i < PT_ARENA_BYTES; i++) {
        untouched &= arena[i] == 0x5A || (i >= PT_CONV_SCRATCH && i < PT_CONV_SCRATCH + op.scratch_bytes);
    }
    CHECK(t, untouched, "fused op writes only its scratch and output");
}

/* Non-overlapping pool windows (2x2, stride 2, SAME: the right column and bottom row are windows of their own)
 * run window by window (nn_conv2d_maxpool_s8): once with a left shift (requantized per pixel), once with
 * multiplier 0.5 and no left shift (the max taken on the accumulators, requantized once). */
static void test_fused_pool_direct(check_totals_t *t)
{
    static const int32_t half_mult[1] = {PT_UNIT_MULT};
    static const int8_t no_shift[1] = {0};
    static const int8_t halved[PT_OUT_BYTES] = {0, 5, 23, 27}; /* 4.5, 22.5 round away from zero */
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    nn_op op = conv_op(0, 40);
    op.flags = NN_OP_FLAG_POOL;
    op.mid = op.out;
    op.out = (nn_shape){PT_OUT_SIDE, PT_OUT_SIDE, 1};
    op.pool_h = op.pool_w = 2;
    op.pool_stride_h = op.pool_stride_w = 2;
    op.pool_act_min = NN_INT8_MIN;
    op.pool_act_max = NN_INT8_MAX;
    op.scratch_bytes = NN_CONV2D_MAXPOOL_SCRATCH_BYTES(3, 3, 1, 1);
    CHECK(t, nn_op_pools_directly(&op), "stride >= window pools directly");
    const nn_plan plan = make_plan(&op, 1, 0, 40, PT_OUT_BYTES);
    fill_input(arena, 0);
    CHECK(t, nn_plan_run(&plan, arena, sizeof arena, NULL, NULL) == NN_OK, "direct fused plan runs");
    check_pooled(t, arena, 40, "direct conv + pool, left shift");
    op.out_mult = half_mult;
    op.out_shift = no_shift;
    fill_input(arena, 0);
    CHECK(t, nn_plan_run(&plan, arena, sizeof arena, NULL, NULL) == NN_OK, "direct fused plan runs");
    CHECK(t, memcmp(arena + 40, halved, PT_OUT_BYTES) == 0, "direct conv + pool, max before requantization");
    int8_t untouched = 1;
    for (unsigned i = 44; i < PT_ARENA_BYTES; i++) {
        untouched &= arena[i] == 0x5A || (i >= PT_CONV_SCRATCH && i < PT_CONV_SCRATCH + op.scratch_bytes);
    }
    CHECK(t, untouched, "direct fused op writes only its scratch and output");
}

static void test_overlap_and_reshape(check_totals_t *t)
{
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    /* output row r (3 bytes) must end before input row r (5 bytes from 4 + 5r): in_offset - out_offset = 4 */
    nn_op ops[3] = {conv_op(4, 0), pool_op(0, 12), {0}};
    ops[0].flags = NN_OP_FLAG_OUT_OVERLAPS_IN;
    ops[2].kind = NN_OP_RESHAPE;
    ops[2].in_offset = ops[2].out_offset = 12;
    ops[2].in = (nn_shape){PT_OUT_SIDE, PT_OUT_SIDE, 1};
    ops[2].out = (nn_shape){1, 1, PT_OUT_BYTES};
    const nn_plan plan = make_plan(ops, 3, 4, 12, PT_OUT_BYTES);
    fill_input(arena, 4);
    CHECK(t, nn_plan_run(&plan, arena, sizeof arena, NULL, NULL) == NN_OK, "overlapping plan runs");
    check_pooled(t, arena, 12, "conv over its input, pool, reshape");
}

static void test_add_broadcast(check_totals_t *t)
{
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    static const int8_t bias_c[PT_ADD_C] = {1, -2, 100};
    nn_op op;
    memset(&op, 0, sizeof op);
    op.kind = NN_OP_ADD;
    op.in_offset = 0;
    op.out_offset = 16;
    op.in = op.out = (nn_shape){2, 2, PT_ADD_C};
    op.in2 = (nn_shape){1, 1, PT_ADD_C};
    op.act_min = NN_INT8_MIN;
    op.act_max = NN_INT8_MAX;
    op.weights = bias_c;
    /* inputs times 0.5 after << 20, the sum times 2^-18: out = in1 + in2 exactly (then saturated) */
    op.p[NN_P_ADD_IN1_MULT] = PT_UNIT_MULT;
    op.p[NN_P_ADD_IN2_MULT] = PT_UNIT_MULT;
    op.p[NN_P_ADD_OUT_MULT] = PT_UNIT_MULT;
    op.p[NN_P_ADD_OUT_SHIFT] = -18;
    op.p[NN_P_ADD_LEFT_SHIFT] = 20;
    memset(arena, 0, sizeof arena);
    for (unsigned i = 0; i < PT_ADD_PIXELS * PT_ADD_C; i++) {
        arena[i] = (uint8_t)(int8_t)(10 * (int)i);
    }
    CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "broadcast ADD runs");
    int8_t ok = 1;
    for (unsigned i = 0; i < PT_ADD_PIXELS * PT_ADD_C; i++) {
        int v = (int8_t)(uint8_t)(10 * i) + bias_c[i % PT_ADD_C];
        v = v > NN_INT8_MAX ? NN_INT8_MAX : v;
        ok &= (int8_t)arena[16 + i] == (int8_t)v;
    }
    CHECK(t, ok, "ADD with a (1, 1, c) constant adds it to every pixel");
    op.in2 = (nn_shape){1, 3, PT_ADD_C};
    CHECK(t, nn_plan_run_op(&op, arena) == NN_ERR_UNSUPPORTED, "shapes that do not broadcast are refused");
    op.kind = 0;
    CHECK(t, nn_plan_run_op(&op, arena) == NN_ERR_UNSUPPORTED, "an unknown op kind is refused");
}

/* ADD of two activations that broadcast into a PT_BC_H x PT_BC_W x PT_BC_C output, with unit rescaling (out =
 * in1 + in2): (h, w, 1) + (1, 1, c) in both orders, and (1, w, c) + (h, 1, c), where each operand repeats along
 * the other's axes. */
#define PT_BC_H 2u
#define PT_BC_W 3u
#define PT_BC_C 2u
#define PT_BC_IN1 0u  /* arena offsets: first operand, second operand, output */
#define PT_BC_IN2 8u
#define PT_BC_OUT 16u

static nn_op unit_add(nn_shape in, uint32_t in_offset, nn_shape in2, uint32_t in2_offset)
{
    nn_op op;
    memset(&op, 0, sizeof op);
    op.kind = NN_OP_ADD;
    op.in_offset = in_offset;
    op.in2_offset = in2_offset;
    op.out_offset = PT_BC_OUT;
    op.in = in;
    op.in2 = in2;
    op.out = (nn_shape){PT_BC_H, PT_BC_W, PT_BC_C};
    op.act_min = NN_INT8_MIN;
    op.act_max = NN_INT8_MAX;
    op.p[NN_P_ADD_IN1_MULT] = PT_UNIT_MULT; /* as in test_add_broadcast: out = in1 + in2 exactly */
    op.p[NN_P_ADD_IN2_MULT] = PT_UNIT_MULT;
    op.p[NN_P_ADD_OUT_MULT] = PT_UNIT_MULT;
    op.p[NN_P_ADD_OUT_SHIFT] = -18;
    op.p[NN_P_ADD_LEFT_SHIFT] = 20;
    return op;
}

static void test_add_two_broadcasts(check_totals_t *t)
{
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    const nn_shape column = {PT_BC_H, PT_BC_W, 1}, channels = {1, 1, PT_BC_C};
    memset(arena, 0x5A, sizeof arena);
    for (unsigned i = 0; i < PT_BC_H * PT_BC_W; i++) {
        arena[PT_BC_IN1 + i] = (uint8_t)(int8_t)(10 * (int)i); /* column[y][x] = 10 (y w + x) */
    }
    arena[PT_BC_IN2] = (uint8_t)(int8_t)-3; /* channels = {-3, 4} */
    arena[PT_BC_IN2 + 1u] = 4u;
    for (unsigned order = 0; order < 2u; order++) {
        const nn_op op = order == 0u ? unit_add(column, PT_BC_IN1, channels, PT_BC_IN2)
                                     : unit_add(channels, PT_BC_IN2, column, PT_BC_IN1);
        memset(arena + PT_BC_OUT, 0x5A, PT_BC_H * PT_BC_W * PT_BC_C);
        CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "(h, w, 1) and (1, 1, c) ADD runs (order %u)", order);
        int ok = 1;
        for (unsigned i = 0; i < PT_BC_H * PT_BC_W * PT_BC_C; i++) {
            ok &= (int8_t)arena[PT_BC_OUT + i] == 10 * (int)(i / PT_BC_C) + (i % PT_BC_C == 0u ? -3 : 4);
        }
        CHECK(t, ok, "(h, w, 1) + (1, 1, c): every pixel's value plus every channel's (order %u)", order);
    }
    /* row[x][c] = x c + 1 (w, c), col[y][c] = 20 y - c (h, c): out[y][x][c] = row[x][c] + col[y][c] */
    for (unsigned x = 0; x < PT_BC_W; x++) {
        for (unsigned c = 0; c < PT_BC_C; c++) {
            arena[PT_BC_IN1 + x * PT_BC_C + c] = (uint8_t)(x * c + 1u);
        }
    }
    for (unsigned y = 0; y < PT_BC_H; y++) {
        for (unsigned c = 0; c < PT_BC_C; c++) {
            arena[PT_BC_IN2 + y * PT_BC_C + c] = (uint8_t)(int8_t)(20 * (int)y - (int)c);
        }
    }
    nn_op op = unit_add((nn_shape){1, PT_BC_W, PT_BC_C}, PT_BC_IN1, (nn_shape){PT_BC_H, 1, PT_BC_C}, PT_BC_IN2);
    CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "(1, w, c) + (h, 1, c) ADD runs");
    int ok = 1;
    for (unsigned y = 0; y < PT_BC_H; y++) {
        for (unsigned x = 0; x < PT_BC_W; x++) {
            for (unsigned c = 0; c < PT_BC_C; c++) {
                const int want = (int)(x * c + 1u) + 20 * (int)y - (int)c;
                ok &= (int8_t)arena[PT_BC_OUT + (y * PT_BC_W + x) * PT_BC_C + c] == want;
            }
        }
    }
    CHECK(t, ok, "(1, w, c) + (h, 1, c): each operand repeats along the other's axis");
    op.out.c = PT_BC_C + 1u; /* the operands' c = 2 cannot give 3 */
    CHECK(t, nn_plan_run_op(&op, arena) == NN_ERR_UNSUPPORTED, "an output that is not the broadcast is refused");
}

/* MEAN with the reduced axes from p[], not from the output shape: input v[y][x][c] = 6y + 2x + c (2 x 3 x 2),
 * whose mean over W is the middle column 6y + 2 + c and over H is 2x + c + 3, exact under the multipliers of
 * 1/3 and 1/2. A W-only mean with keep_dims false has the output shape {1, h, c}: an H-only mean's look. */
#define PT_MEAN_H 2u
#define PT_MEAN_W 3u
#define PT_MEAN_C 2u
#define PT_MEAN_OUT 16u
#define PT_THIRD_MULT 1431655765 /* QuantizeMultiplier(1/3): 0x55555555, shift -1 */
#define PT_HALF_MULT (1 << 30)   /* QuantizeMultiplier(1/2): 2^30, shift 0 */

static void test_mean_axes(check_totals_t *t)
{
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    memset(arena, 0x5A, sizeof arena);
    for (unsigned i = 0; i < PT_MEAN_H * PT_MEAN_W * PT_MEAN_C; i++) {
        arena[i] = (uint8_t)i; /* 6y + 2x + c is the element's index */
    }
    nn_op op;
    memset(&op, 0, sizeof op);
    op.kind = NN_OP_MEAN;
    op.out_offset = PT_MEAN_OUT;
    op.in = (nn_shape){PT_MEAN_H, PT_MEAN_W, PT_MEAN_C};
    op.out = (nn_shape){1, PT_MEAN_H, PT_MEAN_C}; /* (1, H, C) of keep_dims false, as hwc */
    op.act_min = NN_INT8_MIN;
    op.act_max = NN_INT8_MAX;
    op.p[NN_P_MULT] = PT_THIRD_MULT;
    op.p[NN_P_SHIFT] = -1;
    op.p[NN_P_MEAN_COUNT] = PT_MEAN_W;
    op.p[NN_P_MEAN_REDUCE_W] = 1;
    CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "W-only MEAN runs");
    static const int8_t over_w[PT_MEAN_H * PT_MEAN_C] = {2, 3, 8, 9};
    CHECK(t, memcmp(arena + PT_MEAN_OUT, over_w, sizeof over_w) == 0, "MEAN over W only, keep_dims false");
    op.out = (nn_shape){1, PT_MEAN_W, PT_MEAN_C};
    op.p[NN_P_MULT] = PT_HALF_MULT;
    op.p[NN_P_SHIFT] = 0;
    op.p[NN_P_MEAN_COUNT] = PT_MEAN_H;
    op.p[NN_P_MEAN_REDUCE_H] = 1;
    op.p[NN_P_MEAN_REDUCE_W] = 0;
    CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "H-only MEAN runs");
    static const int8_t over_h[PT_MEAN_W * PT_MEAN_C] = {3, 4, 5, 6, 7, 8};
    CHECK(t, memcmp(arena + PT_MEAN_OUT, over_h, sizeof over_h) == 0, "MEAN over H only");
    op.out = (nn_shape){1, 1, PT_MEAN_C};
    CHECK(t, nn_plan_run_op(&op, arena) == NN_ERR_UNSUPPORTED, "an output of the wrong size is refused");
    op.out = (nn_shape){1, PT_MEAN_W, PT_MEAN_C};
    op.p[NN_P_MEAN_REDUCE_H] = 0;
    CHECK(t, nn_plan_run_op(&op, arena) == NN_ERR_UNSUPPORTED, "a MEAN without reduced axes is refused");
}

/* FULLY_CONNECTED through the executor in both weight layouts: TFLite's rows (p[0] = NN_FC_WEIGHTS_ROWS, input
 * offset applied by the kernel) and NN_FC_WEIGHTS_ROW4 (interleaved and zero-padded here from the same matrix,
 * the input offset folded into the bias) must give the same outputs: 5 rows (a group of four and one padded
 * group) of 6 inputs (a whole block and a padded one), input zero point 3, multiplier 0.5 (a right shift, as
 * the interleaved kernel requires). */
#define PT_FC_IN 6u
#define PT_FC_OUT 5u
#define PT_FC_IN4 8u  /* PT_FC_IN rounded up to four */
#define PT_FC_OUT4 8u /* PT_FC_OUT rounded up to four */
static void test_fully_connected_layouts(check_totals_t *t)
{
    static const int32_t mult[PT_FC_OUT] = {PT_UNIT_MULT, PT_UNIT_MULT, PT_UNIT_MULT, PT_UNIT_MULT, PT_UNIT_MULT};
    static const int8_t shift[PT_FC_OUT] = {0, 0, 0, 0, 0}; /* 2^30 * 2^-31 = 0.5 */
    int8_t rows[PT_FC_OUT * PT_FC_IN];
    int32_t bias[PT_FC_OUT];
    _Alignas(4) int8_t row4[PT_FC_OUT4 * PT_FC_IN4];
    int32_t bias4[PT_FC_OUT4];
    memset(row4, 0, sizeof row4);
    memset(bias4, 0, sizeof bias4);
    for (unsigned o = 0; o < PT_FC_OUT; o++) {
        int32_t sum = 0;
        for (unsigned i = 0; i < PT_FC_IN; i++) {
            const int8_t w = (int8_t)((int)(o * 7u + i * 3u) % 11 - 5);
            rows[o * PT_FC_IN + i] = w;
            sum += w;
            /* group o / 4, block i / 4, row o % 4, lane i % 4 */
            row4[(o / 4u) * 4u * PT_FC_IN4 + (i / 4u) * 16u + (o % 4u) * 4u + i % 4u] = w;
        }
        bias[o] = (int32_t)o * 10 - 20;
        bias4[o] = bias[o] - 3 * sum; /* in_zp 3 folded in */
    }
    nn_op op;
    memset(&op, 0, sizeof op);
    op.kind = NN_OP_FULLY_CONNECTED;
    op.in = (nn_shape){1, 1, PT_FC_IN};
    op.out = (nn_shape){1, 1, PT_FC_OUT};
    op.out_offset = 16;
    op.in_zp = 3;
    op.act_min = NN_INT8_MIN;
    op.act_max = NN_INT8_MAX;
    op.out_mult = mult;
    op.out_shift = shift;
    _Alignas(4) uint8_t arena[PT_ARENA_BYTES];
    int8_t out_rows[PT_FC_OUT], want[PT_FC_OUT];
    memset(arena, 0, sizeof arena);
    for (unsigned i = 0; i < PT_FC_IN; i++) {
        arena[i] = (uint8_t)(int8_t)(7 * (int)i - 20);
    }
    for (unsigned o = 0; o < PT_FC_OUT; o++) {
        int32_t acc = bias[o];
        for (unsigned i = 0; i < PT_FC_IN; i++) {
            acc += rows[o * PT_FC_IN + i] * ((int8_t)arena[i] - 3);
        }
        const int32_t half = nn_multiply_by_quantized_multiplier(acc, PT_UNIT_MULT, 0);
        want[o] = (int8_t)(half < NN_INT8_MIN ? NN_INT8_MIN : half > NN_INT8_MAX ? NN_INT8_MAX : half);
    }
    op.weights = rows;
    op.bias = bias;
    op.p[NN_P_FC_LAYOUT] = NN_FC_WEIGHTS_ROWS;
    CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "FC, row-major weights, runs");
    memcpy(out_rows, arena + 16, PT_FC_OUT);
    CHECK(t, memcmp(out_rows, want, PT_FC_OUT) == 0, "FC, row-major weights: the exact halved sums");
    op.weights = row4;
    op.bias = bias4;
    op.p[NN_P_FC_LAYOUT] = NN_FC_WEIGHTS_ROW4;
    memset(arena + 16, 0x5A, PT_FC_OUT4);
    CHECK(t, nn_plan_run_op(&op, arena) == NN_OK, "FC, interleaved weights, runs");
    CHECK(t, memcmp(arena + 16, want, PT_FC_OUT) == 0, "FC, interleaved weights: the same outputs");
    CHECK(t, arena[16 + PT_FC_OUT] == 0x5A, "FC, interleaved weights: no output for the padded rows");
}

void run_plan_tests(check_totals_t *t)
{
    test_conv_then_pool(t);
    test_fused_pool(t);
    test_fused_pool_direct(t);
    test_overlap_and_reshape(t);
    test_add_broadcast(t);
    test_add_two_broadcasts(t);
    test_mean_axes(t);
    test_fully_connected_layouts(t);
}
