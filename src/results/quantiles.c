/*
 * quantiles.c: a result's distributions (docs/spec.md section 4.1): the
 * sketches the pass counted every feature's values into, kept in the
 * result, and what is read from them: quantiles at any probability,
 * histograms.
 *
 * A quantile is the value of the bucket holding the order statistic at
 * rank floor(p (n - 1)), clamped to the feature's min and max (which
 * keeps it within the accuracy: the order statistic lies between them).
 */
#include "results/results.h"

#include <math.h>
#include <string.h>

static const double probabilities[MS_QUANTILES] = {
    0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999};

double
ms_quantile_p(size_t i)
{
    return i < MS_QUANTILES ? probabilities[i] : NAN;
}

/* Feature k of group g's quantile at p, from its sketch (over the
 * values it counted: a positional feature counts the rows
 * --skip-nonfinite leaves out of the others). */
static double
quantile_of(const struct ms_stats *s, int g, size_t k, double p)
{
    const struct ms_sketch *sk = &s->sketches->sketch[g][k];
    uint64_t n = ms__sketch_count(sk);
    double v = ms__sketch_rank(sk, (uint64_t)floor(p * (double)(n - 1)));
    const struct ms_feature_stats *f = &s->groups[g].features[k];
    return v < f->min ? f->min : v > f->max ? f->max : v;
}

int
ms__stats_keep_sketches(struct ms_stats *s, struct ms_accumulator *acc,
                        double accuracy)
{
    if (acc->sketch[0] == NULL) {
        return 0;
    }
    struct ms_stats_sketches *kept = ms__calloc(1, sizeof(*kept));
    if (kept == NULL) {
        return MS_ENOMEM;
    }
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        kept->nfeat[g] = acc->nfeat[g];
        kept->sketch[g] = acc->sketch[g];
        acc->sketch[g] = NULL;
    }
    s->sketches = kept;
    s->quantile_accuracy = accuracy;
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        struct ms_group_stats *gs = &s->groups[g];
        size_t nf = gs->nfeatures;
        gs->quantiles = ms__calloc(MS_QUANTILES * (nf ? nf : 1),
                                   sizeof(*gs->quantiles));
        if (gs->quantiles == NULL) {
            return MS_ENOMEM;
        }
        for (size_t q = 0; gs->count > 0 && q < MS_QUANTILES; q++) {
            for (size_t k = 0; k < nf; k++) {
                gs->quantiles[q * nf + k] =
                    quantile_of(s, g, k, probabilities[q]);
            }
        }
    }
    return 0;
}

/* 0 if feature k of group g has a distribution to read. */
static int
check_feature(const struct ms_stats *s, enum ms_group_kind g, size_t k)
{
    if (s == NULL || s->sketches == NULL || (unsigned)g >= MS_GROUP_COUNT ||
        k >= s->groups[g].nfeatures) {
        return MS_EINVAL;
    }
    return s->groups[g].count == 0 ? MS_EEMPTY : 0;
}

int
ms_stats_quantile(const struct ms_stats *s, enum ms_group_kind g, size_t k,
                  double p, double *out)
{
    int rc = check_feature(s, g, k);
    if (rc == 0 && !(p >= 0.0 && p <= 1.0)) {
        rc = MS_EINVAL;
    }
    if (rc == 0) {
        *out = quantile_of(s, g, k, p);
    }
    return rc;
}

/* The histogram's walk over the buckets. */
struct binning {
    double lo, width;
    size_t bins;
    const double *edges; /* bins + 1 */
    uint64_t *counts;
};

/* A value's bin: its place by arithmetic, then moved to the bin whose
 * edges (as the caller shows them) hold it: (value - lo) / width rounds,
 * and over a wide range by far (-1000 - -1e20 is 1e20: the edge at 0). */
static void
bin_bucket(void *data, double lo, double hi, double value, uint64_t count)
{
    struct binning *b = data;
    (void)lo;
    (void)hi;
    double at = b->width > 0 ? (value - b->lo) / b->width : 0.0;
    size_t i = at <= 0 ? 0 : at >= (double)b->bins ? b->bins - 1 : (size_t)at;
    while (i > 0 && value < b->edges[i]) {
        i--;
    }
    while (i + 1 < b->bins && value >= b->edges[i + 1] &&
           b->edges[i + 1] > b->edges[i]) {
        i++; /* (equal edges, a constant feature's: it stays in bin 0) */
    }
    b->counts[i] += count;
}

int
ms_stats_histogram(const struct ms_stats *s, enum ms_group_kind g, size_t k,
                   size_t bins, double *edges, uint64_t *counts)
{
    int rc = check_feature(s, g, k);
    if (rc != 0 || bins == 0) {
        return rc != 0 ? rc : MS_EINVAL;
    }
    const struct ms_feature_stats *f = &s->groups[g].features[k];
    double width = (f->max - f->min) / (double)bins;
    for (size_t i = 0; i <= bins; i++) {
        edges[i] = i == bins ? f->max : f->min + width * (double)i;
    }
    memset(counts, 0, bins * sizeof(*counts));
    struct binning b = {f->min, width, bins, edges, counts};
    ms__sketch_walk(&s->sketches->sketch[g][k], bin_bucket, &b);
    return 0;
}
