/*
 * positional_start.c: a sample's positional node features, at its start.
 *
 * With positional_features P, the sample's first task reads its reference
 * positions (rows 0..2 of nodal_data at the first timestep) and its whole
 * edge list, computes the P static columns (features/positional.c) and
 * their moments, and hands them to the fold, which merges them into the
 * sample's node group once for every node timestep the pass uses: the
 * columns count like the others, and their moments never depend on how
 * the sample was cut into units.  A mesh whose computation does not fit
 * the memory limit fails the sample, naming the limit to raise.
 */
#include "pass/pass.h"

#include <math.h>
#include <string.h>

/* The buffers of one computation, in one allocation. */
struct positional_work {
    uint32_t *from, *to; /* room for the edges, when they must be read */
    double *pos, *cols;
    void *rows, *scratch;
};

static int
carve(struct positional_work *w, size_t N, size_t E, unsigned P)
{
    unsigned char *p = ms__malloc(ms__positional_task_bytes(N, E, P));
    if (p == NULL) {
        return MS_ENOMEM;
    }
    w->pos = (double *)p;
    w->cols = w->pos + 3 * N;
    w->rows = w->cols + (size_t)P * N;
    w->scratch = (double *)w->rows + 3 * N;
    w->from = (uint32_t *)((unsigned char *)w->scratch +
                           ms__positional_bytes(N, E));
    w->to = w->from + E;
    return 0;
}

/* The reference positions at the first timestep, as doubles, 3 a node. */
static int
read_positions(struct ms_file *f, const struct ms_plan_sample *ps,
               struct positional_work *w, struct ms_read_scratch *rs,
               bool skip, struct ms_error *err)
{
    size_t N = ps->shape.N, t0 = 0;
    unsigned char full = 1;
    struct ms_slot_list sl = {&t0, &full, 1, 3, 0, 0, N};
    int rc = ms__sample_read_slots(f, &ps->name, &ps->shape, &sl, w->rows,
                                   rs, err);
    for (size_t n = 0; rc == 0 && n < N; n++) {
        for (size_t d = 0; rc == 0 && d < 3; d++) {
            double v = ps->shape.single ? (double)((float *)w->rows)[d * N + n]
                                        : ((double *)w->rows)[d * N + n];
            w->pos[3 * n + d] = v;
            if (!isfinite(v)) {
                rc = ms__error_set(
                    err, skip ? MS_ERANGE : MS_ENONFINITE,
                    "%s: sample %lld: data/%s/nodal_data: reference position "
                    "%zu of node %zu at the first timestep is %g: the "
                    "positional features cannot be computed",
                    ms__file_path(f), (long long)ps->name.id, ps->name.name,
                    d, n, v);
            }
        }
    }
    return rc;
}

/* Moments of the P columns into out[iv..iv+P), each merged once a node
 * timestep the pass uses; a non-finite value is the sample's failure. */
static int
column_moments(const char *path, const struct ms_plan *plan,
               const struct ms_plan_sample *ps,
               const struct positional_work *w, bool skip,
               struct ms_moments *out, struct ms_sketch *sketch,
               struct ms_error *err)
{
    size_t N = ps->shape.N, P = plan->positional;
    size_t iv = plan->nfeat[MS_GROUP_NODE] - P;
    for (size_t k = 0; k < plan->nfeat[MS_GROUP_NODE]; k++) {
        ms__moments_init(&out[k]);
    }
    for (size_t p = 0; p < P; p++) {
        const double *col = w->cols + p * N;
        for (size_t n = 0; n < N; n++) {
            if (!isfinite(col[n])) {
                char name[32];
                ms__positional_name(p, name, sizeof(name));
                return ms__error_set(
                    err, skip ? MS_ERANGE : MS_ENONFINITE,
                    "%s: sample %lld: positional feature %s of node %zu is "
                    "%g: the reference positions (rows 0..2 of nodal_data "
                    "at the first timestep) are not all finite",
                    path, (long long)ps->name.id, name, n, col[n]);
            }
        }
        struct ms_moments m;
        ms__moments_of(&m, col, N);
        for (size_t t = 0; t < ps->node_ts.count; t++) {
            ms__moments_merge(&out[iv + p], &m);
        }
        if (sketch != NULL && ms__sketch_add_values(&sketch[iv + p], col, N,
                                                    NULL,
                                                    ps->node_ts.count) != 0) {
            return ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        }
    }
    return 0;
}

int
ms__positional_start(struct ms_file *f, const struct ms_plan *plan,
                     size_t sample, const uint32_t *from, const uint32_t *to,
                     const struct ms_options *opts,
                     struct ms_unit_buffers *b, struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[sample];
    size_t N = ps->shape.N, E = ps->shape.E;
    unsigned P = plan->positional;
    /* The work is a task's, beside the other tasks in flight: it must fit
     * a task's share of the memory limit. */
    size_t need = ms__positional_task_bytes(N, E, P);
    uint64_t share = plan->share > 0 ? plan->share : opts->memory_limit;
    if (need == 0 || need > share) {
        uint64_t tasks = (opts->memory_limit + share - 1) / share;
        return ms__error_set(
            err, MS_ETOOBIG,
            "%s: sample %lld: the positional features of its %zu nodes and "
            "%zu edges take %zu bytes to compute, more than a task's share "
            "(%llu bytes) of the memory limit of %llu bytes; raise "
            "--memory-limit (config key stats_memory_limit) to at least "
            "%lluK, or lower --prefetch",
            ms__file_path(f), (long long)ps->name.id, N, E, need,
            (unsigned long long)share,
            (unsigned long long)opts->memory_limit,
            (unsigned long long)(need / 1024 + 1) * tasks);
    }
    struct positional_work w;
    if (carve(&w, N, E, P) != 0) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    int rc = 0;
    if (from == NULL) {
        rc = ms__sample_read_edges(f, &ps->name, &ps->shape, 0, E, w.from,
                                   w.to, err);
        from = w.from;
        to = w.to;
    }
    if (rc == 0) {
        rc = read_positions(f, ps, &w, &b->read, opts->skip_nonfinite, err);
    }
    if (rc == 0) {
        ms__positional_features(w.pos, N, from, to, E, P, w.scratch, w.cols);
        rc = column_moments(ms__file_path(f), plan, ps, &w,
                            opts->skip_nonfinite, b->node,
                            b->scratch.sketch[MS_GROUP_NODE], err);
    }
    ms__free(w.pos);
    return rc;
}
