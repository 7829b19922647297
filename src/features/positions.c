/*
 * positions.c: the deformed (or reference) positions of a block's nodes,
 * x, y and z in double a node, as the edge features read them
 * (features.h): in stored order, written plainly or around the cache, or
 * at a renumbered mesh's places (edge_order.h).  Pure computation over
 * rows another module read.
 */
#include "features/features.h"

/* pos[3n + c] = x_c[n] (+ y_c[n]), in one pass over the nodes: three
 * passes each writing every third double would bring the whole of pos
 * into the cache three times. */
#define INTERLEAVE(X, AT)                                                      \
    for (size_t n = 0; n < N; n++) {                                           \
        PREFETCH(n + 64);                                                      \
        double *to = pos + 3 * (size_t)(AT);                                   \
        to[0] = X(0, n);                                                       \
        to[1] = X(1, n);                                                       \
        to[2] = X(2, n);                                                       \
    }

/* Node n's position to pos[3 AT + c], AT being n or place[n]. */
#define POSITIONS(AT)                                                          \
    if (reference) {                                                           \
        INTERLEAVE(REF, AT)                                                    \
    } else if (ref[0].f != NULL) {                                             \
        INTERLEAVE(SUM_F, AT)                                                  \
    } else {                                                                   \
        INTERLEAVE(SUM_D, AT)                                                  \
    }

static void
positions_rows(const struct ms_block *b, size_t slot, struct ms_row ref[3],
               struct ms_row disp[3])
{
    for (size_t c = 0; c < 3; c++) {
        ref[c] = ms_block_row(b, MS_ROW_POSITION + c, slot);
        disp[c] = ms_block_row(b, MS_ROW_DISPLACEMENT + c, slot);
    }
}

#define REF(c, n) ms_row_at(ref[c], n)
#define SUM_F(c, n) ((double)ref[c].f[n] + (double)disp[c].f[n])
#define SUM_D(c, n) (ref[c].d[n] + disp[c].d[n])

#define PREFETCH(k) /* in order: the hardware's prefetcher suffices */

void
ms__positions(const struct ms_block *b, size_t slot, bool reference,
              double *pos)
{
    size_t N = b->N;
    struct ms_row ref[3], disp[3];
    positions_rows(b, slot, ref, disp);
    POSITIONS(n)
}

/* Two nodes' positions (six doubles, three 16-byte stores) at a time,
 * stored without reading their lines into the cache first: a timestep of
 * 2 million nodes in about a third less time (bench/renumber_bench,
 * docs/performance.md "Positions written around the cache"). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MS_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MS_SANITIZED 1
#endif
/* (gcc's sanitizers do not see these stores: under them, plain ones) */
#if defined(__SSE2__) && !defined(MS_SANITIZED)
#include <emmintrin.h>
#define INTERLEAVE_STREAMED(X)                                                 \
    size_t n = 0;                                                              \
    for (; n + 2 <= N; n += 2) {                                               \
        double *to = pos + 3 * n;                                              \
        _mm_stream_pd(to, _mm_set_pd(X(1, n), X(0, n)));                       \
        _mm_stream_pd(to + 2, _mm_set_pd(X(0, n + 1), X(2, n)));               \
        _mm_stream_pd(to + 4, _mm_set_pd(X(2, n + 1), X(1, n + 1)));           \
    }                                                                          \
    for (; n < N; n++) {                                                       \
        pos[3 * n] = X(0, n);                                                  \
        pos[3 * n + 1] = X(1, n);                                              \
        pos[3 * n + 2] = X(2, n);                                              \
    }                                                                          \
    _mm_sfence(); /* (visible before the unit says it is done) */

void
ms__positions_streamed(const struct ms_block *b, size_t slot, bool reference,
                       double *pos)
{
    if ((uintptr_t)pos % 16 != 0) {
        ms__positions(b, slot, reference, pos);
        return;
    }
    struct ms_row ref[3], disp[3];
    positions_rows(b, slot, ref, disp);
    size_t N = b->N;
    if (reference) {
        INTERLEAVE_STREAMED(REF)
    } else if (ref[0].f != NULL) {
        INTERLEAVE_STREAMED(SUM_F)
    } else {
        INTERLEAVE_STREAMED(SUM_D)
    }
}
#undef INTERLEAVE_STREAMED
#else
void
ms__positions_streamed(const struct ms_block *b, size_t slot, bool reference,
                       double *pos)
{
    ms__positions(b, slot, reference, pos);
}
#endif

/* Writes at places in no order each miss the cache: the lines 64 nodes
 * ahead are asked for first (a 24-byte position may span two), so that
 * the misses overlap (about 30% off at 2 million nodes). */
#undef PREFETCH
#define PREFETCH(k)                                                            \
    if ((k) < N) {                                                             \
        __builtin_prefetch(pos + 3 * (size_t)place[k], 1);                     \
        __builtin_prefetch(pos + 3 * (size_t)place[k] + 2, 1);                 \
    }

void
ms__positions_placed(const struct ms_block *b, size_t slot, bool reference,
                     const uint32_t *place, double *pos)
{
    size_t N = b->N;
    struct ms_row ref[3], disp[3];
    positions_rows(b, slot, ref, disp);
    POSITIONS(place[n])
}

#undef PREFETCH

#undef REF
#undef SUM_F
#undef SUM_D
