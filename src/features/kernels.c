/*
 * kernels.c: the loops every value of a pass goes through, on lanes of
 * vectors of four doubles: the shifted sums of a block of values
 * (moments.c), the pass over a mesh's edges and the counting of values
 * into a quantile sketch (features.c).
 *
 * The file is compiled twice: for the baseline instruction set as
 * ms__kernels_baseline, and by kernels_avx2.c with AVX2 as
 * ms__kernels_avx2, which moments.c picks when the processor has it.  Lane
 * l takes the elements i = l mod 8 (edges: mod 4), four lanes combine as
 * (l0 + l1) + (l2 + l3), and every operation is the one written here, each
 * correctly rounded, with no fused multiply-add (-ffp-contract=off): both
 * compilations give the same bits for finite values (non-finite sums never
 * reach a result), which tests/test_kernels.c checks.
 *
 * No I/O, no locks, no allocation.
 */
#include "features/features.h"
#include "features/simd.h"

#include <math.h>

#ifndef MS_KERNELS_NAME
#define MS_KERNELS_NAME ms__kernels_baseline
#endif

typedef ms_v4d v4d;
#define ADD ms_v4d_add
#define SUB ms_v4d_sub
#define MUL ms_v4d_mul

/* The sums of v - shift and of its squares, min and max, per lane: values
 * on eight lanes, two sets of four (L[0] for i mod 8 < 4, L[1] for the
 * rest), so that consecutive additions do not wait for each other. */
struct lanes {
    v4d s1, s2, lo, hi;
};

MS_SIMD_INLINE void
lanes_add(struct lanes *L, v4d v, v4d shift)
{
    v4d d = SUB(v, shift);
    L->s1 = ADD(L->s1, d);
    L->s2 = ADD(L->s2, MUL(d, d));
    L->lo = ms_v4d_min(v, L->lo);
    L->hi = ms_v4d_max(v, L->hi);
}

/* V: the four values at j, of rows loaded by LOAD. */
#define SUM_LOOP(V)                                                            \
    for (; i + 8 <= n; i += 8) {                                               \
        size_t j = i;                                                          \
        lanes_add(&L[0], (V), shift);                                          \
        j = i + 4;                                                             \
        lanes_add(&L[1], (V), shift);                                          \
    }
#define SUM_LOOPS(LOAD)                                                        \
    if (v->kind == MS_VALUES_ROW) {                                            \
        SUM_LOOP(LOAD(x + j))                                                  \
    } else if (v->kind == MS_VALUES_DIFF) {                                    \
        SUM_LOOP(SUB(LOAD(y + j), LOAD(x + j)))                                \
    } else {                                                                   \
        SUM_LOOP(ADD(SUB(LOAD(y + j), MUL(two, LOAD(x + j))), LOAD(z + j)))    \
    }

/* Elements [0, n - n mod 8) of rows of type T (member M of struct
 * ms_row), loaded by LOAD: lanes_of_floats widens floats in registers,
 * lanes_of_doubles loads doubles. */
#define LANES_OF(NAME, T, M, LOAD)                                           \
    MS_SIMD_INLINE size_t NAME(const struct ms_values *v, size_t n,          \
                               double s, struct lanes L[2])                  \
    {                                                                        \
        const T *x = v->x.M, *y = v->y.M, *z = v->z.M;                       \
        v4d two = ms_v4d_all(2.0), shift = ms_v4d_all(s);                    \
        size_t i = 0;                                                        \
        SUM_LOOPS(LOAD)                                                      \
        return i;                                                            \
    }
LANES_OF(lanes_of_floats, float, f, ms_v4d_load4f)
LANES_OF(lanes_of_doubles, double, d, ms_v4d_load)

/* The sums of value - shift and of its squares, min and max over the n
 * values (n >= 1), in one pass; the lanes combine as ((l0 + l1) + (l2 +
 * l3)) + ((l4 + l5) + (l6 + l7)), then the last n mod 8 values in turn. */
static struct ms_sums
sums(const struct ms_values *v, size_t n, double shift)
{
    double first = ms_values_at(v, 0);
    v4d zero = ms_v4d_all(0), vfirst = ms_v4d_all(first);
    struct lanes L[2] = {{zero, zero, vfirst, vfirst},
                         {zero, zero, vfirst, vfirst}};
    size_t i = v->x.f != NULL ? lanes_of_floats(v, n, shift, L)
                              : lanes_of_doubles(v, n, shift, L);
    struct ms_sums r = {ms_v4d_total(L[0].s1) + ms_v4d_total(L[1].s1),
                        ms_v4d_total(L[0].s2) + ms_v4d_total(L[1].s2), first,
                        first};
    for (int l = 0; l < 8; l++) {
        double lo = ms_v4d_lane(L[l / 4].lo, l % 4);
        double hi = ms_v4d_lane(L[l / 4].hi, l % 4);
        r.min = lo < r.min ? lo : r.min;
        r.max = hi > r.max ? hi : r.max;
    }
    for (; i < n; i++) {
        double x = ms_values_at(v, i), d = x - shift;
        r.s1 += d;
        r.s2 += d * d;
        r.min = x < r.min ? x : r.min;
        r.max = x > r.max ? x : r.max;
    }
    return r;
}

/* The edges' sums per lane: per r component the sum of squares and the
 * largest |r_k|; for |r| the sums shifted by the length shift. */
struct edge_lanes {
    v4d sq[3], big[3];
    v4d s1, s2, lo, hi;
};

/* r of four edges e..e+3, component by component (lane l: edge e + l):
 * x and y of an endpoint in one load, z apart; the differences are the
 * doubles the scalar code computes. */
MS_SIMD_INLINE void
relative4(const double *pos, const uint32_t *from, const uint32_t *to, size_t e,
          v4d d[3])
{
    const double *a[4], *b[4];
    ms_v2d xy[4];
    for (int l = 0; l < 4; l++) {
        a[l] = pos + 3 * (size_t)from[e + l];
        b[l] = pos + 3 * (size_t)to[e + l];
        xy[l] = ms_v2d_load(b[l]) - ms_v2d_load(a[l]);
    }
    ms_v4d_split_xy(xy, &d[0], &d[1]);
    d[2] = SUB(ms_v4d_of(b[0][2], b[1][2], b[2][2], b[3][2]),
               ms_v4d_of(a[0][2], a[1][2], a[2][2], a[3][2]));
}

/* Four edges' r into the lanes; their |r|. */
MS_SIMD_INLINE v4d
edges_add(struct edge_lanes *C, const v4d d[3], v4d shift)
{
    v4d sum = ms_v4d_all(0);
    for (int k = 0; k < 3; k++) {
        v4d d2 = MUL(d[k], d[k]);
        C->sq[k] = ADD(C->sq[k], d2);
        sum = ADD(sum, d2);
        C->big[k] = ms_v4d_max(ms_v4d_abs(d[k]), C->big[k]);
    }
    v4d len = ms_v4d_sqrt(sum), dl = SUB(len, shift);
    C->s1 = ADD(C->s1, dl);
    C->s2 = ADD(C->s2, MUL(dl, dl));
    C->lo = ms_v4d_min(len, C->lo);
    C->hi = ms_v4d_max(len, C->hi);
    return len;
}

static v4d
with_lane0(v4d v, double x)
{
    return ms_v4d_of(x, ms_v4d_lane(v, 1), ms_v4d_lane(v, 2),
                     ms_v4d_lane(v, 3));
}

/* A last edge (fewer than four left) on lane 0; its r and |r| into r. */
static void
edge_lane0(const double *pos, uint32_t from, uint32_t to, double shift,
           struct edge_lanes *S, double r[4])
{
    const double *a = pos + 3 * (size_t)from, *b = pos + 3 * (size_t)to;
    double sum = 0;
    for (int k = 0; k < 3; k++) {
        double d = b[k] - a[k], d2 = d * d, m = d > -d ? d : -d;
        r[k] = d;
        double big = ms_v4d_lane(S->big[k], 0);
        S->sq[k] = with_lane0(S->sq[k], ms_v4d_lane(S->sq[k], 0) + d2);
        S->big[k] = with_lane0(S->big[k], m > big ? m : big);
        sum += d2;
    }
    double len = sqrt(sum), dl = len - shift;
    r[3] = len;
    double lo = ms_v4d_lane(S->lo, 0), hi = ms_v4d_lane(S->hi, 0);
    S->s1 = with_lane0(S->s1, ms_v4d_lane(S->s1, 0) + dl);
    S->s2 = with_lane0(S->s2, ms_v4d_lane(S->s2, 0) + dl * dl);
    S->lo = with_lane0(S->lo, len < lo ? len : lo);
    S->hi = with_lane0(S->hi, len > hi ? len : hi);
}

/* Edges [e0, e1), four at a time; e1 - e0 is a multiple of 4 unless e1 is
 * the end.  The sums live in locals (through S the compiler would store
 * them every edge: S might alias pos, for all it knows) and are added to
 * S's once the chunk is done. */
static void
edge_chunk(const double *pos, const uint32_t *from, const uint32_t *to,
           size_t e0, size_t e1, size_t E, double len_shift, double *cols,
           struct edge_lanes *S)
{
    v4d zero = ms_v4d_all(0), shift = ms_v4d_all(len_shift);
    struct edge_lanes C = {{zero, zero, zero},
                           {S->big[0], S->big[1], S->big[2]},
                           zero,
                           zero,
                           S->lo,
                           S->hi};
    size_t e = e0;
    for (; e + 4 <= e1; e += 4) {
        v4d d[3];
        relative4(pos, from, to, e, d);
        v4d len = edges_add(&C, d, shift);
        if (cols != NULL) {
            for (int k = 0; k < 3; k++) {
                ms_v4d_store(cols + k * E + e, d[k]);
            }
            ms_v4d_store(cols + 3 * E + e, len);
        }
    }
    for (; e < e1; e++) {
        double r[4];
        edge_lane0(pos, from[e], to[e], len_shift, &C, r);
        for (int k = 0; cols != NULL && k < 4; k++) {
            cols[k * E + e] = r[k];
        }
    }
    for (int k = 0; k < 3; k++) {
        S->sq[k] = ADD(S->sq[k], C.sq[k]);
        S->big[k] = C.big[k];
    }
    S->s1 = ADD(S->s1, C.s1);
    S->s2 = ADD(S->s2, C.s2);
    S->lo = C.lo;
    S->hi = C.hi;
}

static double
lanes_max(v4d v)
{
    double m = ms_v4d_lane(v, 0);
    for (int l = 1; l < 4; l++) {
        m = ms_v4d_lane(v, l) > m ? ms_v4d_lane(v, l) : m;
    }
    return m;
}

static double
lanes_min(v4d v)
{
    double m = ms_v4d_lane(v, 0);
    for (int l = 1; l < 4; l++) {
        m = ms_v4d_lane(v, l) < m ? ms_v4d_lane(v, l) : m;
    }
    return m;
}

/* One pass over the E >= 1 edges, in chunks of MS_EDGE_CHUNK: the sums of
 * squares of thousands of positive terms would otherwise lose about one
 * ulp each to rounding. */
static struct ms_edge_sums
edge_pass(const double *pos, const uint32_t *from, const uint32_t *to, size_t E,
          double len_shift, double first_len, double *cols)
{
    v4d zero = ms_v4d_all(0), l0 = ms_v4d_all(first_len);
    struct edge_lanes S = {
        {zero, zero, zero}, {zero, zero, zero}, zero, zero, l0, l0};
    for (size_t e0 = 0; e0 < E; e0 += MS_EDGE_CHUNK) {
        size_t e1 = E - e0 < MS_EDGE_CHUNK ? E : e0 + MS_EDGE_CHUNK;
        edge_chunk(pos, from, to, e0, e1, E, len_shift, cols, &S);
    }
    struct ms_edge_sums r;
    for (int k = 0; k < 3; k++) {
        r.sq[k] = ms_v4d_total(S.sq[k]);
        r.big[k] = lanes_max(S.big[k]);
    }
    r.s1 = ms_v4d_total(S.s1);
    r.s2 = ms_v4d_total(S.s2);
    r.lo = lanes_min(S.lo);
    r.hi = lanes_max(S.hi);
    return r;
}

/* ------------------------------------------------------------------ */
/* Counting values into a sketch's window (sketch.h), from their bits.
 * kind and single are constants where these are inlined, so each kind of
 * values gets a loop of its own. */

MS_SIMD_INLINE double
value_at(const struct ms_values *v, size_t i, enum ms_values_kind kind,
         bool single)
{
    if (kind == MS_VALUES_SECOND) {
        return ms_values_at(v, i);
    }
    double x = single ? (double)v->x.f[i] : v->x.d[i];
    if (kind == MS_VALUES_DIFF) {
        return (single ? (double)v->y.f[i] : v->y.d[i]) - x;
    }
    return x;
}

/* One value at a time, the cursor in locals (see sketch.h). */
MS_SIMD_INLINE size_t
count_ones(const struct ms_values *v, size_t i, size_t n,
           struct ms_sketch_cursor *cursor, enum ms_values_kind kind,
           bool single)
{
    struct ms_sketch_cursor c = *cursor;
    while (i < n && ms__sketch_cursor_try(&c, value_at(v, i, kind, single))) {
        i++;
    }
    cursor->zeros = c.zeros;
    return i;
}

#if defined(__AVX2__)
MS_SIMD_INLINE v4d
values4(const struct ms_values *v, size_t i, enum ms_values_kind kind,
        bool single)
{
    v4d x = single ? ms_v4d_load4f(v->x.f + i) : ms_v4d_load(v->x.d + i);
    if (kind == MS_VALUES_ROW) {
        return x;
    }
    return SUB(single ? ms_v4d_load4f(v->y.f + i) : ms_v4d_load(v->y.d + i),
               x);
}

/* Four values a step: their buckets, whether in the window and their
 * counts' addresses (a zero's: a local's) in lanes, then the four counts
 * incremented; stops at four with one outside the window, for
 * count_ones to find it. */
MS_SIMD_INLINE size_t
count_fours(const struct ms_values *v, size_t i, size_t n,
            struct ms_sketch_cursor *c, enum ms_values_kind kind, bool single)
{
    typedef unsigned long long v4u __attribute__((vector_size(32)));
    long long plo = (long long)c->pos_base, nlo = (long long)c->neg_base;
    const ms_v4i none = ms_v4i_all(0);
    const ms_v4i pos_lo = ms_v4i_all(plo - 1), neg_lo = ms_v4i_all(nlo - 1);
    const ms_v4i pos_hi = ms_v4i_all(plo + (long long)c->pos_limit);
    const ms_v4i neg_hi = ms_v4i_all(nlo + (long long)c->neg_limit);
    const ms_v4i pos_at = ms_v4i_all((long long)(intptr_t)c->pos - 8 * plo);
    const ms_v4i neg_at = ms_v4i_all((long long)(intptr_t)c->neg - 8 * nlo);
    uint64_t zeros = 0;
    const ms_v4i zero_at = ms_v4i_all((long long)(intptr_t)&zeros);
    for (; i + 4 <= n; i += 4) {
        ms_v4i b = (ms_v4i)values4(v, i, kind, single);
        ms_v4i mag = (ms_v4i)((v4u)b << 1);
        ms_v4i key = ms_v4i_shift_right(mag, c->shift);
        ms_v4i neg = b < none, zero = mag == none;
        ms_v4i lo = (neg & neg_lo) | (~neg & pos_lo);
        ms_v4i hi = (neg & neg_hi) | (~neg & pos_hi);
        if (!ms_v4i_none(~((key > lo) & (key < hi)) & ~zero)) {
            break;
        }
        ms_v4i at = ((neg & neg_at) | (~neg & pos_at)) + (ms_v4i)((v4u)key << 3);
        at = (zero & zero_at) | (~zero & at);
        for (int l = 0; l < 4; l++) {
            (*(uint64_t *)(intptr_t)at[l])++;
        }
    }
    c->zeros += zeros;
    return i;
}
#endif

/* Rows or differences: four at a time where there are vectors of four,
 * then one at a time. */
MS_SIMD_INLINE size_t
count_by(const struct ms_values *v, size_t i, size_t n,
         struct ms_sketch_cursor *c, enum ms_values_kind kind, bool single)
{
#if defined(__AVX2__)
    i = count_fours(v, i, n, c, kind, single);
#endif
    return count_ones(v, i, n, c, kind, single);
}

static size_t
count(const struct ms_values *v, size_t i, size_t n,
      struct ms_sketch_cursor *c)
{
    bool single = v->x.f != NULL;
    if (v->kind == MS_VALUES_ROW) {
        return single ? count_by(v, i, n, c, MS_VALUES_ROW, true)
                      : count_by(v, i, n, c, MS_VALUES_ROW, false);
    }
    if (v->kind == MS_VALUES_DIFF) {
        return single ? count_by(v, i, n, c, MS_VALUES_DIFF, true)
                      : count_by(v, i, n, c, MS_VALUES_DIFF, false);
    }
    return count_ones(v, i, n, c, MS_VALUES_SECOND, single);
}

const struct ms_kernels MS_KERNELS_NAME = {sums, edge_pass, count};
