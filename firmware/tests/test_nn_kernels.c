/* int8 NN kernels (firmware/core/nn): unit checks, and the harness that tests/test_nn_kernels.py
 * uses to compare each kernel with the tflite-micro interpreter.
 *
 * Harness, `program harness nn` (all integers little-endian int32 unless said otherwise).
 * Requests follow each other until end of input; each one is
 *   i32 op, i32 n_params, n_params x i32 params, i32 n_arrays, then n_arrays x
 *   (i32 element_bytes (1: int8, 4: int32), i32 count, count x element),
 * and gets the answer  i32 count, count x int8 output.
 *   HARNESS_OP_CONV2D, HARNESS_OP_DEPTHWISE_CONV2D (an op is its nn_op_kind, or a number of its own below):
 *        params  input_offset output_offset activation_min activation_max input_h input_w input_c
 *                filter_h filter_w output_h output_w (CONV2D: output_c | DEPTHWISE: depth_multiplier)
 *                stride_h stride_w dilation_h dilation_w pad_h pad_w
 *        arrays  input(int8) filter(int8) bias(int32, count 0 = no bias) multipliers(int32)
 *                shifts(int32), one multiplier and shift per output channel
 *   HARNESS_OP_FULLY_CONNECTED:
 *        params  input_offset filter_offset output_offset activation_min activation_max batches
 *                input_depth output_c per_channel
 *        arrays  input filter bias multipliers shifts (1 of each if per_channel is 0)
 *   HARNESS_OP_FULLY_CONNECTED_ROW4: FULLY_CONNECTED, weights in the NN_FC_WEIGHTS_ROW4 layout and the input offset folded into the
 *        bias (nn_fully_connected_s8_row4): FULLY_CONNECTED's params (input_offset and filter_offset not read) and arrays,
 *        shifts all <= 0
 *   HARNESS_OP_FULLY_CONNECTED_SMALL: FULLY_CONNECTED in the NN_FC_WEIGHTS_SMALL layout (nn_fully_connected_s8_small, one call per batch row):
 *        params  input_words output_c activation_min activation_max batches input_depth
 *        arrays  input(int8, batches x input_depth) records(int32, output_c x NN_FC_SMALL_ROW_WORDS(input_words))
 *   HARNESS_OP_MAX_POOL2D, HARNESS_OP_AVG_POOL2D:
 *        params  activation_min activation_max input_h input_w channels filter_h filter_w
 *                output_h output_w stride_h stride_w pad_h pad_w
 *        arrays  input
 *   HARNESS_OP_ADD:
 *        params  input1_offset input2_offset output_offset activation_min activation_max
 *                left_shift input1_multiplier input1_shift input2_multiplier input2_shift
 *                output_multiplier output_shift size
 *        arrays  input1 input2
 *   HARNESS_OP_ADD_BROADCAST: ADD with broadcasting: the 13 ADD params (size = output elements), then out_dims[4]
 *        (NHWC), input1 strides[4], input2 strides[4] (0 where the input broadcasts)
 *        arrays  input1 input2
 *   HARNESS_OP_MEAN (over H and/or W):
 *        params  input_zero_point output_offset output_multiplier output_shift reduce_h reduce_w
 *                input_h input_w channels
 *        arrays  input
 *   HARNESS_OP_LOGISTIC:
 *        params  input_zero_point input_range_radius input_multiplier input_left_shift size
 *        arrays  input
 *   HARNESS_OP_SOFTMAX:
 *        params  input_multiplier input_left_shift diff_min rows depth
 *        arrays  input
 *   HARNESS_OP_RELU (RELU and RELU6):
 *        params  input_zero_point output_offset output_multiplier output_shift rescale activation_min
 *                activation_max size
 *        arrays  input
 * Exit status 0, or 1 on a malformed request (message on stderr). */
#include <string.h>

#include "check.h"
#include "nn/nn_kernels.h"
#include "nn/nn_plan.h"
#include "nn/nn_requant.h"

/* A request names its kernel by the op's nn_op_kind (nn_plan.h); the kernels that are another layout or form of an
 * op kind take numbers after every kind. tests/test_nn_kernels.py reads both from the sources (one definition). */
#define HARNESS_OP_CONV2D NN_OP_CONV_2D
#define HARNESS_OP_DEPTHWISE_CONV2D NN_OP_DEPTHWISE_CONV_2D
#define HARNESS_OP_FULLY_CONNECTED NN_OP_FULLY_CONNECTED
#define HARNESS_OP_MAX_POOL2D NN_OP_MAX_POOL_2D
#define HARNESS_OP_AVG_POOL2D NN_OP_AVERAGE_POOL_2D
#define HARNESS_OP_ADD NN_OP_ADD
#define HARNESS_OP_MEAN NN_OP_MEAN
#define HARNESS_OP_LOGISTIC NN_OP_LOGISTIC
#define HARNESS_OP_SOFTMAX NN_OP_SOFTMAX
#define HARNESS_OP_RELU NN_OP_RELU
#define HARNESS_OP_ADD_BROADCAST 64
#define HARNESS_OP_FULLY_CONNECTED_ROW4 65
#define HARNESS_OP_FULLY_CONNECTED_SMALL 66
/* what the bytes past an input row hold in the small-layer call: not zero, so a non-zero padding weight shows */
#define HARNESS_SMALL_PADDING_BYTE 0x5A

#define HARNESS_MAX_PARAMS 32u
#define HARNESS_MAX_ARRAYS 5u
#define HARNESS_MAX_ELEMENTS (1u << 17) /* per int8 array and for the output */
#define HARNESS_MAX_CHANNELS 4096u      /* per int32 array: biases, multipliers, shifts */
#define HARNESS_MAX_PATCH_TAPS 4096u    /* filter_h * filter_w * input_c of a CONV_2D */
#define HARNESS_CONV_SCRATCH_WORDS (NN_CONV2D_SCRATCH_BYTES(1, 1, HARNESS_MAX_PATCH_TAPS) / 4u)

/* ------------------------------------------------------------------ unit checks */

/* gemmlowp's SaturatingRoundingDoublingHighMul as written there (nudge, then a 64-bit division truncating
 * toward zero): nn_requant.h computes it with one add and a shift; they must agree everywhere. */
static int32_t srdhm_gemmlowp(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static uint32_t xorshift32(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#define REQUANT_RANDOM_PAIRS 200000u

static void check_srdhm_against_gemmlowp(check_totals_t *t)
{
    static const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -3, -2, -1, 0, 1, 2, 3,
                                    1 << 30, (1 << 30) + 1, INT32_MAX - 1, INT32_MAX};
    const unsigned n_edges = sizeof edges / sizeof edges[0];
    unsigned bad = 0;
    for (unsigned i = 0; i < n_edges; i++) {
        for (unsigned j = 0; j < n_edges; j++) {
            bad += nn_sat_rounding_doubling_high_mul(edges[i], edges[j]) != srdhm_gemmlowp(edges[i], edges[j]);
        }
    }
    uint32_t s = 0x9E3779B9u;
    for (unsigned k = 0; k < REQUANT_RANDOM_PAIRS; k++) {
        /* small and large magnitudes: shift the random words right by random amounts */
        const int32_t a = (int32_t)xorshift32(&s) >> (xorshift32(&s) % 31u);
        const int32_t b = (int32_t)xorshift32(&s) >> (xorshift32(&s) % 31u);
        bad += nn_sat_rounding_doubling_high_mul(a, b) != srdhm_gemmlowp(a, b);
    }
    CHECK(t, bad == 0, "srdhm equals gemmlowp's nudge-and-truncate form (%u differ)", bad);
}

/* nn_requant_apply (the channel's constants precomputed, no INT32_MIN test) and nn_requantize_right_s8 (shifts
 * <= 0) against the plain composition of
 * TFLM's steps, over random accumulators, QuantizeMultiplier-range multipliers and every shift in [-31, 30]. */
static void check_requant_channel(check_totals_t *t)
{
    uint32_t s = 0x2545F491u;
    unsigned bad = 0;
    for (int shift = -31; shift <= 30; shift++) {
        for (unsigned k = 0; k < REQUANT_RANDOM_PAIRS / 16u; k++) {
            const int32_t acc = (int32_t)xorshift32(&s) >> (xorshift32(&s) % 31u);
            const int32_t mult = (int32_t)((1u << 30) | (xorshift32(&s) >> 2)); /* [2^30, 2^31) */
            const int32_t offset = (int32_t)(xorshift32(&s) % 256u) - 128;
            const nn_requant_channel_t c = nn_requant_channel(mult, shift, offset, NN_INT8_MIN, NN_INT8_MAX);
            const int32_t want = nn_clamp_i32(nn_multiply_by_quantized_multiplier(acc, mult, shift) + offset,
                                              NN_INT8_MIN, NN_INT8_MAX);
            bad += nn_requant_apply(&c, acc) != want;
            if (shift <= 0) {
                bad += nn_requantize_right_s8(acc, mult, -shift, offset, NN_INT8_MIN, NN_INT8_MAX) != want;
            }
            bad += nn_requant_apply(&c, INT32_MIN) !=
                   nn_clamp_i32(nn_multiply_by_quantized_multiplier(INT32_MIN, mult, shift) + offset, NN_INT8_MIN,
                                NN_INT8_MAX);
        }
    }
    CHECK(t, bad == 0, "precomputed channel requantization equals TFLM's steps (%u differ)", bad);
}

/* nn_fully_connected_s8_small's requantization (SMMULR of the doubled accumulator, then the rounding constant with
 * the zero point folded in and the sign term) against nn_requantize_s8 (itself checked against TFLM's steps above),
 * for every right shift the plan may give it (1..22 here: with |out_zp| <= 128 the constant then fits, as
 * vigil.export.plan.fc_small_rows requires), over random accumulators and multipliers and, with multiplier 2^30
 * (h = acc / 2 exactly), accumulators whose division by 2^e is an exact tie, positive and negative, and their
 * neighbours: the cases where the sign term decides. One input word {1, 0, 0, 0} with weight 1 makes the
 * accumulator the record's bias. */
static int8_t small_fc_one(int32_t acc, int32_t mult, int e, int32_t zp, int32_t lo, int32_t hi)
{
    const int32_t rows[NN_FC_SMALL_ROW_WORDS(1)] = {
        2 * (acc - 1), 2, 0, mult, (int32_t)(1u << (e - 1)) + zp * (int32_t)(1u << e), e};
    const nn_fc_small_params_t p = {rows, 1, 1, lo, hi};
    _Alignas(4) const int8_t x[4] = {1, 0, 0, 0};
    int8_t out = 0;
    nn_fully_connected_s8_small(&p, x, &out);
    return out;
}

static void check_small_fc_requant(check_totals_t *t)
{
    uint32_t s = 0x9E3779B9u;
    unsigned bad = 0, ties = 0;
    for (int e = 1; e <= 22; e++) {
        for (unsigned k = 0; k < REQUANT_RANDOM_PAIRS / 16u; k++) {
            const int32_t acc = (int32_t)xorshift32(&s) >> (3u + xorshift32(&s) % 29u); /* |acc| < 2^29 */
            const int32_t mult = (int32_t)((1u << 30) | (xorshift32(&s) >> 2));
            const int32_t zp = (int32_t)(xorshift32(&s) % 256u) - 128;
            /* the whole int8 range (the kernel's SSAT path) and a RELU6-like clamp (its compare path) */
            bad += small_fc_one(acc, mult, e, zp, NN_INT8_MIN, NN_INT8_MAX) !=
                   nn_requantize_s8(acc, mult, -e, zp, NN_INT8_MIN, NN_INT8_MAX);
            bad += small_fc_one(acc, mult, e, zp, zp < 0 ? zp : -zp, 100) !=
                   nn_requantize_s8(acc, mult, -e, zp, zp < 0 ? zp : -zp, 100);
        }
        for (int32_t q = -40; q <= 40; q++) {
            for (int32_t d = -1; d <= 1; d++) {
                /* h = acc / 2 = q * 2^e + 2^(e-1) + d: a tie at d = 0 */
                const int32_t h = q * (int32_t)(1u << e) + (int32_t)(1u << (e - 1)) + d;
                const int32_t zp = q % 3 == 0 ? -128 : (q % 3 == 1 ? 0 : 77);
                bad += small_fc_one(2 * h, 1 << 30, e, zp, NN_INT8_MIN, NN_INT8_MAX) !=
                       nn_requantize_s8(2 * h, 1 << 30, -e, zp, NN_INT8_MIN, NN_INT8_MAX);
                bad += small_fc_one(2 * h, 1 << 30, e, zp, -120, 120) !=
                       nn_requantize_s8(2 * h, 1 << 30, -e, zp, -120, 120);
                ties += d == 0;
            }
        }
    }
    CHECK(t, bad == 0 && ties > 0, "small-layer FC requantization equals TFLM's (%u differ)", bad);
}

static void check_requant(check_totals_t *t)
{
    check_small_fc_requant(t);
    check_srdhm_against_gemmlowp(t);
    check_requant_channel(t);
    CHECK(t, nn_sat_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX, "srdhm overflow");
    CHECK(t, nn_sat_rounding_doubling_high_mul(1 << 30, 3) == 2, "srdhm 1.5 -> 2");
    /* gemmlowp's nudge makes negative ties go toward zero (toward +infinity) */
    CHECK(t, nn_sat_rounding_doubling_high_mul(1 << 30, -3) == -1, "srdhm -1.5 -> -1");
    CHECK(t, nn_sat_rounding_doubling_high_mul(1 << 30, -1) == 0, "srdhm -0.5 -> 0");
    CHECK(t, nn_sat_rounding_doubling_high_mul((1 << 30) + 1, -3) == -2, "srdhm just below -1.5 -> -2");
    CHECK(t, nn_rounding_divide_by_pot(5, 1) == 3, "rdbpot 2.5 -> 3");
    CHECK(t, nn_rounding_divide_by_pot(-5, 1) == -3, "rdbpot -2.5 -> -3");
    CHECK(t, nn_rounding_divide_by_pot(-6, 2) == -2, "rdbpot -1.5 -> -2");
    CHECK(t, nn_rounding_divide_by_pot(-5, 2) == -1, "rdbpot -1.25 -> -1");
    CHECK(t, nn_rounding_divide_by_pot(7, 0) == 7, "rdbpot exponent 0");
    /* 0.5 * 2^1 = 1 */
    CHECK(t, nn_multiply_by_quantized_multiplier(100, 1 << 30, 1) == 100, "mbqm shift 1");
    CHECK(t, nn_multiply_by_quantized_multiplier(100, 1 << 30, -3) == 6, "mbqm 6.25 -> 6");
    CHECK(t, nn_multiply_by_quantized_multiplier(-101, 1 << 30, -3) == -6, "mbqm -6.3125 -> -6");
    /* double rounding: 5 * 0.5 = 2.5 rounds to 3, then 3 / 2 = 1.5 rounds to 2 (single rounding
     * of 1.25 would give 1): the case where TFLM's two variants differ */
    CHECK(t, nn_multiply_by_quantized_multiplier(5, 1 << 30, -1) == 2, "mbqm 1.25 -> 2 (double rounding)");
}

static void check_conv(check_totals_t *t)
{
    /* 3x3 input, 1 channel, a 2x2 all-ones filter, SAME padding (pad 0 top/left for stride 1),
     * zero points 0, multiplier 0.5: each output is half the window sum, rounded. */
    static const int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const int8_t w[4] = {1, 1, 1, 1};
    static const int32_t mult[1] = {1 << 30};
    static const int8_t shift[1] = {0};
    static const int8_t want[9] = {6, 8, 5, 12, 14, 8, 8, 9, 5};
    nn_conv2d_params_t p = {
        .quant = {.input_offset = 0, .output_offset = 0, .activation_min = NN_INT8_MIN, .activation_max = NN_INT8_MAX},
        .geometry = {.input_h = 3, .input_w = 3, .input_c = 1, .filter_h = 2, .filter_w = 2, .output_h = 3,
                     .output_w = 3, .output_c = 1, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                     .pad_h = 0, .pad_w = 0},
        .per_channel = {.output_multiplier = mult, .output_shift = shift},
    };
    int8_t out[9];
    uint32_t scratch[NN_CONV2D_SCRATCH_BYTES(2, 2, 1) / 4u];
    nn_conv2d_s8(&p, in, w, NULL, out, scratch);
    for (int i = 0; i < 9; i++) {
        CHECK(t, out[i] == want[i], "conv %d: %d, want %d", i, out[i], want[i]);
    }
    /* relu-like clamp and a bias */
    static const int32_t bias[1] = {-20};
    p.quant.activation_min = 0;
    nn_conv2d_s8(&p, in, w, bias, out, scratch);
    CHECK(t, out[0] == 0 && out[4] == 4, "conv bias+clamp: %d %d", out[0], out[4]);
}

static void check_pool(check_totals_t *t)
{
    static const int8_t in[4] = {-128, -3, 0, -128};
    nn_pool2d_params_t p = {NN_INT8_MIN, NN_INT8_MAX, 2, 2, 1, 2, 2, 1, 1, 2, 2, 0, 0};
    int8_t out[1];
    nn_max_pool2d_s8(&p, in, out);
    CHECK(t, out[0] == 0, "max pool: %d", out[0]);
    nn_avg_pool2d_s8(&p, in, out);
    /* (-259 - 2) / 4 = -65 (truncated): -64.75 rounds to -65 */
    CHECK(t, out[0] == -65, "avg pool: %d", out[0]);
    static const int8_t in2[2] = {-3, 0};
    nn_pool2d_params_t q = {NN_INT8_MIN, NN_INT8_MAX, 1, 2, 1, 1, 2, 1, 1, 1, 2, 0, 0};
    nn_avg_pool2d_s8(&q, in2, out);
    CHECK(t, out[0] == -2, "avg pool -1.5 -> -2: %d", out[0]);
}

static void check_add(check_totals_t *t)
{
    /* equal scales: input multipliers 0.5 (of 2 x max scale), output multiplier 2 / 2^20 */
    nn_add_params_t p = {0, 0, 0, NN_INT8_MIN, NN_INT8_MAX, 20, 1 << 30, 1 << 30, 1 << 30, 0, 0, -18, 3};
    static const int8_t a[3] = {1, 100, -128};
    static const int8_t b[3] = {2, 100, -128};
    int8_t out[3];
    nn_add_s8(&p, a, b, out);
    CHECK(t, out[0] == 3 && out[1] == 127 && out[2] == -128, "add: %d %d %d", out[0], out[1], out[2]);
}

static void check_mean(check_totals_t *t)
{
    /* 2x2x1 -> 1 value; multiplier 1 with 1/4 folded in: 2^30 * 2^2 / 4 = 2^30, shift 1 - 2 */
    static const int8_t in[4] = {1, 2, 3, 5};
    const nn_mean_params_t p = {1, -3, 1 << 30, -1, 1, 1, 2, 2, 1};
    int8_t out[1];
    nn_mean_s8(&p, in, out);
    /* (11 - 4) / 4 = 1.75 -> 2, then -3 */
    CHECK(t, out[0] == -1, "mean: %d", out[0]);
}

static void check_fc_filter_offset(check_totals_t *t)
{
    /* asymmetric weights (not what the converter emits, but TFLM supports them) */
    static const int8_t x[2] = {3, 4};
    static const int8_t w[2] = {1, 2};
    static const int32_t mult[1] = {1 << 30};
    static const int8_t shift[1] = {0};
    const nn_fully_connected_params_t p = {0, 1, 0, NN_INT8_MIN, NN_INT8_MAX, 1, 2, 1, 0, mult, shift};
    int8_t out[1];
    nn_fully_connected_s8(&p, x, w, NULL, out);
    CHECK(t, out[0] == 9, "fc filter offset: %d, want (2*3 + 3*4) / 2 = 9", out[0]);
}

static void check_logistic_softmax(check_totals_t *t)
{
    /* logistic(0) = 1/2 = 128/256 -> code 0; far inputs saturate */
    static const int8_t in[3] = {0, -128, 127};
    /* input scale 1/16: multiplier frexp(2^23) = 0.5 * 2^24 */
    const nn_logistic_params_t lp = {0, 15 * 16, 1 << 30, 24, 3};
    int8_t out[3];
    nn_logistic_s8(&lp, in, out);
    CHECK(t, out[0] == 0 && out[1] == -128 && out[2] == 127, "logistic: %d %d %d", out[0], out[1], out[2]);
    /* two equal logits: 1/2 each (code 0); a row of one: 1 (code 127) */
    static const int8_t logits[3] = {-7, -7, 100};
    const nn_softmax_params_t sp = {1 << 30, -(31 << 4), 4, 1, 2};
    nn_softmax_s8(&sp, logits, out);
    CHECK(t, out[0] == 0 && out[1] == 0, "softmax halves: %d %d", out[0], out[1]);
    const nn_softmax_params_t one = {1 << 30, -(31 << 4), 4, 1, 1};
    nn_softmax_s8(&one, logits + 2, out);
    CHECK(t, out[0] == 127, "softmax single: %d", out[0]);
}

void run_nn_tests(check_totals_t *t)
{
    check_requant(t);
    check_conv(t);
    check_pool(t);
    check_add(t);
    check_mean(t);
    check_fc_filter_offset(t);
    check_logistic_softmax(t);
}

/* ------------------------------------------------------------------ harness */

typedef struct harness_array {
    int32_t count;
    int8_t *i8;
    int32_t *i32;
} harness_array_t;

static int8_t h_i8[HARNESS_MAX_ARRAYS][HARNESS_MAX_ELEMENTS];
static int32_t h_i32[HARNESS_MAX_ARRAYS][HARNESS_MAX_CHANNELS];
static int8_t h_shift[HARNESS_MAX_CHANNELS];
static int8_t h_out[HARNESS_MAX_ELEMENTS];

/* 1 on success, 0 at a clean end of input, -1 if the input ends in the middle */
static int read_i32(FILE *in, int32_t *v)
{
    uint8_t b[4];
    size_t n = fread(b, 1, 4, in);
    if (n == 0) {
        return 0;
    }
    if (n != 4) {
        return -1;
    }
    *v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    return 1;
}

static int write_i32(FILE *out, int32_t v)
{
    const uint32_t u = (uint32_t)v;
    const uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    return fwrite(b, 1, 4, out) == 4;
}

static int read_array(FILE *in, size_t slot, harness_array_t *a)
{
    int32_t size = 0, count = 0;
    if (read_i32(in, &size) != 1 || read_i32(in, &count) != 1 || count < 0 || (size != 1 && size != 4) ||
        (uint32_t)count > (size == 1 ? HARNESS_MAX_ELEMENTS : HARNESS_MAX_CHANNELS)) {
        return 0;
    }
    a->count = count;
    a->i8 = size == 1 ? h_i8[slot] : NULL;
    a->i32 = size == 4 ? h_i32[slot] : NULL;
    for (int32_t i = 0; i < count; i++) {
        if (size == 1) {
            int c = fgetc(in);
            if (c == EOF) {
                return 0;
            }
            a->i8[i] = (int8_t)(uint8_t)c;
        } else if (read_i32(in, &a->i32[i]) != 1) {
            return 0;
        }
    }
    return 1;
}

/* An int8 array of exactly `count` elements? */
static int is_i8(const harness_array_t *a, long count)
{
    return a->i8 != NULL && a->count == count;
}

/* An int32 array of exactly `count` elements (or of 0 when `optional`)? */
static int is_i32(const harness_array_t *a, long count, int optional)
{
    return (a->i32 != NULL && a->count == count) || (optional && a->count == 0);
}

/* Copies int32 shifts into the kernels' int8 form; 0 if one is outside TFLM's [-31, 30]. */
static int load_shifts(const harness_array_t *a)
{
    if ((uint32_t)a->count > HARNESS_MAX_CHANNELS) {
        return 0;
    }
    for (int32_t i = 0; i < a->count; i++) {
        if (a->i32[i] < -31 || a->i32[i] > 30) {
            return 0;
        }
        h_shift[i] = (int8_t)a->i32[i];
    }
    return 1;
}

static const int32_t *bias_or_null(const harness_array_t *a)
{
    return a->count == 0 ? NULL : a->i32;
}

/* Every shift of the array a right shift (<= 0), as nn_fully_connected_s8_row4 requires. */
static int harness_right_shifts_only(const harness_array_t *a)
{
    for (int32_t i = 0; a->i32 != NULL && i < a->count; i++) {
        if (a->i32[i] > 0) {
            return 0;
        }
    }
    return 1;
}

/* n rounded up to a multiple of four (NN_FC_WEIGHTS_ROW4's padding) */
static long harness_round4(long n)
{
    return (n + 3) / 4 * 4;
}

/* A convolution request's 18 parameters (tests/test_nn_kernels.py): input offset, output offset, activation min
 * and max, input h, w, c, filter h, w, output h, w, then output channels (CONV_2D) or the depth multiplier
 * (DEPTHWISE_CONV_2D), stride h, w, dilation h, w, padding top, left. The geometry, with output_c (for
 * DEPTHWISE_CONV_2D input c times the depth multiplier): */
static nn_conv_geometry_t harness_conv_geometry(const int32_t *pr, uint16_t output_c)
{
    const nn_conv_geometry_t g = {
        .input_h = (uint16_t)pr[4], .input_w = (uint16_t)pr[5], .input_c = (uint16_t)pr[6],
        .filter_h = (uint16_t)pr[7], .filter_w = (uint16_t)pr[8], .output_h = (uint16_t)pr[9],
        .output_w = (uint16_t)pr[10], .output_c = output_c, .stride_h = (uint16_t)pr[12],
        .stride_w = (uint16_t)pr[13], .dilation_h = (uint16_t)pr[14], .dilation_w = (uint16_t)pr[15],
        .pad_h = (uint16_t)pr[16], .pad_w = (uint16_t)pr[17]};
    return g;
}

/* Runs one request; returns the output element count, or -1 if it is malformed. */
static long run_request(int32_t op, const int32_t *pr, int32_t n_params, const harness_array_t *a, int32_t n_arrays)
{
    if (op == HARNESS_OP_CONV2D || op == HARNESS_OP_DEPTHWISE_CONV2D) {
        if (n_params != 18 || n_arrays != 5) {
            return -1;
        }
        const long in_n = (long)pr[4] * pr[5] * pr[6];
        const long ch = op == HARNESS_OP_CONV2D ? pr[11] : (long)pr[6] * pr[11];
        const long f_n = op == HARNESS_OP_CONV2D ? ch * pr[7] * pr[8] * pr[6] : (long)pr[7] * pr[8] * ch;
        const long out_n = (long)pr[9] * pr[10] * ch;
        if (!is_i8(&a[0], in_n) || !is_i8(&a[1], f_n) || !is_i32(&a[2], ch, 1) || !is_i32(&a[3], ch, 0) ||
            !is_i32(&a[4], ch, 0) || !load_shifts(&a[4]) || out_n > (long)HARNESS_MAX_ELEMENTS ||
            (long)pr[7] * pr[8] * pr[6] > (long)HARNESS_MAX_PATCH_TAPS) {
            return -1;
        }
        const nn_quant_t quant = {.input_offset = pr[0], .output_offset = pr[1], .activation_min = pr[2],
                                  .activation_max = pr[3]};
        const nn_per_channel_quant_t per_channel = {.output_multiplier = a[3].i32, .output_shift = h_shift};
        if (op == HARNESS_OP_CONV2D) {
            uint32_t scratch[HARNESS_CONV_SCRATCH_WORDS];
            const nn_conv2d_params_t p = {
                .quant = quant, .geometry = harness_conv_geometry(pr, (uint16_t)ch), .per_channel = per_channel};
            nn_conv2d_s8(&p, a[0].i8, a[1].i8, bias_or_null(&a[2]), h_out, scratch);
        } else {
            const nn_depthwise_conv2d_params_t p = {.quant = quant, .geometry = harness_conv_geometry(pr, (uint16_t)ch),
                                                    .depth_multiplier = (uint16_t)pr[11], .per_channel = per_channel};
            nn_depthwise_conv2d_s8(&p, a[0].i8, a[1].i8, bias_or_null(&a[2]), h_out);
        }
        return out_n;
    }
    if (op == HARNESS_OP_FULLY_CONNECTED || op == HARNESS_OP_FULLY_CONNECTED_ROW4) {
        if (n_params != 9 || n_arrays != 5) {
            return -1;
        }
        const long nq = pr[8] ? pr[7] : 1;
        const long out_n = (long)pr[5] * pr[7];
        const int row4 = op == HARNESS_OP_FULLY_CONNECTED_ROW4; /* padded arrays, checked below */
        if (!is_i8(&a[0], (long)pr[5] * pr[6]) || (!row4 && !is_i8(&a[1], (long)pr[7] * pr[6])) ||
            (!row4 && !is_i32(&a[2], pr[7], 1)) || (row4 && (a[1].i8 == NULL || a[2].i8 != NULL)) ||
            (row4 && !harness_right_shifts_only(&a[4])) ||
            !is_i32(&a[3], nq, 0) || !is_i32(&a[4], nq, 0) || !load_shifts(&a[4]) ||
            out_n > (long)HARNESS_MAX_ELEMENTS) {
            return -1;
        }
        const nn_fully_connected_params_t p = {pr[0],           pr[1],           pr[2],          pr[3],
                                               pr[4],           (uint16_t)pr[5], (uint16_t)pr[6], (uint16_t)pr[7],
                                               (uint8_t)pr[8],  a[3].i32,        h_shift};
        if (op == HARNESS_OP_FULLY_CONNECTED_ROW4) {
            /* the layout's groups must be word-aligned, as the plan's weight arrays are */
            _Alignas(4) static int8_t w[HARNESS_MAX_ELEMENTS];
            const long w_n = harness_round4(pr[7]) * harness_round4(pr[6]);
            if (w_n > (long)HARNESS_MAX_ELEMENTS || a[1].count != w_n ||
                (a[2].count != 0 && a[2].count != harness_round4(pr[7]))) {
                return -1;
            }
            memcpy(w, a[1].i8, (size_t)w_n);
            nn_fully_connected_s8_row4(&p, a[0].i8, w, bias_or_null(&a[2]), h_out);
        } else {
            nn_fully_connected_s8(&p, a[0].i8, a[1].i8, bias_or_null(&a[2]), h_out);
        }
        return out_n;
    }
    if (op == HARNESS_OP_FULLY_CONNECTED_SMALL) {
        if (n_params != 6 || n_arrays != 2) {
            return -1;
        }
        const long words = pr[0], out_c = pr[1], batches = pr[4], depth = pr[5];
        const long out_n = batches * out_c;
        if (words < 1 || words > NN_FC_SMALL_MAX_INPUTS / 4 || depth > 4 * words || depth <= 4 * (words - 1) ||
            !is_i8(&a[0], batches * depth) || !is_i32(&a[1], out_c * NN_FC_SMALL_ROW_WORDS(words), 0) ||
            out_n > (long)HARNESS_MAX_ELEMENTS) {
            return -1;
        }
        const nn_fc_small_params_t p = {a[1].i32, (uint16_t)words, (uint16_t)out_c, pr[2], pr[3]};
        for (long b = 0; b < batches; b++) {
            /* word-aligned and input_words * 4 bytes readable, as the plan's arena guarantees */
            _Alignas(4) int8_t x[NN_FC_SMALL_MAX_INPUTS];
            memset(x, HARNESS_SMALL_PADDING_BYTE, sizeof x);
            memcpy(x, a[0].i8 + b * depth, (size_t)depth);
            nn_fully_connected_s8_small(&p, x, h_out + b * out_c);
        }
        return out_n;
    }
    if (op == HARNESS_OP_MAX_POOL2D || op == HARNESS_OP_AVG_POOL2D) {
        if (n_params != 13 || n_arrays != 1) {
            return -1;
        }
        const long out_n = (long)pr[7] * pr[8] * pr[4];
        if (!is_i8(&a[0], (long)pr[2] * pr[3] * pr[4]) || out_n > (long)HARNESS_MAX_ELEMENTS) {
            return -1;
        }
        const nn_pool2d_params_t p = {pr[0],           pr[1],           (uint16_t)pr[2],  (uint16_t)pr[3],
                                      (uint16_t)pr[4], (uint16_t)pr[5], (uint16_t)pr[6],  (uint16_t)pr[7],
                                      (uint16_t)pr[8], (uint16_t)pr[9], (uint16_t)pr[10], (uint16_t)pr[11],
                                      (uint16_t)pr[12]};
        if (op == HARNESS_OP_MAX_POOL2D) {
            nn_max_pool2d_s8(&p, a[0].i8, h_out);
        } else {
            nn_avg_pool2d_s8(&p, a[0].i8, h_out);
        }
        return out_n;
    }
    if (op == HARNESS_OP_ADD) {
        if (n_params != 13 || n_arrays != 2 || !is_i8(&a[0], pr[12]) || !is_i8(&a[1], pr[12])) {
            return -1;
        }
        const nn_add_params_t p = {pr[0], pr[1], pr[2], pr[3], pr[4], pr[5], pr[6], pr[8], pr[10],
                                   (int8_t)pr[7], (int8_t)pr[9], (int8_t)pr[11], (uint32_t)pr[12]};
        nn_add_s8(&p, a[0].i8, a[1].i8, h_out);
        return pr[12];
    }
    if (op == HARNESS_OP_ADD_BROADCAST) {
        if (n_params != 25 || n_arrays != 2) {
            return -1;
        }
        nn_broadcast4d_t b;
        long out_n = 1, last1 = 0, last2 = 0;
        for (int d = 0; d < 4; d++) {
            if (pr[13 + d] <= 0 || pr[17 + d] < 0 || pr[21 + d] < 0) {
                return -1;
            }
            b.out_dims[d] = (uint16_t)pr[13 + d];
            b.in1_strides[d] = (uint32_t)pr[17 + d];
            b.in2_strides[d] = (uint32_t)pr[21 + d];
            out_n *= pr[13 + d];
            last1 += (long)(pr[13 + d] - 1) * pr[17 + d];
            last2 += (long)(pr[13 + d] - 1) * pr[21 + d];
        }
        /* every index the kernel reads must be inside the arrays */
        if (out_n != pr[12] || out_n > (long)HARNESS_MAX_ELEMENTS || a[0].i8 == NULL || a[1].i8 == NULL ||
            last1 >= a[0].count || last2 >= a[1].count) {
            return -1;
        }
        const nn_add_params_t p = {pr[0], pr[1], pr[2], pr[3], pr[4], pr[5], pr[6], pr[8], pr[10],
                                   (int8_t)pr[7], (int8_t)pr[9], (int8_t)pr[11], (uint32_t)pr[12]};
        nn_add_broadcast_s8(&p, &b, a[0].i8, a[1].i8, h_out);
        return out_n;
    }
    if (op == HARNESS_OP_MEAN) {
        if (n_params != 9 || n_arrays != 1 || pr[3] < -31 || pr[3] > 30) {
            return -1;
        }
        const long out_n = (pr[4] ? 1L : pr[6]) * (pr[5] ? 1L : pr[7]) * pr[8];
        if (!is_i8(&a[0], (long)pr[6] * pr[7] * pr[8]) || out_n > (long)HARNESS_MAX_ELEMENTS) {
            return -1;
        }
        const nn_mean_params_t p = {pr[0],           pr[1],           pr[2],           (int8_t)pr[3],
                                    (uint8_t)pr[4],  (uint8_t)pr[5],  (uint16_t)pr[6], (uint16_t)pr[7],
                                    (uint16_t)pr[8]};
        nn_mean_s8(&p, a[0].i8, h_out);
        return out_n;
    }
    if (op == HARNESS_OP_LOGISTIC) {
        /* a shift above 30 comes with a radius of 0: the kernel never applies it */
        if (n_params != 5 || n_arrays != 1 || pr[3] < -31 || pr[3] > INT8_MAX || pr[4] < 0 ||
            !is_i8(&a[0], pr[4])) {
            return -1;
        }
        const nn_logistic_params_t p = {pr[0], pr[1], pr[2], (int8_t)pr[3], (uint32_t)pr[4]};
        nn_logistic_s8(&p, a[0].i8, h_out);
        return pr[4];
    }
    if (op == HARNESS_OP_SOFTMAX) {
        const long n = (long)pr[3] * pr[4];
        if (n_params != 5 || n_arrays != 1 || pr[1] < 0 || pr[1] > 32 || (pr[1] > 30 && pr[2] != 0) ||
            !is_i8(&a[0], n)) {
            return -1;
        }
        const nn_softmax_params_t p = {pr[0], pr[2], (int8_t)pr[1], (uint16_t)pr[3], (uint16_t)pr[4]};
        nn_softmax_s8(&p, a[0].i8, h_out);
        return n;
    }
    if (op == HARNESS_OP_RELU) {
        if (n_params != 8 || n_arrays != 1 || pr[3] < -31 || pr[3] > 30 || pr[7] < 0 ||
            pr[7] > (long)HARNESS_MAX_ELEMENTS || !is_i8(&a[0], pr[7])) {
            return -1;
        }
        const nn_relu_params_t p = {pr[0], pr[1], pr[2], (int8_t)pr[3], (uint8_t)(pr[4] != 0), pr[5], pr[6],
                                    (uint32_t)pr[7]};
        nn_relu_s8(&p, a[0].i8, h_out);
        return pr[7];
    }
    return -1;
}

int harness_nn(FILE *in, FILE *out)
{
    for (unsigned req = 0;; req++) {
        int32_t op = 0, n_params = 0, n_arrays = 0;
        int32_t params[HARNESS_MAX_PARAMS];
        harness_array_t arrays[HARNESS_MAX_ARRAYS];
        const int got = read_i32(in, &op);
        if (got == 0) {
            return 0;
        }
        int ok = got == 1 && read_i32(in, &n_params) == 1 && n_params >= 0 &&
                 (uint32_t)n_params <= HARNESS_MAX_PARAMS;
        for (int32_t i = 0; ok && i < n_params; i++) {
            ok = read_i32(in, &params[i]) == 1;
        }
        ok = ok && read_i32(in, &n_arrays) == 1 && n_arrays >= 0 && (uint32_t)n_arrays <= HARNESS_MAX_ARRAYS;
        for (int32_t i = 0; ok && i < n_arrays; i++) {
            ok = read_array(in, (size_t)i, &arrays[i]);
        }
        if (!ok) {
            fprintf(stderr, "harness nn: request %u is truncated or out of bounds\n", req);
            return 1;
        }
        const long n = run_request(op, params, n_params, arrays, n_arrays);
        if (n < 0) {
            fprintf(stderr, "harness nn: request %u (op %ld) has inconsistent parameters or arrays\n", req,
                    (long)op);
            return 1;
        }
        if (!write_i32(out, (int32_t)n) || fwrite(h_out, 1, (size_t)n, out) != (size_t)n) {
            return 1;
        }
    }
}
