#include "models.h"

#include <string.h>

#include "protocol/crc32.h"

#ifndef VIGIL_ENGINE_MODEL
#include "nn/plan_executor.h"
#include "stress_consensus.h"
#include "stress_nn_plan.h"
#include "stress_svm.h"
#include "stress_tree.h"

#define MODELS_SLEEP_OUTPUTS VIGIL_SLEEP_CLASSES
#define MODELS_STRESS_CLASS 1u

#if SLEEP_MODEL_INPUT_CONTEXT
#include "sleep_context_plan.h"
#define MODELS_SLEEP_PLAN sleep_context_plan
_Static_assert(SLEEP_CONTEXT_INPUT_BYTES == DSP_SLEEP_CONTEXT_INPUT, "the context model takes the unrolled context");
_Static_assert(SLEEP_CONTEXT_OUTPUT_BYTES == MODELS_SLEEP_OUTPUTS, "the context model gives one int8 per class");
_Static_assert(SLEEP_CONTEXT_ARENA_BYTES <= MODELS_ARENA_BYTES, "vigil_models.h sizes the shared arena");
#else
#include "sleep_cnn_plan.h"
#define MODELS_SLEEP_PLAN sleep_cnn_plan
_Static_assert(SLEEP_CNN_INPUT_BYTES == EPOCH_IMAGE_BYTES, "the sleep CNN takes one epoch image");
_Static_assert(SLEEP_CNN_OUTPUT_BYTES == MODELS_SLEEP_OUTPUTS, "the sleep CNN gives one int8 per class");
_Static_assert(SLEEP_CNN_ARENA_BYTES <= MODELS_ARENA_BYTES, "vigil_models.h sizes the shared arena");
#endif
_Static_assert(MODELS_SLEEP_DELAY_EPOCHS <= UINT8_MAX, "SLEEP carries the delay in a byte");
_Static_assert(VIGIL_SLEEP_SIZE == 4u + MODELS_SLEEP_OUTPUTS + 1u + 2u + 1u, "SLEEP: epoch, outputs, class, motion, delay");
_Static_assert(STRESS_NN_INPUT_BYTES == STRESS_TASK_FEATURES, "the stress NN takes the six HRV features");
_Static_assert(HRV_FEATURE_COUNT == STRESS_TASK_FEATURES, "relative features: the same six, in the same order");
_Static_assert(STRESS_NN_OUTPUT_BYTES == 2u, "the stress NN gives two int8 logits");
_Static_assert(STRESS_NN_N_FEATURES == STRESS_TASK_FEATURES, "stress_consensus.h quantizes six features");
_Static_assert(STRESS_NN_ARENA_BYTES <= MODELS_ARENA_BYTES, "vigil_models.h sizes the shared arena");
#endif

void models_init(models_t *m)
{
    stress_task_init(&m->stress);
    m->alert_memory = (stress_alert_memory_t){ 0u, false };
}

size_t models_count(void)
{
#ifndef VIGIL_ENGINE_MODEL
    return VIGIL_MODELS_COUNT;
#else
    return 0u;
#endif
}

const char *models_name(size_t i)
{
#ifndef VIGIL_ENGINE_MODEL
    return i < VIGIL_MODELS_COUNT ? vigil_models[i].name : "";
#else
    (void)i;
    return "";
#endif
}

const uint8_t *models_hash(size_t i)
{
#ifndef VIGIL_ENGINE_MODEL
    return i < VIGIL_MODELS_COUNT ? vigil_models[i].hash : NULL;
#else
    (void)i;
    return NULL;
#endif
}

#ifndef VIGIL_ENGINE_MODEL
static void send_stress(models_t *m, size_t n_ready, link_t *link)
{
    for (size_t i = 0u; i < n_ready; i++) {
        const stress_ready_t *r = &m->ready[i];
        stress_verdict_t v;
        stress_consensus_q15(&stress_consensus, &r->evidence, &m->alert_memory, &v);
        uint8_t *p = m->out;
        put_u32(p, r->seg.segment);
        put_u32(p + 4, r->seg.features_crc);
        for (size_t j = 0u; j < STRESS_MODELS; j++) {
            put_u16(p + 8 + 2 * j, r->seg.p_stress_q15[j]);
        }
        p[14] = (uint8_t)r->seg.nn_out[0];
        p[15] = (uint8_t)r->seg.nn_out[1];
        uint8_t votes = 0u;
        for (size_t j = 0u; j < STRESS_MODELS; j++) {
            votes |= (uint8_t)((r->seg.votes_stress[j] ? 1u : 0u) << j);
        }
        p[16] = votes;
        put_u16(p + 17, v.weighted_q15);
        p[19] = v.decision;
        p[20] = v.unanimous;
        p[21] = v.alert;
        p[22] = v.reasons;
        put_u16(p + 23, r->evidence.context_known ? r->evidence.motion : 0u);
        link_send(link, VIGIL_MSG_STRESS, p, VIGIL_STRESS_SIZE);
    }
}

/* Class of int8 outputs: the first maximum (lowest index on ties). */
static uint8_t argmax_s8(const int8_t *v, size_t n)
{
    size_t best = 0u;
    for (size_t i = 1u; i < n; i++) {
        if (v[i] > v[best]) {
            best = i;
        }
    }
    return (uint8_t)best;
}
#endif

#ifndef VIGIL_ENGINE_MODEL
/* A model did not run (nn_plan_run failed): the host hears it before the record, which goes out marked. */
static void send_model_failed(link_t *link, uint8_t record_type, uint32_t index)
{
    uint8_t p[4] = {(uint8_t)VIGIL_ERR_MODEL_FAILED, record_type, 0u, 0u};
    put_u16(p + 2, (uint16_t)index);
    link_send(link, VIGIL_MSG_ERROR, p, sizeof p);
}

/* Test builds only (tests/test_model_failure_device.py): every model run fails, as an arena overrun would. */
static nn_status model_run(const nn_plan *plan, uint8_t *arena, size_t arena_bytes)
{
#ifdef VIGIL_TEST_MODEL_FAILURE
    (void)plan;
    (void)arena;
    (void)arena_bytes;
    return NN_ERR_ARENA_TOO_SMALL;
#else
    return nn_plan_run(plan, arena, arena_bytes, NULL, NULL);
#endif
}

/* The sleep model just ran on its input in the arena (status): send SLEEP for `epoch`, hand the class and motion to
 * the stress task, send the STRESS records it makes ready. The stage's cost ends here. */
static void sleep_decided(models_t *m, nn_status status, uint32_t epoch, uint16_t motion, link_t *link,
                          stage_costs_t *costs, uint64_t began)
{
    int8_t out[MODELS_SLEEP_OUTPUTS] = {0};
    uint8_t cls = VIGIL_SLEEP_CLASS_UNKNOWN; /* not wake: the stress alert's "awake" gate stays closed */
    if (status == NN_OK) {
        memcpy(out, m->arena + MODELS_SLEEP_PLAN.out_offset, sizeof out);
        cls = argmax_s8(out, MODELS_SLEEP_OUTPUTS);
    } else {
        send_model_failed(link, VIGIL_MSG_SLEEP, epoch);
    }
    size_t n_ready = stress_task_context(&m->stress, cls, motion, m->ready);
    stage_end(costs, VIGIL_STAGE_SLEEP_CNN, began, 1u);

    uint8_t *p = m->out;
    put_u32(p, epoch);
    for (size_t i = 0u; i < MODELS_SLEEP_OUTPUTS; i++) {
        p[4 + i] = (uint8_t)out[i];
    }
    p[4 + MODELS_SLEEP_OUTPUTS] = cls;
    put_u16(p + 5 + MODELS_SLEEP_OUTPUTS, motion);
    p[7 + MODELS_SLEEP_OUTPUTS] = (uint8_t)MODELS_SLEEP_DELAY_EPOCHS;
    link_send(link, VIGIL_MSG_SLEEP, p, VIGIL_SLEEP_SIZE);
    send_stress(m, n_ready, link);
}
#endif

#if SLEEP_MODEL_INPUT_CONTEXT
void models_on_context(models_t *m, const sleep_context_t *ctx, uint32_t epoch, uint16_t motion, link_t *link,
                       stage_costs_t *costs)
{
#ifndef VIGIL_ENGINE_MODEL
    uint64_t began = stage_begin();
    /* The model's input quantization is the vectors' own (scale 1.0, zero point -128): the bytes go in unchanged. */
    sleep_context_unroll(ctx, (int8_t *)(m->arena + sleep_context_plan.in_offset));
    nn_status status = model_run(&sleep_context_plan, m->arena, sizeof m->arena);
    sleep_decided(m, status, epoch, motion, link, costs, began);
#else
    (void)m;
    (void)ctx;
    (void)epoch;
    (void)motion;
    (void)link;
    (void)costs;
#endif
}
#else
void models_on_epoch(models_t *m, const epoch_image_t *img, const epoch_image_info_t *info, uint16_t motion,
                     link_t *link, stage_costs_t *costs)
{
#ifndef VIGIL_ENGINE_MODEL
    uint64_t began = stage_begin();
    /* The CNN's input is the image transposed: bins x frames (frequency down, time across), values unchanged. */
    int8_t *in = (int8_t *)(m->arena + sleep_cnn_plan.in_offset);
    for (uint32_t b = 0u; b < DSP_STFT_BINS; b++) {
        for (uint32_t fr = 0u; fr < DSP_IMAGE_FRAMES; fr++) {
            in[b * DSP_IMAGE_FRAMES + fr] = epoch_image_at(img, info->first_column, fr, b);
        }
    }
    nn_status status = model_run(&sleep_cnn_plan, m->arena, sizeof m->arena);
    sleep_decided(m, status, info->epoch, motion, link, costs, began);
#else
    (void)m;
    (void)img;
    (void)info;
    (void)motion;
    (void)link;
    (void)costs;
#endif
}
#endif

void models_on_segment(models_t *m, const hrv_features_t *f, link_t *link, stage_costs_t *costs)
{
#ifndef VIGIL_ENGINE_MODEL
    uint64_t began = stage_begin();
#if STRESS_INPUTS_BASELINE
    const int32_t *raw = f->rel; /* the features relative to the wearer's baseline */
    const bool inputs_ready = f->baseline_ready != 0u;
#else
    int32_t raw[STRESS_TASK_FEATURES];
    hrv_feature_values(f, raw);
    const bool inputs_ready = true;
#endif
    stress_segment_t seg;
    memset(&seg, 0, sizeof seg);
    seg.segment = f->segment;
    seg.features_valid = f->valid != 0u;
    seg.baseline_ready = inputs_ready;
    uint8_t le[4 * STRESS_TASK_FEATURES];
    for (size_t i = 0u; i < STRESS_TASK_FEATURES; i++) {
        put_u32(le + 4 * i, (uint32_t)raw[i]);
    }
    seg.features_crc = crc32_update(0u, le, sizeof le);

    uint16_t proba[2] = {0u, 0u};
    int cls = tree_classifier_q15(&stress_tree, raw, proba);
    seg.p_stress_q15[0] = proba[MODELS_STRESS_CLASS];
    seg.votes_stress[0] = cls == (int)MODELS_STRESS_CLASS;
    cls = svm_rbf_q15(&stress_svm, raw, proba);
    seg.p_stress_q15[1] = proba[MODELS_STRESS_CLASS];
    seg.votes_stress[1] = cls == (int)MODELS_STRESS_CLASS;

    feature_quant_s8(&stress_nn_input_quant, raw, (int8_t *)(m->arena + stress_nn_plan.in_offset));
    if (model_run(&stress_nn_plan, m->arena, sizeof m->arena) == NN_OK) {
        memcpy(seg.nn_out, m->arena + stress_nn_plan.out_offset, sizeof seg.nn_out);
    } else { /* outputs 0: P(stress) 0.5 and no stress vote, so the trio is not unanimous and cannot alert */
        send_model_failed(link, VIGIL_MSG_STRESS, f->segment);
    }
    seg.p_stress_q15[2] = logit_pair_q15(stress_nn_p_stress_q15, seg.nn_out[0], seg.nn_out[1]);
    seg.votes_stress[2] = seg.nn_out[1] > seg.nn_out[0];
    size_t n_ready = stress_task_segment(&m->stress, &seg, m->ready);
    stage_end(costs, VIGIL_STAGE_STRESS, began, 1u);
    send_stress(m, n_ready, link);
#else
    (void)m;
    (void)f;
    (void)link;
    (void)costs;
#endif
}
