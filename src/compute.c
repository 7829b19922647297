/*
 * compute.c: one pass over a dataset, from path to result, and the
 * library's defaults and versions.
 *
 * It checks the options, opens the file read-only, builds the plan and hands
 * it to the pipeline (pipeline.c), which runs the units on the threadpool
 * and folds them in order.  It never opens the file for writing.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "internal.h"

#include <uv.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MEMORY_LIMIT (256ULL << 20)

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

unsigned
ms__resolve_workers(const struct ms_options *opts)
{
    if (opts->workers != 0) {
        return opts->workers;
    }
    /* The CPUs this process may run on (taskset, cgroup cpusets), else
     * the online ones. */
    cpu_set_t set;
    long cores = sched_getaffinity(0, sizeof(set), &set) == 0
                     ? CPU_COUNT(&set)
                     : sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > 1024 ? 1024 : (unsigned)cores;
}

static int
check_options(const struct ms_options *o, struct ms_error *err)
{
    if (o->input_var < 1 || o->input_var > MS_MAX_VARS || o->output_var < 1 ||
        o->output_var > MS_MAX_VARS) {
        return ms__error_set(err, MS_EINVAL,
                             "input_var and output_var must be 1..%d",
                             MS_MAX_VARS);
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
    struct ms_file *file = NULL;
    struct ms_plan *plan = NULL;
    struct ms_stats *stats = NULL;
    int rc = check_options(opts, err);
    if (rc != 0) {
        return rc;
    }
    rc = ms__file_open(path, &file, err);
    if (rc != 0) {
        return rc;
    }
    rc = ms__plan_create(file, opts, &plan, err);
    if (rc != 0) {
        goto fail_plan;
    }
    if (ms__stats_create(path, opts, &stats) != 0) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        goto fail_stats;
    }
    bool mpi = ms__mpi_active();
    if (mpi) {
        ms__mpi_restrict(plan);
    }
    struct ms_accumulator total;
    struct ms_outcomes mine = {0};
    rc = ms__accumulator_init(&total, opts->input_var, opts->output_var);
    if (rc != 0) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        goto fail_run;
    }
    rc = ms__pipeline_run(file, plan, opts, stats, &total,
                          mpi ? &mine : NULL, err);
    /* Closed before the ranks combine: the combine starts with a
     * collective, so once rank 0 is past it no rank holds the file open,
     * and rank 0's write-back can take HDF5's exclusive lock. */
    ms__file_close(file);
    file = NULL;
    if (mpi) {
        rc = ms__mpi_combine(plan, opts, stats, &total, &mine, rc, err);
    }
    ms__outcomes_finish(&mine);
    if (rc == 0 && stats->samples_used == 0) {
        rc = ms__error_set(err, MS_ENOSAMPLES,
                           "%s: no usable samples: all %zu were skipped",
                           path, plan->nsamples);
    }
    if (rc == 0) {
        ms__stats_fill(stats, &total);
    }
    ms__accumulator_finish(&total);
    if (rc != 0) {
        goto fail_run;
    }
    *out = stats;
    stats = NULL;

fail_run:
    ms_stats_destroy(stats);
fail_stats:
    ms__plan_destroy(plan);
fail_plan:
    ms__file_close(file);
    return rc;
}
