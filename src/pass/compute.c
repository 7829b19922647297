/*
 * compute.c: one pass over a dataset, from path to result.
 *
 * It checks the options, opens the file read-only, builds the plan and hands
 * it to the pipeline (pipeline.c), which runs the units on the pass's
 * worker threads and folds them in order; under MPI the ranks' results are
 * then combined (mpi.c).  It never opens the file for writing.
 */
#include "pass/pass.h"

#include <string.h>

/* Everything one pass holds between opening the file and its result. */
struct pass {
    const char *path;
    const struct ms_options *opts;
    struct ms_file *file;
    struct ms_plan *plan;
    struct ms_stats *stats;
    struct ms_accumulator total;
    struct ms_outcomes mine;  /* each sample's outcome, under MPI */
    struct ms_mpi_pass mpi;
};

/* The pipeline's progress reports, straight to the caller's callback. */
static void
forward_progress(void *data, const struct ms_progress *p)
{
    const struct ms_options *opts = data;
    if (opts->on_progress != NULL) {
        opts->on_progress(opts->userdata, p);
    }
}

/* Open, plan and run this process's share of the pass.  The file is
 * closed before it returns: under MPI the ranks combine next, starting
 * with a collective, so once rank 0 is past it no rank holds the file
 * open and rank 0's write-back can take HDF5's exclusive lock. */
static int
accumulate(struct pass *ps, bool mpi, struct ms_error *err)
{
    int rc = ms__file_open(ps->path, &ps->file, err);
    struct ms_plan_part part;
    ms__mpi_plan_part(&part); /* under MPI: each rank checks its samples */
    if (rc == 0) {
        /* (alone: planned in segments by stream.c) */
        rc = mpi ? ms__plan_create(ps->file, ps->opts, &part, &ps->plan, err)
                 : ms__plan_list(ps->file, ps->opts, &ps->plan, err);
    } else if (mpi) {
        rc = part.exchange(NULL, false, 0, 0, rc, err); /* (every rank) */
    }
    const struct ms_options *o = ps->opts;
    if (rc == 0 && o->quantiles && ps->plan->model->trajectory) {
        rc = ms__error_set(
            err, MS_EINVAL,
            "%s: quantiles (--quantiles, --histograms, stats_quantiles): "
            "the distributions of the %s model are not computed (only the "
            "nodal model's are); run without them",
            ps->path, ms_model_name(ps->plan->model->kind));
    }
    if (rc == 0 &&
        (ms__stats_create(ps->path, o, ps->plan->model, ps->plan->nfeat,
                          &ps->stats) != 0 ||
         ms__accumulator_init(&ps->total, ps->plan->nfeat) != 0 ||
         (o->quantiles &&
          ms__accumulator_sketch(&ps->total,
                                 ms__sketch_bits(o->quantile_accuracy))))) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", ps->path);
    }
    if (rc == 0) {
        struct ms_pass_sinks sinks = {&ps->total, NULL, forward_progress,
                                      (void *)ps->opts, 0, NULL};
        if (mpi) {
            ms__mpi_restrict(&ps->mpi, ps->plan);
            sinks = (struct ms_pass_sinks){&ps->total, &ps->mine,
                                           ms__mpi_progress, &ps->mpi, 0,
                                           NULL};
        }
        rc = mpi ? ms__pipeline_run(ps->file, ps->plan, ps->opts, ps->stats,
                                    &sinks, err)
                 : ms__stream_run(ps->file, ps->plan, ps->opts, ps->stats,
                                  &sinks, err);
    }
    ms__file_close(ps->file);
    ps->file = NULL;
    return rc;
}

static int
compute(const char *path, const struct ms_options *opts,
        struct ms_stats **out, struct ms_error *err)
{
    struct ms_error local;
    err = err != NULL ? err : &local;
    *out = NULL;
    int rc = ms__options_check(opts, err);
    if (rc != 0) {
        return rc; /* the same options on every rank: all fail alike */
    }
    struct pass ps = {.path = path, .opts = opts};
    bool mpi = ms__mpi_active();
    ms__mpi_pass_init(&ps.mpi, opts);
    rc = accumulate(&ps, mpi, err);
    if (mpi) {
        /* Every rank gets here, whatever failed, so that none waits. */
        rc = ms__mpi_combine(&ps.mpi, ps.stats, &ps.total, &ps.mine, rc,
                             err);
    }
    ms__outcomes_finish(&ps.mine);
    /* Under MPI only rank 0 holds the whole result; another rank may have
     * been given no sample at all. */
    bool whole = !mpi || ms_parallel_rank() == 0;
    if (rc == 0 && whole && ps.stats->samples_used == 0) {
        rc = ms__error_set(err, MS_ENOSAMPLES,
                           "%s: no usable samples: all %zu were skipped",
                           path, ps.plan->nsamples);
    }
    if (rc == 0) {
        ps.stats->samples_found = ps.plan->nfound;
        ps.stats->samples_selected = ps.plan->nsamples;
        rc = ms__stats_fill(ps.stats, &ps.total, err);
    }
    if (rc == 0) {
        if (ms__stats_keep_sketches(ps.stats, &ps.total,
                                    opts->quantile_accuracy) != 0 ||
            ms__stats_diagnose(ps.stats) != 0) {
            rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        }
    }
    if (rc == 0) {
        *out = ps.stats;
        ps.stats = NULL;
    }
    ms__accumulator_finish(&ps.total);
    ms_stats_destroy(ps.stats);
    ms__plan_destroy(ps.plan);
    return rc;
}

int
ms_stats_compute(const char *path, const struct ms_options *opts,
                 struct ms_stats **out, struct ms_error *err)
{
    locale_t caller = ms__c_locale_enter();
    int rc = compute(path, opts, out, err);
    ms__c_locale_leave(caller);
    return rc;
}
