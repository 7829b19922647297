/*
 * stats.c: accumulators and the result object.
 *
 * The merge order is fixed by the data: a sample's per-timestep partials
 * are folded in timestep order (node and edge by node timestep, delta by
 * delta timestep) into the sample's accumulator, and finished samples are
 * merged into the dataset's accumulator in ascending id order.  Neither the
 * unit boundaries (memory limit), nor the number of threads, nor the order
 * in which units finish enter that sequence, so the result is the same to
 * the last bit whatever those are.  Only the loop thread calls these.
 */
#include "results/results.h"

#include <stdio.h>
#include <string.h>

int
ms__accumulator_init(struct ms_accumulator *acc,
                     const size_t nfeat[MS_GROUP_COUNT])
{
    memset(acc, 0, sizeof(*acc));
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        acc->nfeat[g] = nfeat[g];
    }
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        acc->feat[g] = ms__calloc(acc->nfeat[g], sizeof(struct ms_moments));
        if (acc->feat[g] == NULL) {
            ms__accumulator_finish(acc);
            return MS_ENOMEM;
        }
    }
    ms__accumulator_reset(acc);
    return 0;
}

void
ms__accumulator_finish(struct ms_accumulator *acc)
{
    if (acc == NULL) {
        return;
    }
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        ms__free(acc->feat[g]);
    }
    ms__sketches_free(acc->sketch, acc->nfeat);
    memset(acc, 0, sizeof(*acc));
}

void
ms__accumulator_reset(struct ms_accumulator *acc)
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < acc->nfeat[g]; k++) {
            ms__moments_init(&acc->feat[g][k]);
            if (acc->sketch[g] != NULL) {
                ms__sketch_clear(&acc->sketch[g][k]);
            }
        }
        acc->skipped[g] = 0;
    }
}

int
ms__sketches_new(struct ms_sketch *sk[MS_GROUP_COUNT],
                 const size_t nfeat[MS_GROUP_COUNT], unsigned bits)
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        sk[g] = ms__calloc(nfeat[g], sizeof(*sk[g]));
        if (sk[g] == NULL) {
            ms__sketches_free(sk, nfeat);
            return MS_ENOMEM;
        }
        for (size_t k = 0; k < nfeat[g]; k++) {
            ms__sketch_init(&sk[g][k], bits);
        }
    }
    return 0;
}

void
ms__sketches_free(struct ms_sketch *sk[MS_GROUP_COUNT],
                  const size_t nfeat[MS_GROUP_COUNT])
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; sk[g] != NULL && k < nfeat[g]; k++) {
            ms__sketch_finish(&sk[g][k]);
        }
        ms__free(sk[g]);
        sk[g] = NULL;
    }
}

int
ms__accumulator_sketch(struct ms_accumulator *acc, unsigned bits)
{
    return ms__sketches_new(acc->sketch, acc->nfeat, bits);
}

int
ms__accumulator_init_like(struct ms_accumulator *acc,
                          const struct ms_accumulator *like)
{
    int rc = ms__accumulator_init(acc, like->nfeat);
    if (rc == 0 && like->sketch[0] != NULL) {
        rc = ms__accumulator_sketch(acc, like->sketch[0][0].bits);
    }
    return rc;
}

int
ms__accumulator_count(struct ms_accumulator *acc,
                      struct ms_sketch *const sk[MS_GROUP_COUNT])
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; acc->sketch[g] != NULL && k < acc->nfeat[g]; k++) {
            if (ms__sketch_merge(&acc->sketch[g][k], &sk[g][k]) != 0) {
                return MS_ENOMEM;
            }
        }
    }
    return 0;
}

static void
fold_records(struct ms_moments *into, size_t nfeat,
             const struct ms_moments *records, size_t nrecords)
{
    for (size_t r = 0; r < nrecords; r++) {
        for (size_t k = 0; k < nfeat; k++) {
            ms__moments_merge(&into[k], &records[r * nfeat + k]);
        }
    }
}

void
ms__accumulator_fold(struct ms_accumulator *acc, int group,
                     const struct ms_moments *records, size_t nrecords,
                     uint64_t skipped)
{
    fold_records(acc->feat[group], acc->nfeat[group], records, nrecords);
    acc->skipped[group] += skipped;
}

int
ms__accumulator_merge(struct ms_accumulator *acc,
                      const struct ms_accumulator *other)
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        fold_records(acc->feat[g], acc->nfeat[g], other->feat[g], 1);
        acc->skipped[g] += other->skipped[g];
    }
    return acc->sketch[0] != NULL && other->sketch[0] != NULL
               ? ms__accumulator_count(acc, other->sketch)
               : 0;
}

int
ms__accumulator_copy(struct ms_accumulator *dst,
                     const struct ms_accumulator *src)
{
    int rc = ms__accumulator_init(dst, src->nfeat);
    if (rc == 0) {
        rc = ms__accumulator_merge(dst, src); /* (dst has no sketches) */
    }
    return rc;
}

int
ms__outcomes_add(struct ms_outcomes *o, size_t sample,
                 const struct ms_accumulator *acc, const char *reason)
{
    if (o->count == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        void *grown = ms__reallocarray(o->items, cap, sizeof(*o->items));
        if (grown == NULL) {
            return MS_ENOMEM;
        }
        o->items = grown;
        o->cap = cap;
    }
    struct ms_outcome *out = &o->items[o->count];
    memset(out, 0, sizeof(*out));
    out->sample = sample;
    out->used = acc != NULL;
    int rc = 0;
    if (out->used) {
        rc = ms__accumulator_copy(&out->acc, acc);
    } else {
        out->reason = ms__strdup(reason);
        rc = out->reason == NULL ? MS_ENOMEM : 0;
    }
    if (rc == 0) {
        o->count++;
    }
    return rc;
}

void
ms__outcomes_finish(struct ms_outcomes *o)
{
    for (size_t i = 0; o != NULL && i < o->count; i++) {
        ms__accumulator_finish(&o->items[i].acc);
        ms__free(o->items[i].reason);
    }
    if (o != NULL) {
        ms__free(o->items);
        memset(o, 0, sizeof(*o));
    }
}

int
ms__stats_create(const char *path, const struct ms_options *opts,
                 const struct ms_model *model,
                 const size_t nfeat[MS_GROUP_COUNT],
                 struct ms_stats **out)
{
    struct ms_stats *s = ms__calloc(1, sizeof(*s));
    if (s == NULL) {
        return MS_ENOMEM;
    }
    s->dataset = ms__strdup(path);
    if (s->dataset == NULL) {
        goto fail;
    }
    if (opts->selection != NULL && opts->selection->source != NULL) {
        const struct ms_selection *sel = opts->selection;
        s->selection = ms__strdup(sel->source);
        s->selection_ids = ms__calloc(sel->count ? sel->count : 1,
                                      sizeof(*s->selection_ids));
        if (s->selection == NULL || s->selection_ids == NULL) {
            goto fail;
        }
        memcpy(s->selection_ids, sel->ids, sel->count * sizeof(int64_t));
        s->nselection_ids = sel->count;
    }
    /* A trajectory model's own group sizes stand for input_var,
     * edge_var and output_var (node, edge and output features). */
    s->model = model->kind;
    s->positional_features = model->trajectory ? 0
                                               : opts->positional_features;
    s->input_var = (unsigned)nfeat[MS_GROUP_NODE] - s->positional_features;
    s->output_var = (unsigned)nfeat[MS_GROUP_DELTA];
    s->edge_var = (unsigned)nfeat[MS_GROUP_EDGE];
    s->max_timesteps = opts->max_timesteps;
    s->skip_nonfinite = opts->skip_nonfinite;
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        s->groups[g].nfeatures = nfeat[g];
        s->groups[g].features =
            ms__calloc(nfeat[g], sizeof(*s->groups[g].features));
        if (s->groups[g].features == NULL) {
            goto fail;
        }
    }
    *out = s;
    return 0;

fail:
    ms_stats_destroy(s);
    return MS_ENOMEM;
}

int
ms__stats_write_in_c(int (*fn)(const struct ms_stats *, FILE *),
                     const struct ms_stats *s, FILE *out)
{
    locale_t caller = ms__c_locale_enter();
    int rc = fn(s, out);
    ms__c_locale_leave(caller);
    return rc;
}

/* One group's statistics from its accumulator (features already sized). */
static void
fill_group(struct ms_group_stats *gs, const struct ms_moments *feat,
           uint64_t skipped)
{
    gs->count = gs->nfeatures ? feat[0].count : 0;
    gs->nonfinite_skipped = skipped;
    for (size_t k = 0; k < gs->nfeatures; k++) {
        const struct ms_moments *m = &feat[k];
        gs->features[k] = (struct ms_feature_stats){
            .mean = ms__moments_mean(m),
            .std = ms__moments_std(m),
            .min = m->min,
            .max = m->max,
        };
    }
}

/* Each block's moments were found finite where they were computed
 * (features.c), but combining blocks far apart can still overflow: the
 * squared distance of two means, or a sum of squared deviations past
 * double's range (about 1e154 squared), even where the std would fit. */
static int
check_finite(const struct ms_stats *s, const struct ms_accumulator *acc,
             struct ms_error *err)
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < acc->nfeat[g]; k++) {
            if (ms__moments_finite(&acc->feat[g][k])) {
                continue;
            }
            char name[64];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            return ms__error_set(
                err, MS_EOVERFLOW,
                "%s: the %s feature %s overflows double precision once its "
                "blocks are combined: its squared deviations from the mean "
                "sum past 1.8e308 (values of about 1e150 or more, or far "
                "apart; the data is likely corrupt)",
                s->dataset, ms_group_name((enum ms_group_kind)g), name);
        }
    }
    return 0;
}

int
ms__stats_fill(struct ms_stats *s, const struct ms_accumulator *acc,
               struct ms_error *err)
{
    int rc = check_finite(s, acc, err);
    for (int g = 0; rc == 0 && g < MS_GROUP_COUNT; g++) {
        fill_group(&s->groups[g], acc->feat[g], acc->skipped[g]);
    }
    return rc;
}

int
ms__stats_add_report(struct ms_stats *s, int64_t id, size_t N, size_t E,
                     size_t timesteps, const struct ms_accumulator *acc)
{
    void *grown =
        ms__reallocarray(s->reports, s->nreports + 1, sizeof(*s->reports));
    if (grown == NULL) {
        return MS_ENOMEM;
    }
    s->reports = grown;
    struct ms_sample_report *r = &s->reports[s->nreports];
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->N = N;
    r->E = E;
    r->timesteps = timesteps;
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        r->groups[g].nfeatures = acc->nfeat[g];
        r->groups[g].features =
            ms__calloc(acc->nfeat[g], sizeof(*r->groups[g].features));
        if (r->groups[g].features == NULL) {
            for (int k = 0; k < g; k++) {
                ms__free(r->groups[k].features);
            }
            return MS_ENOMEM;
        }
        fill_group(&r->groups[g], acc->feat[g], acc->skipped[g]);
    }
    s->nreports++;
    return 0;
}

int
ms__stats_add_skipped(struct ms_stats *s, int64_t id, const char *reason)
{
    char *copy = ms__strdup(reason);
    if (copy == NULL) {
        return MS_ENOMEM;
    }
    void *grown =
        ms__reallocarray(s->skipped, s->nskipped + 1, sizeof(*s->skipped));
    if (grown == NULL) {
        ms__free(copy);
        return MS_ENOMEM;
    }
    s->skipped = grown;
    s->skipped[s->nskipped++] = (struct ms_skipped_sample){id, copy};
    return 0;
}

void
ms_stats_destroy(struct ms_stats *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->nskipped; i++) {
        ms__free(s->skipped[i].reason);
    }
    ms__free(s->skipped);
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        ms__free(s->groups[g].features);
    }
    for (size_t i = 0; i < s->nreports; i++) {
        for (int g = 0; g < MS_GROUP_COUNT; g++) {
            ms__free(s->reports[i].groups[g].features);
        }
    }
    ms__free(s->reports);
    for (size_t i = 0; i < s->nwarnings; i++) {
        ms__free(s->warnings[i]);
    }
    ms__free(s->warnings);
    for (size_t i = 0; i < s->nsample_warnings; i++) {
        ms__free(s->sample_warnings[i]);
    }
    ms__free(s->sample_warnings);
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        ms__free(s->groups[g].quantiles);
    }
    if (s->sketches != NULL) {
        ms__sketches_free(s->sketches->sketch, s->sketches->nfeat);
        ms__free(s->sketches);
    }
    ms__free(s->trace);
    ms__free(s->selection);
    ms__free(s->selection_ids);
    ms__free(s->dataset);
    ms__free(s);
}
