#include "dsp/motion_level.h"

void motion_level_init(motion_level_t *m, uint32_t window)
{
    m->window = window;
    m->sum = 0u;
    m->filled = 0u;
    m->epoch = 0u;
}

size_t motion_level_push(motion_level_t *m, const int16_t *deriv, size_t n, uint16_t *levels, size_t max)
{
    size_t done = 0u;
    for (size_t i = 0u; i < n; i++) {
        int32_t d = deriv[i];
        m->sum += (uint32_t)(d < 0 ? -d : d);
        m->filled++;
        if (m->filled == m->window) {
            uint32_t level = m->sum / m->window;
            if (done < max) {
                levels[done++] = (uint16_t)(level > MOTION_LEVEL_MAX ? MOTION_LEVEL_MAX : level);
            }
            m->sum = 0u;
            m->filled = 0u;
            m->epoch++;
        }
    }
    return done;
}
