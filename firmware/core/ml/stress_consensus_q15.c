#include "ml/stress_consensus_q15.h"

#define STRESS_Q15_SHIFT 15u

/* Whether the evidence held in one of the lookback segments before `segment`; then remembers this one's. */
static bool sustained(const stress_consensus_q15_t *c, stress_alert_memory_t *m, uint32_t segment, bool evidence)
{
    bool held_before = c->sustain_lookback == 0u ||
                       (m->any_evidence && segment > m->last_evidence_segment &&
                        segment - m->last_evidence_segment <= c->sustain_lookback);
    if (evidence) {
        m->last_evidence_segment = segment;
        m->any_evidence = true;
    }
    return held_before;
}

void stress_consensus_q15(const stress_consensus_q15_t *c, const stress_evidence_t *e, stress_alert_memory_t *memory,
                          stress_verdict_t *out)
{
    uint32_t acc = STRESS_Q15_HALF; /* round half up; the sum is <= 2^30 + 2^14, no overflow */
    bool unanimous = true;
    for (uint32_t j = 0u; j < STRESS_MODELS; j++) {
        acc += (uint32_t)c->weight_q15[j] * e->p_stress_q15[j];
        unanimous = unanimous && e->votes_stress[j];
    }
    uint16_t weighted = (uint16_t)(acc >> STRESS_Q15_SHIFT);
    uint8_t reasons = 0u;
    if (unanimous) {
        reasons |= STRESS_REASON_UNANIMOUS;
    }
    if (weighted >= c->threshold_q15) {
        reasons |= STRESS_REASON_ABOVE_THRESHOLD;
    }
    if (e->features_valid) {
        reasons |= STRESS_REASON_FEATURES_VALID;
    }
    if (e->baseline_ready) {
        reasons |= STRESS_REASON_BASELINE_READY;
    }
    if (e->context_known) {
        reasons |= STRESS_REASON_CONTEXT_KNOWN;
        if (e->awake) {
            reasons |= STRESS_REASON_AWAKE;
        }
        if (e->motion <= c->motion_limit) {
            reasons |= STRESS_REASON_LITTLE_MOTION;
        }
    }
    if (sustained(c, memory, e->segment, (reasons & STRESS_REASON_EVIDENCE) == STRESS_REASON_EVIDENCE)) {
        reasons |= STRESS_REASON_SUSTAINED;
    }
    out->weighted_q15 = weighted;
    out->decision = weighted > c->decision_q15 ? 1u : 0u;
    out->unanimous = unanimous ? 1u : 0u;
    out->alert = reasons == STRESS_REASON_ALL ? 1u : 0u;
    out->reasons = reasons;
}
