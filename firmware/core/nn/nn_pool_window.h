/* The part of a pooling window that lies inside the input (padding never takes part), shared by
 * the max and average pools: window origin y0/x0 (may be negative) and the filter rows/columns
 * [start, end) that fall inside. */
#ifndef VIGIL_NN_POOL_WINDOW_H
#define VIGIL_NN_POOL_WINDOW_H

typedef struct nn_window_span {
    int origin; /* input coordinate of filter tap 0 */
    int start;  /* first tap inside the input */
    int end;    /* one past the last tap inside the input */
} nn_window_span_t;

static inline nn_window_span_t nn_window_span(int out, int stride, int pad, int filter, int in_size)
{
    nn_window_span_t s;
    s.origin = out * stride - pad;
    s.start = s.origin < 0 ? -s.origin : 0;
    s.end = (in_size - s.origin) < filter ? (in_size - s.origin) : filter;
    return s;
}

#endif
