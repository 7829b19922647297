/*
 * per_sample.c: the per-sample report, for finding bad samples before
 * training: one CSV row per sample, and how far each sample's means lie
 * from the dataset's.
 *
 * The numbers come from the same pass: each sample's accumulator, kept as
 * the fold finishes it (so the dataset result is exactly the ordered merge
 * of these).  Writes only to the stream it is handed.
 */
#include "results/results.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

double
ms_stats_outlier_score(const struct ms_stats *s, size_t i,
                       enum ms_group_kind *group, size_t *feature)
{
    const struct ms_sample_report *r = &s->reports[i];
    double worst = 0.0;
    *group = MS_GROUP_NODE;
    *feature = 0;
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        const struct ms_group_stats *all = &s->groups[g];
        const struct ms_group_stats *one = &r->groups[g];
        if (one->count == 0 || all->count == 0) {
            continue;
        }
        for (size_t k = 0; k < all->nfeatures; k++) {
            double sd = all->features[k].std;
            double d = fabs(one->features[k].mean - all->features[k].mean);
            /* A constant feature: any departure is infinitely unusual, no
             * departure is not unusual at all. */
            double z = sd > 0 ? d / sd : (d > 0 ? INFINITY : 0.0);
            if (z > worst) {
                worst = z;
                *group = (enum ms_group_kind)g;
                *feature = k;
            }
        }
    }
    return worst;
}

static void
header(const struct ms_stats *s, FILE *out)
{
    fputs("id,N,E,timesteps", out);
    static const char *const fields[] = {"count", "mean", "std", "min",
                                         "max"};
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < s->groups[g].nfeatures; k++) {
            char name[32];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            for (size_t f = 0; f < 5; f++) {
                fprintf(out, ",%s_%s_%s", ms_group_name(g), name, fields[f]);
            }
        }
    }
    fputs(",outlier_std,outlier_feature\n", out);
}

static int
write_csv(const struct ms_stats *s, FILE *out)
{
    header(s, out);
    for (size_t i = 0; i < s->nreports; i++) {
        const struct ms_sample_report *r = &s->reports[i];
        fprintf(out, "%" PRId64 ",%zu,%zu,%zu", r->id, r->N, r->E,
                r->timesteps);
        for (int g = 0; g < MS_GROUP_COUNT; g++) {
            const struct ms_group_stats *gs = &r->groups[g];
            for (size_t k = 0; k < gs->nfeatures; k++) {
                const struct ms_feature_stats *f = &gs->features[k];
                if (gs->count == 0) {
                    fputs(",0,nan,nan,nan,nan", out);
                } else {
                    fprintf(out, ",%" PRIu64 ",%.17g,%.17g,%.17g,%.17g",
                            gs->count, f->mean, f->std, f->min, f->max);
                }
            }
        }
        enum ms_group_kind g;
        size_t k;
        double z = ms_stats_outlier_score(s, i, &g, &k);
        char name[32];
        ms_stats_feature_name(s, g, k, name, sizeof(name));
        fprintf(out, ",%.17g,%s_%s\n", z, ms_group_name(g), name);
    }
    return ferror(out) ? MS_EIO : 0;
}

int
ms_stats_write_per_sample_csv(const struct ms_stats *s, FILE *out)
{
    return ms__stats_write_in_c(write_csv, s, out);
}
