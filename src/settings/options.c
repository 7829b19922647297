/*
 * options.c: the options of a computation: their defaults, their check,
 * and the worker count they resolve to.
 *
 * The bottom of the library's layers beside alloc.c and error.c: the
 * settings front ends, the plan and the pipeline read options through
 * here, and this calls nothing of theirs.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "settings/settings.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MEMORY_LIMIT (256ULL << 20)

void
ms_options_init(struct ms_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->input_var = 4;
    opts->output_var = 4;
    opts->edge_var = 4;
    opts->memory_limit = DEFAULT_MEMORY_LIMIT;
    opts->quantile_accuracy = MS_DEFAULT_ACCURACY;
}

void
ms__options_groups(const struct ms_options *opts,
                   size_t nfeat[MS_GROUP_COUNT])
{
    nfeat[MS_GROUP_NODE] = opts->input_var + opts->positional_features;
    nfeat[MS_GROUP_EDGE] = opts->edge_var;
    nfeat[MS_GROUP_DELTA] = opts->output_var;
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
    return cores < 1 ? 1 : cores > MS_MAX_WORKERS ? MS_MAX_WORKERS
                                                  : (unsigned)cores;
}

int
ms__options_check(const struct ms_options *o, struct ms_error *err)
{
    if (o->input_var < 1 || o->input_var > MS_MAX_VARS || o->output_var < 1 ||
        o->output_var > MS_MAX_VARS) {
        return ms__error_set(err, MS_EINVAL,
                             "input_var and output_var must be 1..%d",
                             MS_MAX_VARS);
    }
    if (o->edge_var != 4 && o->edge_var != 8) {
        return ms__error_set(err, MS_EINVAL,
                             "edge_var must be 4 or 8 (r and |r| of the "
                             "deformed mesh, and of the reference mesh)");
    }
    if (o->positional_features > MS_MAX_POSITIONAL) {
        return ms__error_set(err, MS_EINVAL,
                             "positional_features must be 0..%d (the "
                             "centroid distance, the mean edge length and "
                             "up to five random-walk probabilities)",
                             MS_MAX_POSITIONAL);
    }
    if (o->positional_features > 2 &&
        o->positional_encoding != MS_ENCODING_RWPE) {
        return ms__error_set(
            err, MS_EINVAL,
            "positional_encoding %s: Laplacian eigenvectors (lpe) are not "
            "computed by meshstats; it computes rwpe (random-walk return "
            "probabilities), the training code's default",
            o->positional_encoding == MS_ENCODING_LPE ? "lpe" : "rwpe+lpe");
    }
    if (o->memory_limit == 0) {
        return ms__error_set(err, MS_EINVAL, "memory limit must be > 0");
    }
    if (o->quantiles && !(o->quantile_accuracy >= MS_MIN_ACCURACY * (1 - 1e-12) &&
                          o->quantile_accuracy <= MS_MAX_ACCURACY * (1 + 1e-12))) {
        return ms__error_set(err, MS_EINVAL,
                             "quantile_accuracy must be %g..%g",
                             MS_MIN_ACCURACY, MS_MAX_ACCURACY);
    }
    if (o->workers > MS_MAX_WORKERS || o->prefetch > MS_MAX_PREFETCH) {
        return ms__error_set(err, MS_EINVAL,
                             "workers must be 0..%d and prefetch 0..%d",
                             MS_MAX_WORKERS, MS_MAX_PREFETCH);
    }
    return 0;
}
