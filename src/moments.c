/*
 * moments.c: mergeable moments (count, mean, sum of squared deviations, min,
 * max) of a stream of doubles.
 *
 * A block is summarised by the corrected two-pass algorithm (Chan, Golub and
 * LeVeque 1983): a provisional mean, then the sum and the sum of squares of
 * the deviations from it, which also corrects the mean.  Blocks are combined
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

void
ms__moments_of(struct ms_moments *m, const double *x, size_t n)
{
    if (n == 0) {
        ms__moments_init(m);
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
    }
    double shift = sum / (double)n;
    double sd = 0.0, sd2 = 0.0, lo = x[0], hi = x[0];
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - shift;
        sd += d;
        sd2 += d * d;
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    ms__moments_from_sums(m, n, shift, sd, sd2, lo, hi);
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
