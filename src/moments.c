/*
 * moments.c: mergeable moments (count, mean, sum of squared deviations, min,
 * max) of a stream of doubles.
 *
 * A block is summarised by shifted sums (Chan, Golub and LeVeque 1983): the
 * sum and the sum of squares of the deviations from a shift, which also
 * corrects the mean.  The shift is the block's first value, and if that
 * proves too far from the mean for the sums to be exact, the block is
 * summed again around the mean found: the corrected two-pass algorithm.  Blocks are combined
 * with the pairwise merge of Chan et al.  The mean is carried as a
 * double-double (mean + mean_lo) so that merging many partials around a large
 * offset keeps it exact to well below an ulp of the mean.  Never a raw sum of
 * squares of the values themselves.
 *
 * No I/O, no locks, no allocation.  Results depend only on the order of
 * calls, never on timing: the project is built with -ffp-contract=off so no
 * fused multiply-add changes a rounding between builds.
 */
#include "internal.h"
#include "simd.h"

#include <math.h>

/* s + e == a + b exactly, s the rounded sum (Knuth's TwoSum). */
static void
two_sum(double a, double b, double *s, double *e)
{
    double sum = a + b;
    double bb = sum - a;
    *e = (a - (sum - bb)) + (b - bb);
    *s = sum;
}

void
ms__moments_init(struct ms_moments *m)
{
    m->count = 0;
    m->mean = 0.0;
    m->mean_lo = 0.0;
    m->m2 = 0.0;
    m->min = INFINITY;
    m->max = -INFINITY;
}

void
ms__moments_from_sums(struct ms_moments *m, uint64_t n, double shift,
                     double sum_d, double sum_d2, double min, double max)
{
    ms__moments_init(m);
    if (n == 0) {
        return;
    }
    double dn = (double)n;
    double correction = sum_d / dn;
    m->count = n;
    two_sum(shift, correction, &m->mean, &m->mean_lo);
    /* sum (x - mean)^2 = sum d^2 - (sum d)^2 / n, with d = x - shift. */
    double m2 = sum_d2 - sum_d * correction;
    m->m2 = m2 > 0.0 ? m2 : 0.0;
    m->min = min;
    m->max = max;
}

/*
 * The passes run on four independent accumulator lanes (lane l takes the
 * elements i = l mod 4), combined as (l0 + l1) + (l2 + l3) at the end.
 * The lanes are held in two GCC vectors of two doubles (SSE2 registers on
 * x86-64): the order of every operation is the one written here, so every
 * build rounds exactly alike.  Min and max are lane by lane
 * `v < lo ? v : lo` (MINPD on x86-64).
 */
typedef ms_v2d v2d;

#define INLINE static inline __attribute__((always_inline))

/* The accumulators of a pass: lanes 0-1 in a, 2-3 in b. */
struct lanes {
    v2d sd_a, sd_b, sd2_a, sd2_b, lo_a, lo_b, hi_a, hi_b;
};

INLINE void
lanes_add(struct lanes *L, v2d va, v2d vb, v2d shift)
{
    v2d da = va - shift, db = vb - shift;
    L->sd_a += da;
    L->sd_b += db;
    L->sd2_a += da * da;
    L->sd2_b += db * db;
    L->lo_a = ms_v2d_min(va, L->lo_a);
    L->lo_b = ms_v2d_min(vb, L->lo_b);
    L->hi_a = ms_v2d_max(va, L->hi_a);
    L->hi_b = ms_v2d_max(vb, L->hi_b);
}

typedef float v2f __attribute__((vector_size(8)));

INLINE v2d
load2f(const float *p)
{
    v2f v;
    __builtin_memcpy(&v, p, sizeof(v));
    return __builtin_convertvector(v, v2d);
}

/* The sums of v - shift and of its squares, min and max over the n values
 * (v = x[i], or y[i] - x[i] when y is given), in one pass.  The four loops
 * differ only in how they load: float rows are widened in registers. */
struct sums {
    double s1, s2, min, max;
};

#define SUM_LOOP(VA, VB)                                                     \
    for (; i + 4 <= n; i += 4) {                                             \
        lanes_add(&L, (VA), (VB), vshift);                                   \
    }

static struct sums
shifted_sums(struct ms_row x, const struct ms_row *y, size_t n, double shift)
{
    double first = y ? ms_row_at(*y, 0) - ms_row_at(x, 0) : ms_row_at(x, 0);
    v2d zero = {0, 0}, vshift = {shift, shift}, vfirst = {first, first};
    struct lanes L = {zero,   zero,   zero,   zero,
                      vfirst, vfirst, vfirst, vfirst};
    size_t i = 0;
    const float *xf = x.f, *yf = y ? y->f : NULL;
    const double *xd = x.d, *yd = y ? y->d : NULL;
    if (y == NULL && xf != NULL) {
        SUM_LOOP(load2f(xf + i), load2f(xf + i + 2))
    } else if (y == NULL) {
        SUM_LOOP(ms_v2d_load(xd + i), ms_v2d_load(xd + i + 2))
    } else if (xf != NULL) {
        SUM_LOOP(load2f(yf + i) - load2f(xf + i),
                 load2f(yf + i + 2) - load2f(xf + i + 2))
    } else {
        SUM_LOOP(ms_v2d_load(yd + i) - ms_v2d_load(xd + i),
                 ms_v2d_load(yd + i + 2) - ms_v2d_load(xd + i + 2))
    }
    struct sums r;
    r.s1 = (L.sd_a[0] + L.sd_a[1]) + (L.sd_b[0] + L.sd_b[1]);
    r.s2 = (L.sd2_a[0] + L.sd2_a[1]) + (L.sd2_b[0] + L.sd2_b[1]);
    double los[4] = {L.lo_a[0], L.lo_a[1], L.lo_b[0], L.lo_b[1]};
    double his[4] = {L.hi_a[0], L.hi_a[1], L.hi_b[0], L.hi_b[1]};
    r.min = los[0];
    r.max = his[0];
    for (int l = 1; l < 4; l++) {
        r.min = los[l] < r.min ? los[l] : r.min;
        r.max = his[l] > r.max ? his[l] : r.max;
    }
    for (; i < n; i++) {
        double v = y ? ms_row_at(*y, i) - ms_row_at(x, i) : ms_row_at(x, i);
        double d = v - shift;
        r.s1 += d;
        r.s2 += d * d;
        r.min = v < r.min ? v : r.min;
        r.max = v > r.max ? v : r.max;
    }
    return r;
}

bool
ms__moments_cancels(uint64_t n, double s1, double s2)
{
    double m2 = s2 - s1 * (s1 / (double)n);
    return !(s2 <= MS_MAX_CANCELLATION * m2) && s2 > 0 && isfinite(s2);
}

/*
 * Moments of a block.  One pass of sums shifted by the first value, which
 * for real data sits within a few standard deviations of the mean; if the
 * shift turns out far from the mean (s2 much larger than m2, so the
 * subtraction s2 - s1^2/n cancels), a second pass shifted by the mean just
 * found gives the exact two-pass result.  The choice depends only on the
 * data, so results stay deterministic.
 */
static void
block_moments(struct ms_moments *m, struct ms_row x, const struct ms_row *y,
              size_t n)
{
    if (n == 0) {
        ms__moments_init(m);
        return;
    }
    double shift = y ? ms_row_at(*y, 0) - ms_row_at(x, 0) : ms_row_at(x, 0);
    struct sums r = shifted_sums(x, y, n, shift);
    if (ms__moments_cancels(n, r.s1, r.s2)) {
        shift += r.s1 / (double)n;
        r = shifted_sums(x, y, n, shift);
    }
    ms__moments_from_sums(m, n, shift, r.s1, r.s2, r.min, r.max);
}

void
ms__moments_of(struct ms_moments *m, const double *x, size_t n)
{
    block_moments(m, (struct ms_row){NULL, x}, NULL, n);
}

void
ms__moments_of_row(struct ms_moments *m, struct ms_row x, size_t n)
{
    block_moments(m, x, NULL, n);
}

void
ms__moments_of_difference(struct ms_moments *m, struct ms_row x,
                          struct ms_row y, size_t n)
{
    block_moments(m, x, &y, n);
}

void
ms__moments_merge(struct ms_moments *a, const struct ms_moments *b_in)
{
    struct ms_moments b = *b_in; /* b may alias a */
    if (b.count == 0) {
        return;
    }
    if (a->count == 0) {
        *a = b;
        return;
    }
    double na = (double)a->count;
    double nb = (double)b.count;
    double n = na + nb;
    /* The difference of the two means, from both parts of each. */
    double delta = (b.mean - a->mean) + (b.mean_lo - a->mean_lo);
    double step = delta * nb / n;
    double hi, lo;
    two_sum(a->mean, step, &hi, &lo);
    lo += a->mean_lo;
    two_sum(hi, lo, &a->mean, &a->mean_lo);
    a->m2 = a->m2 + b.m2 + delta * delta * (na * (nb / n));
    a->count += b.count;
    a->min = b.min < a->min ? b.min : a->min;
    a->max = b.max > a->max ? b.max : a->max;
}

void
ms__moments_symmetrize(struct ms_moments *m)
{
    if (m->count == 0) {
        return;
    }
    /* The union of {x} and {-x}: the mean is 0 exactly, and each value
     * deviates from it by |x|, so m2 doubles plus twice n * mean^2. */
    double mean = ms__moments_mean(m);
    double n = (double)m->count;
    double lo = m->min < -m->max ? m->min : -m->max;
    m->m2 = 2.0 * m->m2 + 2.0 * n * mean * mean;
    m->count *= 2;
    m->mean = 0.0;
    m->mean_lo = 0.0;
    m->min = lo;
    m->max = -lo;
}

double
ms__moments_mean(const struct ms_moments *m)
{
    return m->mean + m->mean_lo;
}

double
ms__moments_std(const struct ms_moments *m)
{
    if (m->count == 0) {
        return 0.0;
    }
    return sqrt(m->m2 / (double)m->count);
}

bool
ms__moments_finite(const struct ms_moments *m)
{
    if (m->count == 0) {
        return true;
    }
    return isfinite(m->mean) && isfinite(m->mean_lo) && isfinite(m->m2) &&
           isfinite(m->min) && isfinite(m->max);
}

void
ms__moments_of_kept(struct ms_moments *m, double *x,
                    const unsigned char *keep, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i]) {
            x[kept++] = x[i];
        }
    }
    ms__moments_of(m, x, kept);
}
