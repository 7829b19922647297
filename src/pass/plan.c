/*
 * plan.c: the dataset planned: its samples and their work units.
 *
 * The plan tells the file's layout (data/<id>/nodal_data, or DeepMind's
 * trajectory groups), lists the samples in ascending id order (the
 * selection's only), chooses the model (plan_model.c) and with it the
 * group sizes, checks each sample
 * against the layout (metadata, and a trajectory's cells and node types
 * at frame 0), chooses its timesteps (or frames) and whether its mesh is
 * processed whole or in blocks, shares the memory limit out (budget.c) and
 * cuts each sample into units (cut.c).  Bad samples are marked with their
 * reason.
 */
#include "pass/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Mark sample s bad (or fail under strict); err holds the reason. */
static int
reject_sample(struct ms_plan *plan, size_t s, const struct ms_options *opts,
              struct ms_error *err)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    if (opts->strict) {
        err->code = MS_EBADSAMPLE;
        return MS_EBADSAMPLE;
    }
    ps->bad = true;
    ps->reason = ms__strdup(err->message);
    if (ps->reason == NULL) {
        /* (not the sample's reason: that would read as its failure) */
        return ms__error_set(err, MS_ENOMEM, "out of memory setting sample "
                             "%lld aside", (long long)ps->name.id);
    }
    if (opts->on_warning != NULL) {
        opts->on_warning(opts->userdata, ps->name.id, err->message);
    }
    return 0;
}

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether the caller asks the pass to stop (ms_options.should_stop),
 * asked at most every 100 ms: checking a large file's samples takes
 * seconds. */
static bool
caller_stops(const struct ms_options *opts, uint64_t *last)
{
    uint64_t now = now_ms();
    if (opts->should_stop == NULL || now - *last < 100) {
        return false;
    }
    *last = now;
    return opts->should_stop(opts->userdata);
}

/* A trajectory against the model: its fields, then, if what its first
 * task holds fits the memory limit, its node types and cells at frame 0
 * (counting its edges).  MS_ETOOBIG ends the pass, as the budget's
 * verdict does; other failures are the trajectory's. */
static int
check_trajectory(struct ms_file *f, struct ms_plan_sample *ps,
                 const struct ms_model *m, uint64_t memory_limit,
                 struct ms_error *err)
{
    /* (a trajectory's field shapes, owned by the plan) */
    struct ms_field_shape *fields = ms__calloc(MS_FIELD_COUNT,
                                               sizeof(*fields));
    if (fields == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    int rc = ms__trajectory_shape(f, &ps->name, m, fields, &ps->shape, err);
    if (ps->shape.field == NULL) {
        ms__free(fields);
    }
    size_t need = 0;
    if (rc == 0 && (ms__budget_statics_bytes(&ps->shape, &need) != 0 ||
                    need > memory_limit)) {
        const struct ms_field_shape *cells = &ps->shape.field[MS_FIELD_CELLS];
        return ms__error_set(
            err, MS_ETOOBIG,
            "%s: sample %lld: %s/cells: the %zu nodes and %zu cells of this "
            "trajectory take %zu bytes to read and turn into edges, more "
            "than the memory limit of %llu bytes allows; raise "
            "--memory-limit (config key stats_memory_limit) to at least "
            "%zuK",
            ms__file_path(f), (long long)ps->name.id, ps->name.name,
            ps->shape.N, cells->count, need,
            (unsigned long long)memory_limit, need / 1024 + 1);
    }
    if (rc == 0) {
        rc = ms__trajectory_read_statics(f, &ps->name, &ps->shape, NULL, NULL,
                                         NULL, NULL, &ps->shape.E, err);
    }
    return rc;
}

/* A nodal sample that checked: its timesteps, whether it is blocked (and
 * then its edge order: edge_order_start.c), its chunks' room.  0, or a
 * failure of the plan. */
static int
settle_nodal(struct ms_plan *plan, struct ms_file *f,
             const struct ms_options *opts, size_t s, struct ms_error *err)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    struct ms_error why;
    ms__node_timesteps(ps->shape.T, opts->max_timesteps, &ps->node_ts);
    ms__delta_timesteps(ps->shape.T, opts->max_timesteps, &ps->delta_ts);
    ms__budget_limit_chunks(&ps->shape, opts->memory_limit);
    ps->blocked = ps->shape.N > MS_NODE_BLOCK || ps->shape.E > MS_EDGE_BLOCK;
    int rc = ps->blocked ? ms__edge_order_decide(f, ps, &why) : 0;
    if (rc == MS_ENOMEM) {
        return ms__error_set(err, rc, "%s", why.message);
    }
    if (rc != 0 && (rc = reject_sample(plan, s, opts, &why)) != 0) {
        return ms__error_set(err, rc, "%s", why.message);
    }
    return 0;
}

/* Check every sample's layout (those of [lo, hi); the others are another
 * process's) and choose its timesteps. */
static int
check_samples(struct ms_plan *plan, struct ms_file *f,
              const struct ms_options *opts, size_t lo, size_t hi,
              struct ms_error *err)
{
    uint64_t polled = now_ms();
    for (size_t s = 0; s < plan->nsamples; s++) {
        struct ms_plan_sample *ps = &plan->samples[s];
        struct ms_error why;
        if (s < lo || s >= hi) {
            ps->elsewhere = true; /* another process checks it */
            continue;
        }
        /* (a sample checked before, ahead of a plan_rest, is checked
         * afresh: its earlier verdict dropped) */
        ms__free(ps->reason);
        ps->reason = NULL;
        ps->bad = false;
        if ((plan->stop != NULL && plan->stop(plan->stop_data)) ||
            caller_stops(opts, &polled)) {
            return ms__error_set(err, MS_ECANCELED, "canceled by the caller "
                                 "while checking the samples; nothing was "
                                 "written");
        }
        bool frames = plan->model->trajectory;
        int rc = frames ? check_trajectory(f, ps, plan->model,
                                           opts->memory_limit, &why)
                        : ms__sample_shape(f, &ps->name, opts->input_var,
                                           opts->output_var, &ps->shape,
                                           &why);
        if (rc == MS_ENOMEM || rc == MS_ETOOBIG) {
            return ms__error_set(err, rc, "%s", why.message);
        }
        if (rc != 0) {
            rc = reject_sample(plan, s, opts, &why);
            if (rc != 0) {
                return ms__error_set(err, rc, "%s", why.message);
            }
            continue;
        }
        if (frames) {
            /* Every group of a model is computed at the same frames. */
            ms__trajectory_frames(ps->shape.T, opts->max_timesteps,
                                  &ps->node_ts);
            ps->delta_ts = ps->node_ts;
            continue; /* read whole: never blocked, no chunk decoding */
        }
        if (plan->stop_at_blocked && (ps->shape.N > MS_NODE_BLOCK ||
                                      ps->shape.E > MS_EDGE_BLOCK)) {
            plan->checked = s; /* (its edge order is decided later) */
            return 0;
        }
        rc = settle_nodal(plan, f, opts, s, err);
        if (rc != 0) {
            return rc;
        }
    }
    plan->checked = plan->nsamples;
    return 0;
}

static int
plan_samples(struct ms_plan *plan, struct ms_file *f,
             const struct ms_options *opts, const struct ms_plan_part *part,
             struct ms_error *err)
{
    size_t n = plan->nsamples, lo = 0, hi = n;
    bool split = part != NULL && ms__file_layout(f) == MS_LAYOUT_NODAL;
    if (split) {
        ms__rank_block(n, part->rank, part->ranks, &lo, &hi);
    }
    int rc = check_samples(plan, f, opts, lo, hi, err);
    if (part != NULL) {
        rc = part->exchange(plan, split, lo, hi, rc, err);
    }
    return rc == 0 ? ms__plan_cut(plan, NULL, opts, ms__file_path(f), err)
                   : rc;
}

int
ms__plan_check(struct ms_plan *plan, struct ms_file *f,
               const struct ms_options *opts, struct ms_error *err)
{
    return check_samples(plan, f, opts, 0, plan->nsamples, err);
}

static int
compare_id(const void *key, const void *elem)
{
    int64_t a = *(const int64_t *)key, b = *(const int64_t *)elem;
    return a < b ? -1 : a > b;
}

/* Keep only the selected samples; MS_ENOTFOUND lists selected ids that are
 * not in the file. */
static int
apply_selection(struct ms_sample_name *names, size_t *count,
                const struct ms_selection *sel, const char *path,
                struct ms_error *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        if (bsearch(&names[i].id, sel->ids, sel->count, sizeof(int64_t),
                    compare_id) != NULL) {
            names[kept++] = names[i];
        } else {
            ms__free(names[i].name);
        }
    }
    *count = kept;
    char missing[512] = "";
    size_t nmissing = 0, used = 0;
    for (size_t k = 0; k < sel->count; k++) {
        bool found = false;
        for (size_t i = 0; i < kept && !found; i++) {
            found = names[i].id == sel->ids[k];
        }
        if (!found) {
            if (nmissing < 20 && used < sizeof(missing) - 32) {
                used += (size_t)snprintf(missing + used,
                                         sizeof(missing) - used, "%s%lld",
                                         nmissing ? ", " : "",
                                         (long long)sel->ids[k]);
            }
            nmissing++;
        }
    }
    if (nmissing > 0) {
        /* (the ids first: a selection's text may be thousands long) */
        const char *source = sel->source ? sel->source : "selection";
        return ms__error_set(err, MS_ENOTFOUND,
                             "%s: %zu selected sample id%s not in the "
                             "dataset: %s%s (%.200s%s)",
                             path, nmissing, nmissing == 1 ? " is" : "s are",
                             missing, nmissing > 20 ? ", ..." : "", source,
                             strlen(source) > 200 ? "..." : "");
    }
    return 0;
}

/* The plan's samples: those listed under data/ that the selection keeps,
 * in id order, owning their names. */
static int
list_samples(struct ms_plan *plan, struct ms_file *f,
             const struct ms_options *opts, struct ms_error *err)
{
    struct ms_sample_name *names;
    size_t count;
    int rc = ms__file_list_samples(f, opts->on_warning, opts->userdata,
                                   &names, &count, err);
    if (rc != 0) {
        return rc;
    }
    plan->nfound = count;
    if (opts->selection != NULL) {
        rc = apply_selection(names, &count, opts->selection, ms__file_path(f),
                             err);
    }
    if (rc == 0 && count == 0) {
        rc = ms__error_set(err, MS_ENOSAMPLES,
                           "%s: no samples under %s (expected groups "
                           "named by decimal sample ids)",
                           ms__file_path(f),
                           ms__file_layout(f) == MS_LAYOUT_NODAL
                               ? "data/" : "the root");
    }
    plan->samples = rc == 0 ? ms__calloc(count, sizeof(*plan->samples))
                            : NULL;
    if (rc == 0 && plan->samples == NULL) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                           ms__file_path(f));
    }
    if (rc != 0) {
        ms__sample_names_free(names, count);
        return rc;
    }
    for (size_t s = 0; s < count; s++) {
        plan->samples[s].name = names[s];
    }
    ms__free(names); /* the name strings now belong to the plan */
    plan->nsamples = count;
    return 0;
}

int
ms__plan_list(struct ms_file *f, const struct ms_options *opts,
              struct ms_plan **out, struct ms_error *err)
{
    struct ms_plan *plan = ms__calloc(1, sizeof(*plan));
    int rc = plan != NULL ? ms__file_detect_layout(f, err)
                          : ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                          ms__file_path(f));
    if (rc == 0) {
        rc = list_samples(plan, f, opts, err);
    }
    if (rc == 0) {
        rc = ms__plan_model(plan, f, opts, err);
    }
    if (rc != 0) {
        ms__plan_destroy(plan);
        plan = NULL;
    }
    *out = plan;
    return rc;
}

int
ms__plan_create(struct ms_file *f, const struct ms_options *opts,
                const struct ms_plan_part *part, struct ms_plan **out,
                struct ms_error *err)
{
    struct ms_plan *plan;
    int rc = ms__plan_list(f, opts, &plan, err);
    if (rc == 0) {
        rc = plan_samples(plan, f, opts, part, err);
    } else if (part != NULL) {
        rc = part->exchange(NULL, false, 0, 0, rc, err); /* (every rank) */
    }
    if (rc != 0) {
        ms__plan_destroy(plan);
        plan = NULL;
    }
    *out = plan;
    return rc;
}

int
ms__plan_segment(const struct ms_plan *whole, size_t lo, size_t hi,
                 struct ms_plan **out)
{
    struct ms_plan *seg = ms__calloc(1, sizeof(*seg));
    *out = seg;
    if (seg == NULL) {
        return MS_ENOMEM;
    }
    seg->model = whole->model;
    memcpy(seg->nfeat, whole->nfeat, sizeof(seg->nfeat));
    seg->nrows = whole->nrows;
    seg->positional = whole->positional;
    seg->nfound = whole->nfound;
    seg->samples = whole->samples + lo;
    seg->nsamples = hi - lo;
    seg->borrowed = true;
    return 0;
}

void
ms__plan_destroy(struct ms_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    for (size_t s = 0; !plan->borrowed && s < plan->nsamples; s++) {
        ms__free(plan->samples[s].name.name);
        ms__free(plan->samples[s].reason);
        ms__free(plan->samples[s].shape.field);
    }
    if (!plan->borrowed) {
        ms__free(plan->samples);
    }
    ms__free(plan->units);
    ms__free(plan);
}
