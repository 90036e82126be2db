/* The model-stage kernels: feature_quant_s8, logit_pair_q15, stress_consensus_q15, motion_level, and the
 * stress task's wait for context (firmware/app/stress_task.c). Harness "consensus": stress_consensus_q15 on
 * records from stdin, for tests/test_consensus_kernels.py (C against vigil.bundle.consensus_twin). */
#include <string.h>

#include "../app/stress_task.h"
#include "check.h"
#include "dsp/motion_level.h"
#include "ml/feature_quant_s8.h"
#include "ml/logit_pair_q15.h"
#include "ml/stress_consensus_q15.h"

static void test_feature_quant(check_totals_t *t)
{
    /* q = (raw * 2^29 + add) >> 30 = floor(raw / 2 + add / 2^30): rounds half up, floors negatives, saturates */
    static const int32_t mul[4] = {1 << 29, 1 << 29, 1 << 29, -(1 << 29)};
    static const int64_t add[4] = {(int64_t)1 << 29, (int64_t)1 << 29, -(int64_t)200 * ((int64_t)1 << 30), 0};
    static const uint8_t shift[4] = {30, 30, 30, 30};
    const feature_quant_s8_t q = {4u, mul, add, shift};
    const int32_t raw[4] = {3, -3, 0, 1000};
    int8_t out[4];
    feature_quant_s8(&q, raw, out);
    CHECK(t, out[0] == 2, "3/2 + 1/2 -> 2, got %d", out[0]);
    CHECK(t, out[1] == -1, "-3/2 + 1/2 -> -1, got %d", out[1]);
    CHECK(t, out[2] == -128, "saturates low, got %d", out[2]);
    CHECK(t, out[3] == -128, "negative slope saturates, got %d", out[3]);
    const int32_t big[4] = {2147483647, -2147483647 - 1, 2147483647, -2147483647 - 1};
    feature_quant_s8(&q, big, out);
    CHECK(t, out[0] == 127 && out[1] == -128 && out[2] == 127 && out[3] == 127, "int32 extremes saturate");
}

static void test_logit_pair(check_totals_t *t)
{
    static uint16_t table[LOGIT_PAIR_TABLE_SIZE];
    for (int32_t i = 0; i < LOGIT_PAIR_TABLE_SIZE; i++) {
        table[i] = (uint16_t)i;
    }
    CHECK(t, logit_pair_q15(table, -128, 127) == 510u, "largest difference is the last entry");
    CHECK(t, logit_pair_q15(table, 127, -128) == 0u, "smallest difference is the first entry");
    CHECK(t, logit_pair_q15(table, 5, 5) == 255u, "equal logits are the middle entry");
}

static stress_evidence_t all_held(void)
{
    stress_evidence_t e = {.segment = 0u, .p_stress_q15 = {30000u, 30000u, 30000u}, .votes_stress = {true, true, true},
                           .features_valid = true, .context_known = true, .awake = true, .motion = 3u,
                           .baseline_ready = true};
    return e;
}

static void test_consensus(check_totals_t *t)
{
    /* sustain_lookback 0: SUSTAINED always holds, so each check below is about one condition */
    const stress_consensus_q15_t c = {{18204u, 10923u, 3641u}, 19661u, 40u, 0u, STRESS_Q15_HALF};
    stress_alert_memory_t mem = {0u, false};
    stress_verdict_t v;
    stress_evidence_t e = all_held();
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 1u && v.reasons == STRESS_REASON_ALL && v.decision == 1u && v.unanimous == 1u,
          "everything held: alert (reasons %02x)", v.reasons);
    CHECK(t, v.weighted_q15 == 30000u, "weights sum to one: weighted = 30000, got %u", v.weighted_q15);

    e = all_held();
    e.votes_stress[2] = false;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_ALL & ~STRESS_REASON_UNANIMOUS), "one dissent blocks");
    e = all_held();
    e.p_stress_q15[0] = e.p_stress_q15[1] = e.p_stress_q15[2] = 19660u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && !(v.reasons & STRESS_REASON_ABOVE_THRESHOLD), "just below the threshold blocks");
    e.p_stress_q15[0] = e.p_stress_q15[1] = e.p_stress_q15[2] = 19661u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 1u, "exactly at the threshold passes");
    e = all_held();
    e.features_valid = false;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_ALL & ~STRESS_REASON_FEATURES_VALID), "invalid features");
    e = all_held();
    e.baseline_ready = false;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_ALL & ~STRESS_REASON_BASELINE_READY), "baseline not ready");
    e = all_held();
    e.awake = false;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_ALL & ~STRESS_REASON_AWAKE), "asleep blocks");
    e = all_held();
    e.motion = 41u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_ALL & ~STRESS_REASON_LITTLE_MOTION), "motion blocks");
    e = all_held();
    e.context_known = false;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_UNANIMOUS | STRESS_REASON_ABOVE_THRESHOLD |
                                            STRESS_REASON_FEATURES_VALID | STRESS_REASON_BASELINE_READY |
                                            STRESS_REASON_SUSTAINED),
          "unknown context clears three bits");

    /* decision: an exact half is relax (the lower class index) */
    e = all_held();
    e.p_stress_q15[0] = e.p_stress_q15[1] = e.p_stress_q15[2] = STRESS_Q15_HALF;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.weighted_q15 == STRESS_Q15_HALF && v.decision == 0u, "a tie decides relax");
    e.p_stress_q15[0] = STRESS_Q15_HALF + 1u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.weighted_q15 == STRESS_Q15_HALF + 1u && v.decision == 1u, "rounding half up: (18204 + 2^29 + 2^14) >> 15");
    e.p_stress_q15[0] = e.p_stress_q15[1] = e.p_stress_q15[2] = STRESS_Q15_ONE;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.weighted_q15 == STRESS_Q15_ONE, "certainty stays 32768, got %u", v.weighted_q15);
}

/* SUSTAINED: the evidence (unanimous, above the threshold, valid inputs) in one of the 2 segments before. */
static void test_consensus_sustained(check_totals_t *t)
{
    const stress_consensus_q15_t c = {{18204u, 10923u, 3641u}, 19661u, 40u, 2u, STRESS_Q15_HALF};
    stress_alert_memory_t mem = {0u, false};
    stress_verdict_t v;
    stress_evidence_t e = all_held();
    e.segment = 10u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && v.reasons == (STRESS_REASON_ALL & ~STRESS_REASON_SUSTAINED),
          "a first stressed minute alone does not alert (reasons %02x)", v.reasons);
    e.segment = 12u; /* 2 after the last evidence: still within the look back */
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 1u && v.reasons == STRESS_REASON_ALL, "evidence 2 segments before sustains");
    e.segment = 15u; /* 3 after */
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && !(v.reasons & STRESS_REASON_SUSTAINED), "evidence 3 segments before is too old");
    /* the evidence counts with the context gates closed (asleep, moving): they are this minute's */
    e.segment = 16u;
    e.awake = false;
    e.motion = 200u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && (v.reasons & STRESS_REASON_SUSTAINED), "sustained by 15, blocked by its own context");
    e = all_held();
    e.segment = 17u;
    e.votes_stress[1] = false; /* not evidence: does not refresh the memory */
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && (v.reasons & STRESS_REASON_SUSTAINED), "sustained by 16, blocked by a dissent");
    e = all_held();
    e.segment = 19u;
    stress_consensus_q15(&c, &e, &mem, &v);
    CHECK(t, v.alert == 0u && !(v.reasons & STRESS_REASON_SUSTAINED), "a dissenting minute does not sustain");
    e.segment = 19u; /* the same segment again is not "before" it */
    stress_alert_memory_t again = mem;
    stress_consensus_q15(&c, &e, &again, &v);
    CHECK(t, !(v.reasons & STRESS_REASON_SUSTAINED), "a segment does not sustain itself");
}

static void test_motion_level(check_totals_t *t)
{
    motion_level_t m;
    motion_level_init(&m, MOTION_WINDOW_EPOCH);
    static int16_t d[DSP_EPOCH_SAMPLES + 10];
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        d[i] = (int16_t)(i % 2 ? -7 : 8); /* mean |d| = 7.5 -> 7 */
    }
    uint16_t levels[2];
    size_t n = motion_level_push(&m, d, 1000u, levels, 2u);
    CHECK(t, n == 0u, "no epoch yet");
    n = motion_level_push(&m, d + 1000, 510u, levels, 2u);
    CHECK(t, n == 1u && levels[0] == 7u && m.epoch == 1u && m.filled == 10u, "level floor(7.5) = 7, got %u", levels[0]);
    int16_t loud[DSP_EPOCH_SAMPLES];
    for (size_t i = 0; i < DSP_EPOCH_SAMPLES; i++) {
        loud[i] = -32768;
    }
    motion_level_init(&m, MOTION_WINDOW_EPOCH);
    n = motion_level_push(&m, loud, DSP_EPOCH_SAMPLES, levels, 2u);
    CHECK(t, n == 1u && levels[0] == 32768u, "|-32768| does not overflow, got %u", levels[0]);
    uint16_t per_second[DSP_EPOCH_S + 1u];
    motion_level_init(&m, MOTION_WINDOW_SECOND);
    n = motion_level_push(&m, d, DSP_EPOCH_SAMPLES + 10u, per_second, DSP_EPOCH_S + 1u);
    CHECK(t, n == DSP_EPOCH_S && per_second[0] == 7u && per_second[DSP_EPOCH_S - 1u] == 7u && m.filled == 10u,
          "30 one-second levels of 7 and 10 samples over, got %u", (unsigned)n);
}

static stress_segment_t segment(uint32_t s)
{
    stress_segment_t seg;
    memset(&seg, 0, sizeof seg);
    seg.segment = s;
    seg.features_valid = true;
    seg.baseline_ready = true;
    return seg;
}

static void test_stress_task(check_totals_t *t)
{
    static stress_task_t st;
    stress_ready_t ready[STRESS_TASK_PENDING_MAX + 1u];
    stress_task_init(&st);
    stress_segment_t s0 = segment(0u);
    CHECK(t, stress_task_segment(&st, &s0, ready) == 0u, "segment 0 waits for epochs 0 and 1");
    CHECK(t, stress_task_context(&st, 0u, 5u, ready) == 0u, "epoch 0 alone is not enough");
    size_t n = stress_task_context(&st, 0u, 9u, ready);
    CHECK(t, n == 1u && ready[0].seg.segment == 0u && ready[0].evidence.context_known && ready[0].evidence.awake &&
             ready[0].evidence.motion == 9u, "epoch 1 releases segment 0, awake, motion = max");
    /* context ahead of the segment: ready at once; one asleep epoch makes it not awake */
    stress_task_context(&st, 1u, 2u, ready);
    stress_task_context(&st, 0u, 1u, ready);
    stress_segment_t s1 = segment(1u);
    n = stress_task_segment(&st, &s1, ready);
    CHECK(t, n == 1u && ready[0].evidence.context_known && !ready[0].evidence.awake && ready[0].evidence.motion == 2u,
          "segment 1 at once, asleep in epoch 2");
    /* no accelerometer: the fifth waiting segment pushes the first out with context unknown */
    for (uint32_t s = 2u; s < 2u + STRESS_TASK_PENDING_MAX; s++) {
        stress_segment_t seg = segment(s);
        CHECK(t, stress_task_segment(&st, &seg, ready) == 0u, "segment %u waits", (unsigned)s);
    }
    stress_segment_t late = segment(2u + STRESS_TASK_PENDING_MAX);
    n = stress_task_segment(&st, &late, ready);
    CHECK(t, n == 1u && ready[0].seg.segment == 2u && !ready[0].evidence.context_known, "oldest pushed out, unknown");
    /* context lost: epochs far older than the kept window */
    stress_task_init(&st);
    for (uint32_t e = 0; e < 2u * STRESS_TASK_CONTEXT_EPOCHS; e++) {
        stress_task_context(&st, 0u, 0u, ready);
    }
    stress_segment_t old = segment(0u);
    n = stress_task_segment(&st, &old, ready);
    CHECK(t, n == 1u && !ready[0].evidence.context_known, "a segment whose epochs are gone: unknown at once");
}

void run_models_tests(check_totals_t *t)
{
    test_feature_quant(t);
    test_logit_pair(t);
    test_consensus(t);
    test_consensus_sustained(t);
    test_motion_level(t);
    test_stress_task(t);
}

/* stdin: records of weight[3] u16, threshold u16, motion_limit u16, p[3] u16, votes u8 (bit j), valid u8 (bit 0
 * features valid, bit 1 baseline ready), known u8, awake u8, motion u16, sustain_lookback u8, segment u32,
 * decision u16 (29 bytes, little endian), all through one alert memory; stdout per record: weighted u16, decision,
 * unanimous, alert, reasons u8. */
int harness_consensus(FILE *in, FILE *out)
{
    uint8_t r[29];
    stress_alert_memory_t mem = {0u, false};
    while (fread(r, 1, sizeof r, in) == sizeof r) {
        stress_consensus_q15_t c;
        stress_evidence_t e;
        for (size_t j = 0; j < STRESS_MODELS; j++) {
            c.weight_q15[j] = (uint16_t)(r[2 * j] | r[2 * j + 1] << 8);
            e.p_stress_q15[j] = (uint16_t)(r[10 + 2 * j] | r[11 + 2 * j] << 8);
            e.votes_stress[j] = (r[16] >> j) & 1u;
        }
        c.threshold_q15 = (uint16_t)(r[6] | r[7] << 8);
        c.motion_limit = (uint16_t)(r[8] | r[9] << 8);
        e.features_valid = (r[17] & 1u) != 0u;
        e.baseline_ready = (r[17] & 2u) != 0u;
        e.context_known = r[18] != 0u;
        e.awake = r[19] != 0u;
        e.motion = (uint16_t)(r[20] | r[21] << 8);
        c.sustain_lookback = r[22];
        e.segment = (uint32_t)r[23] | (uint32_t)r[24] << 8 | (uint32_t)r[25] << 16 | (uint32_t)r[26] << 24;
        c.decision_q15 = (uint16_t)(r[27] | r[28] << 8);
        stress_verdict_t v;
        stress_consensus_q15(&c, &e, &mem, &v);
        const uint8_t o[6] = {(uint8_t)v.weighted_q15, (uint8_t)(v.weighted_q15 >> 8), v.decision, v.unanimous,
                              v.alert, v.reasons};
        fwrite(o, 1, sizeof o, out);
    }
    return 0;
}
