/*
 * diagnostics.c: what a result's statistics say about normalizing its
 * features (docs/spec.md section 4.2), as warnings the command prints and
 * the JSON carries, in place of the checks training code makes by hand
 * (a std below 0.01 or above 100, a mean far from 0).  Each names the
 * feature, what was found and what is usually done.
 *
 * - constant: min == max (std 0): z-scoring divides by the clamped std.
 * - far: a value more than Z_FAR standard deviations from the mean (from
 *   min and max): a few extreme values set the std.
 * - heavy tail (with quantiles): |p99.9 - p50| or |p0.1 - p50| more than
 *   TAIL_IQR interquartile ranges.
 * - dominated (with per-sample reports, at least MIN_SAMPLES samples): one
 *   sample holds more than DOMINANT of the feature's sum of |count x
 *   sample mean|.
 */
#include "results/results.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define Z_FAR 50.0
#define TAIL_IQR 10.0
#define DOMINANT 0.5
#define MIN_SAMPLES 5

/* Append a warning to the list at *list (*n entries): the JSON's
 * (s->warnings) or the per-sample reports' (s->sample_warnings). */
static int add(char ***list, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
add(char ***list, size_t *n, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    char *copy = ms__strdup(text);
    char **grown = copy == NULL
                       ? NULL
                       : ms__reallocarray(*list, *n + 1, sizeof(**list));
    if (grown == NULL) {
        ms__free(copy);
        return MS_ENOMEM;
    }
    *list = grown;
    (*list)[(*n)++] = copy;
    return 0;
}

/* The sample holding the largest share of feature k's sum of
 * |count x mean|, and that share. */
static double
largest_share(const struct ms_stats *s, int g, size_t k, int64_t *id)
{
    double total = 0, best = 0;
    for (size_t i = 0; i < s->nreports; i++) {
        const struct ms_group_stats *r = &s->reports[i].groups[g];
        double part = fabs((double)r->count * r->features[k].mean);
        total += r->count > 0 ? part : 0;
        if (r->count > 0 && part > best) {
            best = part;
            *id = s->reports[i].id;
        }
    }
    return total > 0 ? best / total : 0;
}

/* Feature k of group g's warnings. */
static int
diagnose(struct ms_stats *s, int g, size_t k, const char *name)
{
    const struct ms_group_stats *gs = &s->groups[g];
    const struct ms_feature_stats *f = &gs->features[k];
    const char *gn = ms_group_name((enum ms_group_kind)g);
    char ***w = &s->warnings;
    size_t *nw = &s->nwarnings;
    if (f->min == f->max) {
        return add(w, nw,
                   "%s %s is constant (%g): z-scoring divides by the "
                   "std clamped to 1e-8; such a feature is usually "
                   "dropped or left unnormalized",
                   gn, name, f->min + 0.0); /* (-0.0 reads 0) */
    }
    /* (a std of 0 with min < max: squares below double's range) */
    double z = f->std > 0 ? fmax(f->max - f->mean, f->mean - f->min) / f->std
                          : 0;
    if (z > Z_FAR &&
        add(w, nw,
            "%s %s reaches %.0f std from its mean (min %g, max %g): a "
            "few extreme values set its std; check them, or normalize "
            "by quantiles (robust or quantile) or clip",
            gn, name, z, f->min, f->max) != 0) {
        return MS_ENOMEM;
    }
    const double *q = gs->quantiles;
    size_t n = gs->nfeatures;
    if (q != NULL) {
        double iqr = q[5 * n + k] - q[3 * n + k], mid = q[4 * n + k];
        double tail = fmax(fabs(q[8 * n + k] - mid), fabs(mid - q[0 * n + k]));
        if (iqr > 0 && tail > TAIL_IQR * iqr &&
            add(w, nw,
                "%s %s has a heavy tail: p0.1 %g, p50 %g, p99.9 %g, %.0f "
                "interquartile ranges out; a z-score squeezes most "
                "values near 0: robust (median and IQR) or quantile "
                "normalization is usually used",
                gn, name, q[0 * n + k], mid, q[8 * n + k], tail / iqr) != 0) {
            return MS_ENOMEM;
        }
    }
    int64_t id = -1;
    double share = s->nreports >= MIN_SAMPLES ? largest_share(s, g, k, &id)
                                              : 0;
    if (share > DOMINANT) {
        return add(&s->sample_warnings, &s->nsample_warnings,
                   "%s %s: sample %lld holds %.0f%% of the feature's sum: "
                   "its mean is one sample's; check that sample "
                   "(--per-sample, --top) or leave it out",
                   gn, name, (long long)id, 100 * share);
    }
    return 0;
}

int
ms__stats_diagnose(struct ms_stats *s)
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; s->groups[g].count > 0 &&
                           k < s->groups[g].nfeatures; k++) {
            char name[32];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            if (diagnose(s, g, k, name) != 0) {
                return MS_ENOMEM;
            }
        }
    }
    return 0;
}
