#include "ml/tree_classifier_q15.h"

int tree_classifier_q15(const tree_q15_model_t *model, const int32_t *features, uint16_t *proba_q15)
{
    uint32_t node = 0u;
    for (uint32_t step = 0u; step < model->n_nodes; step++) {
        if (node >= model->n_nodes) {
            return -1;
        }
        const int32_t f = model->feature[node];
        if (f == TREE_Q15_LEAF) {
            if (model->left[node] >= model->n_leaves) {
                return -1;
            }
            const uint16_t *row = &model->proba_q15[(uint32_t)model->left[node] * model->n_classes];
            int best = 0;
            for (uint32_t c = 0u; c < model->n_classes; c++) {
                proba_q15[c] = row[c];
                if (row[c] > row[best]) {
                    best = (int)c;
                }
            }
            return best;
        }
        if (f < 0 || f >= (int32_t)model->n_features) {
            return -1;
        }
        node = features[f] <= model->threshold[node] ? model->left[node] : model->right[node];
    }
    return -1;
}
