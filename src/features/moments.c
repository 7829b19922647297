/*
 * moments.c: mergeable moments (count, mean, sum of squared deviations, min,
 * max) of a stream of doubles.
 *
 * A block is summarised by shifted sums (Chan, Golub and LeVeque 1983): the
 * sum and the sum of squares of the deviations from a shift, which also
 * corrects the mean.  The shift is the block's first value, and if that
 * proves too far from the mean for the sums to be exact, the block is
 * summed again around the mean found: the corrected two-pass algorithm.  Blocks
 * are combined with the pairwise merge of Chan et al.  The mean is carried as a
 * double-double (mean + mean_lo) so that merging many partials around a large
 * offset keeps it exact to well below an ulp of the mean.  Never a raw sum of
 * squares of the values themselves.
 *
 * No I/O, no locks, no allocation.  Results depend only on the order of
 * calls, never on timing: the project is built with -ffp-contract=off so no
 * fused multiply-add changes a rounding between builds.
 */
#include "features/features.h"

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
    /* (a rounding below 0 is 0; an overflow, inf - inf, stays NaN for
     * ms__moments_finite to find, never a silent 0) */
    m->m2 = m2 > 0.0 || isnan(m2) ? m2 : 0.0;
    m->min = min;
    m->max = max;
}

/* The kernels of this processor: AVX2's where it has them (the same
 * bits, faster), else the baseline's. */
const struct ms_kernels *
ms__kernels(void)
{
#ifdef MS_HAVE_AVX2_KERNELS
    if (__builtin_cpu_supports("avx2")) {
        return &ms__kernels_avx2;
    }
#endif
    return &ms__kernels_baseline;
}

bool
ms__moments_cancels(uint64_t n, double s1, double s2)
{
    if (!isfinite(s1)) {
        return false; /* a value not finite: no shift helps */
    }
    if (isinf(s2)) {
        /* The squares around a far shift overflowed; around the mean
         * they may not: the shift is one of the values, so s2 is at
         * most (n + 1) times their sum there. */
        return true;
    }
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
void
ms__moments_of_values(struct ms_moments *m, const struct ms_values *v, size_t n)
{
    if (n == 0) {
        ms__moments_init(m);
        return;
    }
    struct ms_sums (*sums)(const struct ms_values *, size_t, double) =
        ms__kernels()->sums;
    double shift = ms_values_at(v, 0);
    struct ms_sums r = sums(v, n, shift);
    if (ms__moments_cancels(n, r.s1, r.s2)) {
        shift += r.s1 / (double)n;
        r = sums(v, n, shift);
    }
    ms__moments_from_sums(m, n, shift, r.s1, r.s2, r.min, r.max);
}

void
ms__moments_of(struct ms_moments *m, const double *x, size_t n)
{
    struct ms_values v = {MS_VALUES_ROW, {NULL, x}, {0}, {0}};
    ms__moments_of_values(m, &v, n);
}

void
ms__moments_of_row(struct ms_moments *m, struct ms_row x, size_t n)
{
    struct ms_values v = {MS_VALUES_ROW, x, {0}, {0}};
    ms__moments_of_values(m, &v, n);
}

void
ms__moments_of_difference(struct ms_moments *m, struct ms_row x,
                          struct ms_row y, size_t n)
{
    struct ms_values v = {MS_VALUES_DIFF, x, y, {0}};
    ms__moments_of_values(m, &v, n);
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
    m->min = lo + 0.0; /* (+ 0.0: a -0 is 0, "-0" in no output) */
    m->max = -lo + 0.0;
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
ms__moments_of_kept(struct ms_moments *m, double *x, const unsigned char *keep,
                    size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i]) {
            x[kept++] = x[i];
        }
    }
    ms__moments_of(m, x, kept);
}
