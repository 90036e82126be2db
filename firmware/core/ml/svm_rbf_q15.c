#include "ml/svm_rbf_q15.h"

#include "ml/ml_exp2.h"

#define SVM_RBF_KERNEL_FRAC 30u

static int64_t clamp_s64(int64_t x, int64_t lo, int64_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* (x + 2^(shift-1)) >> shift, shift >= 1, arithmetic shift (floor) for negative x. */
static int64_t rshift_round_s64(int64_t x, uint32_t shift)
{
    return (x + ((int64_t)1 << (shift - 1u))) >> shift;
}

int svm_rbf_decision_q(const svm_rbf_q15_model_t *model, const int32_t *features, int32_t *decision)
{
    int32_t scaled[SVM_RBF_MAX_FEATURES];
    const uint32_t nf = model->n_features;
    if (nf == 0u || nf > SVM_RBF_MAX_FEATURES) {
        return -1;
    }
    for (uint32_t f = 0u; f < nf; f++) {
        const int64_t s = ((int64_t)features[f] * model->scale_mul[f] + model->scale_add[f]) >> model->scale_shift[f];
        scaled[f] = (int32_t)clamp_s64(s, -SVM_RBF_SCALED_LIMIT, SVM_RBF_SCALED_LIMIT);
    }
    int64_t acc = model->intercept;
    for (uint32_t i = 0u; i < model->n_sv; i++) {
        const int32_t *sv = &model->sv_q20[i * nf];
        int64_t d2 = 0;
        for (uint32_t f = 0u; f < nf; f++) {
            const int64_t d = (int64_t)scaled[f] - sv[f];
            d2 += d * d;
        }
        if (d2 >= model->d2_cutoff) {
            continue; /* kernel 0 */
        }
        const int64_t u = rshift_round_s64((d2 >> model->d2_shift) * model->gamma_mul, model->gamma_shift);
        acc += (int64_t)model->alpha[i] * (int64_t)ml_exp2_neg_q30((uint32_t)u);
    }
    *decision = (int32_t)clamp_s64(rshift_round_s64(acc, model->decision_shift), INT32_MIN, INT32_MAX);
    return 0;
}

int svm_rbf_q15(const svm_rbf_q15_model_t *model, const int32_t *features, uint16_t proba_q15[SVM_RBF_N_CLASSES])
{
    int32_t f;
    if (svm_rbf_decision_q(model, features, &f) != 0) {
        return -1;
    }
    const int64_t v = clamp_s64(rshift_round_s64((int64_t)f * model->platt_mul, model->platt_shift) + model->platt_add,
                                -SVM_RBF_V_LIMIT, SVM_RBF_V_LIMIT);
    const uint64_t e = ml_exp2_neg_q30((uint32_t)(v >= 0 ? v : -v)); /* 2^-|v|, Q30 */
    const uint64_t den = ((uint64_t)1 << SVM_RBF_KERNEL_FRAC) + e;
    const uint64_t num = v >= 0 ? e << 15 : (uint64_t)1 << (SVM_RBF_KERNEL_FRAC + 15u);
    const uint32_t p1 = (uint32_t)((num + (den >> 1)) / den);
    proba_q15[1] = (uint16_t)p1;
    proba_q15[0] = (uint16_t)(SVM_RBF_Q15_ONE - p1);
    return p1 > SVM_RBF_Q15_ONE - p1 ? 1 : 0;
}
