/*
 * unit.c: what a worker does for one work unit.
 *
 * It reads the unit's slots (the rows of nodal_data it needs at the
 * timesteps it needs, for its nodes) into the unit's buffer, then computes
 * one partial per owned timestep and feature: node and edge partials for
 * each node timestep, delta partials for each delta timestep, in timestep
 * order.  A WHOLE unit computes all three over every node and edge of its
 * timesteps; a blocked sample's NODES unit computes node and delta
 * partials over its block of nodes and writes the block's deformed
 * positions into the shared buffer; its EDGES unit computes edge partials
 * over its block of edges from those positions.  It merges nothing:
 * folding the partials in order is the caller's job, on one thread, so
 * that the result never depends on which unit finished first.  It touches
 * only the buffers it is handed, its own slice of the shared positions and
 * the file through reader.c.
 */
#include "pass/pass.h"

#include <assert.h>
#include <math.h>
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

/* Where a computation of a unit is: its sample, the timestep, the first
 * node of its block (to name nodes by their index in the mesh) and the
 * timesteps of its slots (to name the one a bad value is in). */
struct where {
    struct ms_file *f;
    const struct ms_plan_sample *ps;
    size_t t, first;
    const size_t *slots;
};

static int
feature_error(int rc, const struct where *w, const char *group,
              const struct ms_nonfinite_site *site, struct ms_error *err)
{
    const char *path = ms__file_path(w->f);
    long long id = (long long)w->ps->name.id;
    if (rc == MS_ENOMEM) { /* (a sketch's room) */
        return ms__error_set(err, rc, "%s: out of memory", path);
    }
    const char *name = w->ps->name.name;
    if (rc == MS_ENONFINITE && site->row >= MS_SITE_POSITION + 3) {
        return ms__error_set(
            err, rc,
            "%s: sample %lld: data/%s/nodal_data: non-finite reference "
            "position %g at feature row %zu, timestep %zu, node %zu (used "
            "by the reference edge features of edge_var 8; "
            "--skip-nonfinite leaves such edges out)",
            path, id, name, site->value,
            MS_ROW_POSITION + site->row - MS_SITE_POSITION - 3, w->t,
            site->node);
    }
    if (rc == MS_ENONFINITE && site->row >= MS_SITE_POSITION) {
        size_t c = site->row - MS_SITE_POSITION;
        return ms__error_set(
            err, rc,
            "%s: sample %lld: data/%s/nodal_data: non-finite deformed "
            "position %g (feature rows %zu + %zu), timestep %zu, node %zu "
            "(used by the edge features; --skip-nonfinite leaves such "
            "edges out)",
            path, id, name, site->value, MS_ROW_POSITION + c,
            MS_ROW_DISPLACEMENT + c, w->t, site->node);
    }
    if (rc == MS_ENONFINITE) {
        return ms__error_set(
            err, rc,
            "%s: sample %lld: data/%s/nodal_data: non-finite value %g at "
            "feature row %zu, timestep %zu, node %zu (used by the %s "
            "features; --skip-nonfinite leaves such rows out)",
            path, id, name, site->value, site->row, w->slots[site->slot],
            w->first + site->node, group);
    }
    return ms__error_set(err, rc,
                         "%s: sample %lld: data/%s/nodal_data: the %s "
                         "features at timestep %zu overflow double precision",
                         path, id, name, group, w->t);
}

/* The block the unit read (its nodes, its slots). */
static struct ms_block
unit_block(const struct ms_plan *plan, const struct ms_unit *u,
           const struct ms_unit_buffers *b)
{
    struct ms_block block = {.nrows = plan->nrows, .nslots = u->nslots,
                             .N = u->count, .stride = u->count};
    if (plan->samples[u->sample].shape.single) {
        block.f = b->data;
    } else {
        block.d = b->data;
    }
    return block;
}

/* A WHOLE unit's edge error: where the position came from, in the rows
 * it holds (a row of the block rather than a coordinate). */
static void
locate_in_rows(const struct ms_block *block, size_t slot,
               struct ms_nonfinite_site *site)
{
    if (site->row < MS_SITE_POSITION || site->row >= MS_SITE_POSITION + 3) {
        return; /* a row already, or a reference position: its own row */
    }
    size_t c = site->row - MS_SITE_POSITION, n = site->node;
    size_t rows[2] = {MS_ROW_POSITION + c, MS_ROW_DISPLACEMENT + c};
    for (int i = 0; i < 2; i++) {
        double v = ms_row_at(ms_block_row(block, rows[i], slot), n);
        if (!isfinite(v)) {
            *site = (struct ms_nonfinite_site){rows[i], slot, n, v};
            return;
        }
    }
}

/* The view of node block i of a unit's rows (its last may be short). */
static struct ms_block
block_view(const struct ms_block *all, size_t i)
{
    struct ms_block v = *all;
    size_t o = i * MS_NODE_BLOCK;
    v.N = all->N - o < MS_NODE_BLOCK ? all->N - o : MS_NODE_BLOCK;
    v.f = all->f != NULL ? all->f + o : NULL;
    v.d = all->d != NULL ? all->d + o : NULL;
    return v;
}

/* Node and delta partials of the unit's owned timesteps over node block
 * i of its nodes (all of them for a WHOLE unit). */
static int
block_partials(struct where *w, const struct ms_unit *u,
               const struct ms_block *block, size_t i, size_t nf,
               const struct ms_options *opts, struct ms_unit_buffers *b,
               struct ms_error *err)
{
    const struct ms_plan_sample *ps = w->ps;
    size_t nnode = u->node_end - u->node_begin;
    size_t ndelta = u->delta_end - u->delta_begin;
    struct ms_nonfinite_site site = {0};
    bool skip = opts->skip_nonfinite;
    w->first = u->first + i * MS_NODE_BLOCK;
    for (size_t k = u->node_begin; k < u->node_end; k++) {
        w->t = ms__timesteps_at(&ps->node_ts, k);
        size_t slot = slot_of(b->slots, u->nslots, w->t);
        size_t r = i * nnode + (k - u->node_begin);
        int rc = ms__node_record(block, slot, ps->shape.T == 1,
                                 opts->input_var, nf, skip, &b->scratch,
                                 b->node + r * nf, &b->skipped[MS_GROUP_NODE],
                                 &site);
        if (rc != 0) {
            return feature_error(rc, w, "node", &site, err);
        }
    }
    for (size_t k = u->delta_begin; k < u->delta_end; k++) {
        w->t = ms__timesteps_at(&ps->delta_ts, k);
        size_t slot = slot_of(b->slots, u->nslots, w->t);
        size_t next = ps->shape.T > 1 ? slot_of(b->slots, u->nslots, w->t + 1)
                                      : SIZE_MAX;
        size_t r = i * ndelta + (k - u->delta_begin);
        int rc = ms__delta_features(block, slot, next, opts->output_var,
                                    skip, &b->scratch,
                                    b->delta + r * opts->output_var,
                                    &b->skipped[MS_GROUP_DELTA], &site);
        if (rc != 0) {
            return feature_error(rc, w, "delta", &site, err);
        }
    }
    return 0;
}

/* The positions of a timestep larger than this (24 bytes a node, 48 with
 * the reference ones) do not stay in the cache from the NODES units that
 * write them to the EDGES units that read them (about 8 MB of the L3
 * behaves as this process's share on the project's machine:
 * docs/performance.md). */
#define MS_STREAM_POSITIONS_BYTES (8u << 20)

/* A NODES unit's positions at slot into the shared buffer(s): node n at
 * its place in the sample's order (edge_order.h). */
static void
place_positions(const struct ms_block *all, size_t slot,
                const struct ms_plan_sample *ps, const struct ms_unit *u,
                const struct ms_plan *plan,
                const struct ms_unit_shared *shared,
                const struct ms_options *opts)
{
    const struct ms_edge_order *o = shared->order;
    double *pos = shared->pos, *ref = pos + 3 * plan->pos_nodes;
    bool twice = opts->edge_var > MS_EDGE_FEATURES;
    /* One timestep: the deformed mesh is the reference one. */
    if (o->renumbered) {
        const uint32_t *place = o->perm + u->first;
        ms__positions_placed(all, slot, ps->shape.T == 1, place, pos);
        if (twice) {
            ms__positions_placed(all, slot, true, place, ref);
        }
        return;
    }
    /* Beyond the cache, the buffer is written around it: the EDGES units
     * read it only once every NODES unit of the timestep is done.  (Both
     * halves 16-byte aligned: u->first is a multiple of MS_NODE_BLOCK and
     * pos_nodes even, ms__pos_buffer_nodes.) */
    size_t bytes = 3 * sizeof(double) * ps->shape.N * (twice ? 2 : 1);
    bool around = bytes > MS_STREAM_POSITIONS_BYTES;
    assert(!around || ((uintptr_t)(pos + 3 * u->first) % 16 == 0 &&
                       (uintptr_t)(ref + 3 * u->first) % 16 == 0));
    void (*store)(const struct ms_block *, size_t, bool, double *) =
        around ? ms__positions_streamed : ms__positions;
    store(all, slot, ps->shape.T == 1, pos + 3 * u->first);
    if (twice) {
        store(all, slot, true, ref + 3 * u->first);
    }
}

/* Node and delta partials of the unit's owned timesteps, block by block;
 * and, for a NODES unit of a mesh with edges, the positions of its
 * nodes. */
static int
compute_nodes(struct where *w, const struct ms_plan *plan,
              const struct ms_unit *u, const struct ms_unit_shared *shared,
              const struct ms_options *opts, struct ms_unit_buffers *b,
              struct ms_error *err)
{
    struct ms_block all = unit_block(plan, u, b);
    for (size_t i = 0; i < u->nblocks; i++) {
        struct ms_block block = u->nblocks > 1 ? block_view(&all, i) : all;
        int rc = block_partials(w, u, &block, i, plan->nfeat[MS_GROUP_NODE],
                                opts, b, err);
        if (rc != 0) {
            return rc;
        }
    }
    w->first = u->first;
    if (u->kind == MS_UNIT_NODES && w->ps->shape.E > 0 &&
        u->node_end > u->node_begin) {
        size_t t = ms__timesteps_at(&w->ps->node_ts, u->node_begin);
        place_positions(&all, slot_of(b->slots, u->nslots, t), w->ps, u,
                        plan, shared, opts);
    }
    return 0;
}

/* Edge partials of each node timestep of a WHOLE unit: its positions from
 * the rows it read, then every edge. */
static int
compute_whole_edges(struct where *w, const struct ms_plan *plan,
                    const struct ms_unit *u, const uint32_t *edges,
                    const struct ms_options *opts, struct ms_unit_buffers *b,
                    struct ms_error *err)
{
    const struct ms_plan_sample *ps = w->ps;
    size_t E = ps->shape.E, N = ps->shape.N;
    struct ms_block block = unit_block(plan, u, b);
    struct ms_nonfinite_site site = {0};
    double *pos = b->scratch.pos;
    double *ref = opts->edge_var > MS_EDGE_FEATURES ? pos + 3 * N : NULL;
    for (size_t k = u->node_begin; k < u->node_end; k++) {
        w->t = ms__timesteps_at(&ps->node_ts, k);
        size_t slot = slot_of(b->slots, u->nslots, w->t);
        ms__positions(&block, slot, ps->shape.T == 1, pos);
        if (ref != NULL) {
            ms__positions(&block, slot, true, ref);
        }
        int rc = ms__edge_features(pos, ref, edges, edges + E, E,
                                   opts->skip_nonfinite, &b->scratch,
                                   b->edge + (k - u->node_begin) *
                                                 opts->edge_var,
                                   &b->skipped[MS_GROUP_EDGE], &site);
        if (rc != 0) {
            locate_in_rows(&block, slot, &site);
            return feature_error(rc, w, "edge", &site, err);
        }
    }
    return 0;
}

/* Edge partials of an EDGES unit: its block of edges (a placed list's, each
 * from its lower node to its higher, edge_order.h; or from the kept list,
 * or read now), from the positions its timestep's NODES units wrote; the
 * same partial for each of the timestep's node entries. */
static int
compute_edge_block(struct where *w, const struct ms_plan *plan,
                   const struct ms_unit *u,
                   const struct ms_unit_shared *shared,
                   const struct ms_options *opts, struct ms_unit_buffers *b,
                   struct ms_error *err)
{
    const struct ms_plan_sample *ps = w->ps;
    uint32_t *from = b->data, *to = from + u->count;
    if (ps->placed) {
        ms__order_lower(shared->order, u->first, u->count, from);
        to = shared->order->high + u->first;
    } else if (shared->edges != NULL) {
        from = shared->edges + u->first;
        to = shared->edges + ps->shape.E + u->first;
    } else {
        int rc = ms__sample_read_edges(w->f, &ps->name, &ps->shape, u->first,
                                       u->count, from, to, err);
        if (rc != 0) {
            return rc;
        }
    }
    w->t = ms__timesteps_at(&ps->node_ts, u->node_begin);
    struct ms_nonfinite_site site = {0};
    const double *ref = opts->edge_var > MS_EDGE_FEATURES
                            ? shared->pos + 3 * plan->pos_nodes
                            : NULL;
    int rc = ms__edge_features(shared->pos, ref, from, to, u->count,
                               opts->skip_nonfinite, &b->scratch, b->edge,
                               &b->skipped[MS_GROUP_EDGE], &site);
    if (rc != 0) {
        site.node = ms__order_node(shared->order, site.node);
        return feature_error(rc, w, "edge", &site, err);
    }
    /* A timestep sampled twice counts twice, as in a WHOLE unit. */
    size_t nnode = u->node_end - u->node_begin;
    for (size_t i = 1; i < nnode; i++) {
        memcpy(b->edge + i * opts->edge_var, b->edge,
               opts->edge_var * sizeof(*b->edge));
    }
    b->skipped[MS_GROUP_EDGE] *= nnode;
    return 0;
}

/* A trajectory's failure at frame w->t: the field and component a
 * non-finite value is in, or the group whose moments overflow. */
static int
frame_error(int rc, const struct where *w, const struct ms_model *m,
            enum ms_group_kind g, const struct ms_nonfinite_site *site,
            struct ms_error *err)
{
    const char *path = ms__file_path(w->f), *name = w->ps->name.name;
    long long id = (long long)w->ps->name.id;
    const char *group = g == MS_GROUP_DELTA ? "output" : ms_group_name(g);
    if (rc != MS_ENONFINITE) {
        return ms__error_set(err, rc,
                             "%s: sample %lld: %s: the %s features at frame "
                             "%zu overflow double precision",
                             path, id, name, group, w->t);
    }
    enum ms_field field = MS_FIELD_WORLD_POS;
    size_t comp = 0, frame = w->t;
    if (site->row >= MS_SITE_POSITION + 3) {
        field = MS_FIELD_MESH_POS;
        comp = site->row - MS_SITE_POSITION - 3;
        frame = 0;
    } else if (site->row >= MS_SITE_POSITION) {
        comp = site->row - MS_SITE_POSITION;
    } else {
        ms__model_row_source(m, site->row, &field, &comp);
        frame = w->slots[site->slot];
    }
    const char *leaf = w->ps->shape.field[field].leaf;
    return ms__error_set(
        err, rc,
        "%s: sample %lld: %s/%s: non-finite value %g at frame %zu, node %zu, "
        "component %zu (used by the %s features; --skip-nonfinite leaves "
        "such %s out)",
        path, id, name, leaf[0] ? leaf : ms__field_name(field), site->value,
        frame, site->node, comp, group, g == MS_GROUP_EDGE ? "edges" : "nodes");
}

/* A trajectory unit: every model feature of each of its frames, from the
 * frame and its neighbours and the trajectory's statics. */
static int
compute_frames(struct where *w, const struct ms_plan *plan,
               const struct ms_unit *u, const struct ms_unit_shared *shared,
               const struct ms_options *opts, struct ms_unit_buffers *b,
               struct ms_error *err)
{
    const struct ms_plan_sample *ps = w->ps;
    const size_t *nf = plan->nfeat;
    size_t E = ps->shape.E;
    struct ms_block block = unit_block(plan, u, b);
    struct ms_frame fr = {&block, 0, 0, 0, shared->statics, shared->edges,
                          shared->edges + E, E};
    for (size_t k = u->node_begin; k < u->node_end; k++) {
        w->t = ms__timesteps_at(&ps->node_ts, k);
        fr.prev = slot_of(b->slots, u->nslots, w->t - 1);
        fr.cur = slot_of(b->slots, u->nslots, w->t);
        fr.next = slot_of(b->slots, u->nslots, w->t + 1);
        size_t r = k - u->node_begin;
        enum ms_group_kind g;
        struct ms_nonfinite_site site = {0};
        int rc = ms__model_frame(plan->model, &fr, opts->skip_nonfinite,
                                 &b->scratch, b->node + r * nf[MS_GROUP_NODE],
                                 b->edge + r * nf[MS_GROUP_EDGE],
                                 b->delta + r * nf[MS_GROUP_DELTA], b->skipped,
                                 &g, &site);
        if (rc != 0) {
            return frame_error(rc, w, plan->model, g, &site, err);
        }
    }
    return 0;
}

int
ms__unit_sample_start(struct ms_file *f, const struct ms_plan *plan,
                      size_t sample, const struct ms_place_part *placing,
                      const struct ms_unit_shared *shared,
                      const struct ms_options *opts,
                      struct ms_unit_buffers *b, struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[sample];
    size_t E = ps->shape.E, got = 0;
    uint32_t *edges = shared->edges;
    ms__unit_sketches_clear(b);
    struct ms_trajectory_statics *st = shared->statics;
    if (placing != NULL) {
        return ms__edge_order_place(f, plan, sample, placing, shared, b, err);
    }
    if (!plan->model->trajectory) {
        /* Read and checked (a large mesh's: its numbering decided). */
        int rc = ps->blocked
                     ? ms__edge_order_start(f, plan, sample, shared->order,
                                            opts, b, err)
                     : ms__sample_read_edges(f, &ps->name, &ps->shape, 0,
                                             E, edges, edges + E, err);
        if (rc == 0 && plan->positional > 0) {
            bool whole = !ps->blocked; /* just read */
            rc = ms__positional_start(f, plan, sample,
                                      whole ? edges : NULL,
                                      whole ? edges + E : NULL, opts, b, err);
        }
        return rc;
    }
    int rc = ms__trajectory_read_statics(f, &ps->name, &ps->shape,
                                         st->mesh_pos, st->node_type, edges,
                                         edges + E, &got, err);
    if (rc == 0 && got != E) {
        return ms__error_set(err, MS_EIO,
                             "%s: sample %lld: %s/cells: %zu edges where "
                             "%zu were counted: the file changed during the "
                             "pass",
                             ms__file_path(f), (long long)ps->name.id,
                             ps->name.name, got, E);
    }
    struct ms_nonfinite_site site = {0};
    if (rc == 0) {
        rc = ms__model_statics(st, ps->shape.N, edges, edges + E, E,
                               opts->skip_nonfinite, &b->scratch, &site);
    }
    if (rc == MS_ENONFINITE || rc == MS_EOVERFLOW) {
        struct where w = {f, ps, 0, 0, b->slots};
        return frame_error(rc, &w, plan->model, MS_GROUP_EDGE, &site, err);
    }
    return rc;
}

/* Read the unit's slots, over its nodes, into b. */
static int
read_unit(struct ms_file *f, const struct ms_plan *plan,
          const struct ms_unit *u, const struct ms_options *opts,
          struct ms_unit_buffers *b, struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[u->sample];
    ms__unit_slots(plan, u, b->slots, b->slot_full);
    struct ms_slot_list sl = {b->slots, b->slot_full, u->nslots, plan->nrows,
                              opts->output_var, u->first, u->count};
    if (plan->model->trajectory) {
        return ms__trajectory_read_frames(f, &ps->name, &ps->shape,
                                          plan->model, &sl, b->data,
                                          &b->read, err);
    }
    return ms__sample_read_slots(f, &ps->name, &ps->shape, &sl, b->data,
                                 &b->read, err);
}

int
ms__unit_run(struct ms_file *f, const struct ms_plan *plan,
             const struct ms_unit *u, const struct ms_unit_shared *shared,
             const struct ms_options *opts, struct ms_unit_buffers *b,
             struct ms_error *err)
{
    uint64_t t0 = now_ns();
    ms__unit_sketches_clear(b);
    int rc = u->nslots > 0 ? read_unit(f, plan, u, opts, b, err) : 0;
    uint64_t t1 = now_ns();
    b->read_ns = t1 - t0;
    b->bytes = ms__unit_stored_bytes(plan, u);
    memset(b->skipped, 0, sizeof(b->skipped));
    struct where w = {f, &plan->samples[u->sample], 0, u->first, b->slots};
    if (rc == 0 && plan->model->trajectory) {
        rc = compute_frames(&w, plan, u, shared, opts, b, err);
        b->compute_ns = now_ns() - t1;
        return rc;
    }
    if (rc == 0 && u->kind == MS_UNIT_EDGES) {
        rc = compute_edge_block(&w, plan, u, shared, opts, b, err);
    } else if (rc == 0) {
        rc = compute_nodes(&w, plan, u, shared, opts, b, err);
    }
    if (rc == 0 && u->kind == MS_UNIT_WHOLE) {
        rc = compute_whole_edges(&w, plan, u, shared->edges, opts, b, err);
    }
    b->compute_ns = now_ns() - t1;
    return rc;
}

/* The moments a task brings into acc; false for a sample's first task
 * (u NULL) that brings none. */
static bool
fold_moments(struct ms_accumulator *acc, const struct ms_plan *plan,
             const struct ms_unit *u, const struct ms_unit_buffers *b)
{
    if (u == NULL) {
        /* its positional features, counted at every node timestep
         * (positional_start.c) */
        bool any = plan->positional > 0 && !plan->model->trajectory;
        ms__accumulator_fold(acc, MS_GROUP_NODE, b->node, any ? 1 : 0, 0);
        return any;
    }
    /* A NODES unit brings node and delta partials, an EDGES unit edge
     * partials, a WHOLE unit all three. */
    size_t nnode = u->node_end - u->node_begin;
    size_t ndelta = u->delta_end - u->delta_begin;
    bool nodes = u->kind != MS_UNIT_EDGES, edges = u->kind != MS_UNIT_NODES;
    ms__accumulator_fold(acc, MS_GROUP_NODE, b->node,
                         nodes ? nnode * u->nblocks : 0,
                         b->skipped[MS_GROUP_NODE]);
    ms__accumulator_fold(acc, MS_GROUP_EDGE, b->edge, edges ? nnode : 0,
                         b->skipped[MS_GROUP_EDGE]);
    ms__accumulator_fold(acc, MS_GROUP_DELTA, b->delta,
                         nodes ? ndelta * u->nblocks : 0,
                         b->skipped[MS_GROUP_DELTA]);
    return true;
}

int
ms__unit_fold(struct ms_accumulator *acc, const struct ms_plan *plan,
              const struct ms_unit *u, const struct ms_unit_buffers *b)
{
    bool brought = fold_moments(acc, plan, u, b);
    return brought && b->nfeat != NULL
               ? ms__accumulator_count(acc, b->scratch.sketch)
               : 0;
}

int
ms__unit_report(struct ms_stats *stats, const struct ms_plan_sample *ps,
                const struct ms_accumulator *acc)
{
    return ms__stats_add_report(stats, ps->name.id, ps->shape.N, ps->shape.E,
                                ps->node_ts.count, acc);
}
