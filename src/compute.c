/*
 * compute.c: one pass over a dataset, from path to result.
 *
 * It opens the file read-only, builds the plan, and runs the work units of
 * each good sample in order on the calling thread: edges first (validated
 * before any gather), then every unit, whose per-timestep partials are
 * folded into the sample's accumulator; a finished sample is merged into the
 * dataset's accumulator.  A sample that fails part-way is dropped whole, so
 * nothing of it reaches the result.  It never opens the file for writing.
 */
#include "internal.h"

#include <uv.h>

#include <stdio.h>
#include <string.h>

#define DEFAULT_MEMORY_LIMIT (256ULL << 20)
#define MAX_VARS 1024

void
ms_options_init(struct ms_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->input_var = 4;
    opts->output_var = 4;
    opts->memory_limit = DEFAULT_MEMORY_LIMIT;
}

const char *
ms_version(void)
{
    return MS_VERSION_STRING;
}

void
ms_version_dependencies(char *buf, size_t size)
{
    char hdf5[32];
    ms__hdf5_version(hdf5, sizeof(hdf5));
    snprintf(buf, size, "HDF5 %s, libuv %s", hdf5, uv_version_string());
}

/* Errors that end the run whatever --strict says (SPEC section 4). */
static bool
is_fatal(int rc)
{
    return rc == MS_ENONFINITE || rc == MS_EOVERFLOW || rc == MS_ENOMEM ||
           rc == MS_ECANCELED || rc == MS_ETOOBIG;
}

/* Everything one pass holds. */
struct pass {
    const struct ms_options *opts;
    struct ms_file *file;
    struct ms_plan *plan;
    struct ms_unit_buffers buffers;
    struct ms_accumulator total;
    struct ms_accumulator sample;
    uint32_t *edges;
    struct ms_stats *stats;
};

/* Read sample s's edges and run its units into pass->sample. */
static int
run_sample(struct pass *p, size_t s, struct ms_error *err)
{
    const struct ms_plan_sample *ps = &p->plan->samples[s];
    ms__accumulator_reset(&p->sample);
    int rc = ms__sample_read_edges(p->file, &ps->name, &ps->shape, p->edges,
                                   err);
    for (size_t i = 0; rc == 0 && i < ps->nunits; i++) {
        const struct ms_unit *u = &p->plan->units[ps->first_unit + i];
        rc = ms__unit_run(p->file, p->plan, u, p->edges, p->opts, &p->buffers,
                          err);
        if (rc == 0) {
            ms__accumulator_fold_unit(&p->sample, u, &p->buffers);
        }
    }
    return rc;
}

static int
skip_sample(struct pass *p, int64_t id, const char *reason)
{
    if (p->opts->on_warning != NULL) {
        p->opts->on_warning(p->opts->userdata, id, reason);
    }
    return ms__stats_add_skipped(p->stats, id, reason);
}

static int
run_all(struct pass *p, struct ms_error *err)
{
    size_t used = 0;
    for (size_t s = 0; s < p->plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &p->plan->samples[s];
        int rc;
        if (ps->bad) {
            /* Already reported while planning. */
            rc = ms__stats_add_skipped(p->stats, ps->name.id, ps->reason);
        } else {
            rc = run_sample(p, s, err);
            if (rc != 0 && !is_fatal(rc)) {
                if (p->opts->strict) {
                    err->code = MS_EBADSAMPLE;
                    return MS_EBADSAMPLE;
                }
                rc = skip_sample(p, ps->name.id, err->message);
            } else if (rc == 0) {
                ms__accumulator_merge(&p->total, &p->sample);
                used++;
            }
        }
        if (rc != 0) {
            return rc == MS_ENOMEM ? ms__error_set(err, rc, "out of memory")
                                   : rc;
        }
    }
    p->stats->samples_found = p->plan->nsamples;
    p->stats->samples_used = used;
    if (used == 0) {
        return ms__error_set(err, MS_ENOSAMPLES,
                             "%s: no usable samples: all %zu were skipped",
                             ms__file_path(p->file), p->plan->nsamples);
    }
    ms__stats_fill(p->stats, &p->total);
    return 0;
}

static int
check_options(const struct ms_options *o, struct ms_error *err)
{
    if (o->input_var < 1 || o->input_var > MAX_VARS || o->output_var < 1 ||
        o->output_var > MAX_VARS) {
        return ms__error_set(err, MS_EINVAL,
                             "input_var and output_var must be 1..%d",
                             MAX_VARS);
    }
    if (o->memory_limit == 0) {
        return ms__error_set(err, MS_EINVAL, "memory limit must be > 0");
    }
    return 0;
}

int
ms_stats_compute(const char *path, const struct ms_options *opts,
                 struct ms_stats **out, struct ms_error *err)
{
    struct ms_error local;
    err = err != NULL ? err : &local;
    *out = NULL;
    struct pass p = {.opts = opts};
    int rc = check_options(opts, err);
    if (rc != 0) {
        return rc;
    }
    rc = ms__file_open(path, &p.file, err);
    if (rc != 0) {
        return rc;
    }
    rc = ms__plan_create(p.file, opts, &p.plan, err);
    if (rc != 0) {
        goto fail_plan;
    }
    if (ms__unit_buffers_init(&p.buffers, p.plan, opts) != 0 ||
        ms__accumulator_init(&p.total, opts->input_var, opts->output_var) ||
        ms__accumulator_init(&p.sample, opts->input_var, opts->output_var) ||
        ms__stats_create(path, opts, &p.stats) != 0 ||
        (p.edges = ms__calloc(p.plan->max_E, 2 * sizeof(uint32_t))) == NULL) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        goto fail_run;
    }
    rc = run_all(&p, err);
    if (rc != 0) {
        goto fail_run;
    }
    *out = p.stats;
    p.stats = NULL;

fail_run:
    ms_stats_destroy(p.stats);
    ms__free(p.edges);
    ms__accumulator_finish(&p.sample);
    ms__accumulator_finish(&p.total);
    ms__unit_buffers_finish(&p.buffers);
    ms__plan_destroy(p.plan);
fail_plan:
    ms__file_close(p.file);
    return rc;
}
