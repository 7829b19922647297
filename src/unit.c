/*
 * unit.c: what a worker does for one work unit.
 *
 * It reads the unit's slots (rows 0..nrows-1 of nodal_data at the timesteps
 * the unit needs) into the unit's buffer, then computes one partial per
 * owned timestep and feature: node and edge partials for each node
 * timestep, delta partials for each delta timestep, in timestep order.  It
 * merges nothing: folding the partials in order is the caller's job, on one
 * thread, so that the result never depends on which unit finished first.
 * It touches only the buffers it is handed and the file through reader.c.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
ms__unit_buffers_init(struct ms_unit_buffers *b, const struct ms_plan *p,
                      const struct ms_options *opts)
{
    memset(b, 0, sizeof(*b));
    size_t rows = p->max_N > p->max_E ? p->max_N : p->max_E;
    size_t nnode = p->max_node_ts, ndelta = p->max_delta_ts;
    b->slots = ms__calloc(p->max_slots, sizeof(*b->slots));
    b->slot_full = ms__calloc(p->max_slots, 1);
    b->data = ms__malloc(p->max_values * sizeof(double));
    b->scratch.pos = ms__calloc(p->max_N, 3 * sizeof(double));
    b->node = ms__calloc(nnode * opts->input_var, sizeof(*b->node));
    b->edge = ms__calloc(nnode * MS_EDGE_FEATURES, sizeof(*b->edge));
    b->delta = ms__calloc(ndelta * opts->output_var, sizeof(*b->delta));
    b->read.throttle = opts->read_throttle;
    if (p->max_chunk_bytes > 0) {
        b->read.chunk_cap = p->max_chunk_bytes;
        b->read.chunk = ms__malloc(p->max_chunk_bytes);
        b->read.tmp = ms__malloc(p->max_chunk_bytes);
        b->read.raw_cap = p->max_chunk_bytes;
        b->read.raw = ms__malloc(p->max_chunk_bytes);
    }
    bool ok = b->slots && b->slot_full && b->data && b->scratch.pos &&
              b->node && b->edge && b->delta &&
              (p->max_chunk_bytes == 0 ||
               (b->read.chunk && b->read.tmp && b->read.raw));
    if (ok && opts->skip_nonfinite) {
        b->scratch.values = ms__calloc(rows, sizeof(double));
        b->scratch.mask = ms__calloc(rows, 1);
        ok = b->scratch.values && b->scratch.mask;
    }
    if (!ok) {
        ms__unit_buffers_finish(b);
        return MS_ENOMEM;
    }
    return 0;
}

void
ms__unit_buffers_finish(struct ms_unit_buffers *b)
{
    if (b == NULL) {
        return;
    }
    ms__free(b->slots);
    ms__free(b->slot_full);
    ms__free(b->data);
    ms__free(b->scratch.pos);
    ms__free(b->scratch.values);
    ms__free(b->scratch.mask);
    ms__free(b->node);
    ms__free(b->edge);
    ms__free(b->delta);
    ms__free(b->read.raw);
    ms__free(b->read.chunk);
    ms__free(b->read.tmp);
    memset(b, 0, sizeof(*b));
}

/* The slot holding timestep t (it is there by construction). */
static size_t
slot_of(const size_t *slots, size_t nslots, size_t t)
{
    size_t lo = 0, hi = nslots;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (slots[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int
feature_error(int rc, struct ms_file *f, const struct ms_plan_sample *ps,
              const char *group, size_t t,
              const struct ms_nonfinite_site *site, const size_t *slots,
              struct ms_error *err)
{
    if (rc == MS_ENONFINITE) {
        return ms__error_set(
            err, rc,
            "%s: sample %lld: data/%s/nodal_data: non-finite value %g at "
            "feature row %zu, timestep %zu, node %zu (used by the %s "
            "features; --skip-nonfinite leaves such rows out)",
            ms__file_path(f), (long long)ps->name.id, ps->name.name,
            site->value, site->row, slots[site->slot], site->node, group);
    }
    return ms__error_set(err, rc,
                         "%s: sample %lld: data/%s/nodal_data: the %s "
                         "features at timestep %zu overflow double precision",
                         ms__file_path(f), (long long)ps->name.id,
                         ps->name.name, group, t);
}

static int compute_unit(struct ms_file *f, const struct ms_plan *plan,
                        const struct ms_unit *u, const uint32_t *edges,
                        const struct ms_options *opts,
                        struct ms_unit_buffers *b, struct ms_error *err);

int
ms__unit_run(struct ms_file *f, const struct ms_plan *plan,
             const struct ms_unit *u, const uint32_t *edges,
             const struct ms_options *opts, struct ms_unit_buffers *b,
             struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[u->sample];
    const struct ms_sample_shape *sh = &ps->shape;
    uint64_t t0 = now_ns();
    ms__unit_slots(plan, u, b->slots, b->slot_full);
    struct ms_slot_list sl = {b->slots, b->slot_full, u->nslots, plan->nrows,
                              opts->output_var};
    int rc = ms__sample_read_slots(f, &ps->name, sh, &sl, b->data, &b->read,
                                   err);
    uint64_t t1 = now_ns();
    b->read_ns = t1 - t0;
    b->bytes = ms__unit_stored_bytes(plan, u);
    b->compute_ns = 0;
    if (rc != 0) {
        return rc;
    }
    rc = compute_unit(f, plan, u, edges, opts, b, err);
    b->compute_ns = now_ns() - t1;
    return rc;
}

/* The partials of every owned timestep of a unit whose slots are read. */
static int
compute_unit(struct ms_file *f, const struct ms_plan *plan,
             const struct ms_unit *u, const uint32_t *edges,
             const struct ms_options *opts, struct ms_unit_buffers *b,
             struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[u->sample];
    const struct ms_sample_shape *sh = &ps->shape;
    int rc;
    struct ms_block block = {.nrows = plan->nrows, .nslots = u->nslots,
                             .N = sh->N};
    if (sh->single) {
        block.f = b->data;
    } else {
        block.d = b->data;
    }
    struct ms_nonfinite_site site = {0};
    bool skip = opts->skip_nonfinite;
    memset(b->skipped, 0, sizeof(b->skipped));
    for (size_t k = u->node_begin; k < u->node_end; k++) {
        size_t t = ms__timesteps_at(&ps->node_ts, k);
        size_t slot = slot_of(b->slots, u->nslots, t);
        size_t i = k - u->node_begin;
        rc = ms__node_features(&block, slot, opts->input_var, skip,
                               &b->scratch, b->node + i * opts->input_var,
                               &b->skipped[MS_GROUP_NODE], &site);
        if (rc != 0) {
            return feature_error(rc, f, ps, "node", t, &site, b->slots, err);
        }
        rc = ms__edge_features(&block, slot, edges, sh->E, skip, &b->scratch,
                               b->edge + i * MS_EDGE_FEATURES,
                               &b->skipped[MS_GROUP_EDGE], &site);
        if (rc != 0) {
            return feature_error(rc, f, ps, "edge", t, &site, b->slots, err);
        }
    }
    for (size_t k = u->delta_begin; k < u->delta_end; k++) {
        size_t t = ms__timesteps_at(&ps->delta_ts, k);
        size_t slot = slot_of(b->slots, u->nslots, t);
        size_t next = sh->T > 1 ? slot_of(b->slots, u->nslots, t + 1)
                                : SIZE_MAX;
        size_t i = k - u->delta_begin;
        rc = ms__delta_features(&block, slot, next, opts->output_var, skip,
                                &b->scratch, b->delta + i * opts->output_var,
                                &b->skipped[MS_GROUP_DELTA], &site);
        if (rc != 0) {
            return feature_error(rc, f, ps, "delta", t, &site, b->slots, err);
        }
    }
    return 0;
}
