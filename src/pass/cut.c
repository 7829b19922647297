/*
 * cut.c: a sample's timesteps cut into work units (and a plan's samples,
 * once its memory limit is shared out: ms__plan_cut).
 *
 * A unit reads its slots: the timesteps it owns and, for a delta timestep,
 * its successor (a trajectory's frame t: t - 1, t and t + 1).  A sample whose mesh fits one block (at most MS_NODE_BLOCK
 * nodes and MS_EDGE_BLOCK edges) is cut into WHOLE units: runs of owned
 * timesteps whose slots fit the unit's share of the memory limit, each
 * computing every feature of its timesteps.  A timestep that is both the
 * last one a unit reads for a delta and the first one the next unit owns
 * is read twice.
 *
 * A larger mesh is blocked: each owned timestep becomes NODES units, one
 * per block of MS_NODE_BLOCK nodes, which compute the node and delta
 * partials of their nodes and write their deformed positions into one of
 * the pass's position buffers, then EDGES units, one per block of
 * MS_EDGE_BLOCK edges, which compute the edge partials from those
 * positions.  So nothing a unit holds grows with the mesh; what does (the
 * positions, and the edge list when it is kept) is the pipeline's, sized
 * by budget.c.
 *
 * Where the cuts fall changes nothing in the result: the block sizes are
 * constants, partials are kept per timestep and block and folded in order
 * (stats.c), and the run length of WHOLE units only groups timesteps.
 */
#include "pass/pass.h"

#include <assert.h>

/* Walks a sample's owned timesteps in order, counting the slots each one
 * adds to the current unit. */
struct slot_walk {
    const struct ms_plan_sample *ps;
    size_t ni, di;     /* next node / delta index */
    size_t nj, dj;     /* end of the current timestep's entries */
    size_t t;          /* the current owned timestep */
    bool has_last;
    size_t last;       /* the highest slot of the current unit */
};

/* Advance to the next owned timestep; false when there is none. */
static bool
walk_next(struct slot_walk *w)
{
    const struct ms_plan_sample *ps = w->ps;
    w->ni = w->nj;
    w->di = w->dj;
    bool more_n = w->ni < ps->node_ts.count;
    bool more_d = w->di < ps->delta_ts.count;
    if (!more_n && !more_d) {
        return false;
    }
    size_t tn = more_n ? ms__timesteps_at(&ps->node_ts, w->ni) : SIZE_MAX;
    size_t td = more_d ? ms__timesteps_at(&ps->delta_ts, w->di) : SIZE_MAX;
    w->t = tn < td ? tn : td;
    while (w->nj < ps->node_ts.count &&
           ms__timesteps_at(&ps->node_ts, w->nj) == w->t) {
        w->nj++;
    }
    while (w->dj < ps->delta_ts.count &&
           ms__timesteps_at(&ps->delta_ts, w->dj) == w->t) {
        w->dj++;
    }
    return true;
}

/* The timesteps the current one needs read, [*lo, *hi]: itself, and its
 * successor for a delta (nodal layout); a trajectory frame t needs t - 1,
 * t and t + 1 for every group. */
static void
walk_reach(const struct slot_walk *w, size_t *lo, size_t *hi)
{
    const struct ms_sample_shape *sh = &w->ps->shape;
    bool frames = sh->layout == MS_LAYOUT_TRAJECTORY;
    bool delta = w->dj > w->di;
    *lo = frames ? w->t - 1 : w->t;
    *hi = frames || (delta && sh->T > 1) ? w->t + 1 : w->t;
}

/* The slots the current timestep adds (those of its reach above the
 * unit's highest slot); updates the highest slot. */
static size_t
walk_take(struct slot_walk *w)
{
    size_t lo, hi;
    walk_reach(w, &lo, &hi);
    if (w->has_last && lo <= w->last) {
        lo = w->last + 1;
    }
    if (hi < lo) {
        return 0;
    }
    w->last = hi;
    w->has_last = true;
    return hi - lo + 1;
}

static size_t
walk_cost(const struct slot_walk *w)
{
    struct slot_walk probe = *w;
    return walk_take(&probe);
}

static size_t
max_of(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* The bytes a unit's buffer holds: rows x slots x its nodes of
 * nodal_data, as read (float32 stays float), or an EDGES unit's block of
 * edges (none from a list kept as stored).  Within the memory limit: no
 * overflow. */
static size_t
data_bytes(const struct ms_plan *plan, const struct ms_unit *u)
{
    const struct ms_plan_sample *ps = &plan->samples[u->sample];
    const struct ms_sample_shape *sh = &ps->shape;
    if (u->kind == MS_UNIT_EDGES) {
        return plan->keep_edges && !ps->placed ? 0
                                               : ms__unit_edge_bytes(sh->E);
    }
    return plan->nrows * u->nslots * u->count *
           (sh->single ? sizeof(float) : sizeof(double));
}

static int
push_unit(struct ms_plan *plan, size_t *cap, const struct ms_unit *u)
{
    if (plan->nunits == *cap) {
        size_t grown = *cap ? 2 * *cap : 256;
        void *p = ms__reallocarray(plan->units, grown, sizeof(*plan->units));
        if (p == NULL) {
            return MS_ENOMEM;
        }
        plan->units = p;
        *cap = grown;
    }
    plan->units[plan->nunits++] = *u;
    plan->max_slots = max_of(plan->max_slots, u->nslots);
    plan->max_data_bytes = max_of(plan->max_data_bytes, data_bytes(plan, u));
    plan->max_node_records = max_of(plan->max_node_records,
                                    (u->node_end - u->node_begin) * u->nblocks);
    plan->max_delta_records =
        max_of(plan->max_delta_records,
               (u->delta_end - u->delta_begin) * u->nblocks);
    plan->max_rows = max_of(plan->max_rows, u->count);
    return 0;
}

/* Cut a sample that fits one block into WHOLE units of at most max_slots
 * slots. */
static int
cut_whole(struct ms_plan *plan, size_t s, size_t max_slots, size_t *cap)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    struct slot_walk w = {.ps = ps};
    struct ms_unit u = {.kind = MS_UNIT_WHOLE, .sample = s,
                        .count = ps->shape.N, .nblocks = 1};
    while (walk_next(&w)) {
        if (u.nslots > 0 && u.nslots + walk_cost(&w) > max_slots) {
            u.node_end = w.ni;
            u.delta_end = w.di;
            if (push_unit(plan, cap, &u) != 0) {
                return MS_ENOMEM;
            }
            u = (struct ms_unit){.kind = MS_UNIT_WHOLE, .sample = s,
                                 .node_begin = w.ni, .delta_begin = w.di,
                                 .count = ps->shape.N, .nblocks = 1};
            w.has_last = false;
        }
        u.nslots += walk_take(&w);
    }
    if (u.nslots > 0) {
        u.node_end = w.nj;
        u.delta_end = w.dj;
        if (push_unit(plan, cap, &u) != 0) {
            return MS_ENOMEM;
        }
    }
    plan->max_rows = max_of(plan->max_rows, ps->shape.E);
    plan->max_pos_nodes = max_of(plan->max_pos_nodes, ps->shape.N);
    return 0;
}

/* The units of one owned timestep of a blocked sample: NODES units over
 * runs of plan->node_blocks node blocks, then, if it is a node timestep of
 * a mesh with edges, EDGES units over the edge blocks, sharing position
 * buffer pos. */
static int
cut_timestep(struct ms_plan *plan, size_t s, const struct slot_walk *w,
             unsigned pos, size_t *cap)
{
    const struct ms_sample_shape *sh = &plan->samples[s].shape;
    struct ms_unit u = {.sample = s, .node_begin = w->ni, .node_end = w->nj,
                        .delta_begin = w->di, .delta_end = w->dj,
                        .pos = pos};
    bool node = w->nj > w->ni, delta = w->dj > w->di;
    u.kind = MS_UNIT_NODES;
    u.nslots = 1 + (delta && sh->T > 1);
    size_t run = plan->node_blocks * MS_NODE_BLOCK;
    for (size_t n0 = 0; n0 < sh->N; n0 += run) {
        u.first = n0;
        u.count = sh->N - n0 < run ? sh->N - n0 : run;
        u.nblocks = (u.count + MS_NODE_BLOCK - 1) / MS_NODE_BLOCK;
        if (push_unit(plan, cap, &u) != 0) {
            return MS_ENOMEM;
        }
    }
    if (!node || sh->E == 0) {
        return 0;
    }
    u.kind = MS_UNIT_EDGES;
    u.nslots = 0;
    u.nblocks = 1;
    u.delta_begin = u.delta_end = w->di;
    for (size_t e0 = 0; e0 < sh->E; e0 += MS_EDGE_BLOCK) {
        u.first = e0;
        u.count = sh->E - e0 < MS_EDGE_BLOCK ? sh->E - e0 : MS_EDGE_BLOCK;
        if (push_unit(plan, cap, &u) != 0) {
            return MS_ENOMEM;
        }
    }
    return 0;
}

/* Cut a blocked sample, one owned timestep at a time; the node timesteps
 * with edges take the position buffers in turn. */
static int
cut_blocked(struct ms_plan *plan, size_t s, size_t *cap)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    struct slot_walk w = {.ps = ps};
    size_t with_positions = 0;
    while (walk_next(&w)) {
        unsigned pos = (unsigned)(with_positions % plan->npos);
        if (cut_timestep(plan, s, &w, pos, cap) != 0) {
            return MS_ENOMEM;
        }
        with_positions += w.nj > w.ni && ps->shape.E > 0;
    }
    return 0;
}

int
ms__cut_sample(struct ms_plan *plan, size_t s, size_t max_slots, size_t *cap)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    ps->first_unit = plan->nunits;
    int rc = ps->blocked ? cut_blocked(plan, s, cap)
                         : cut_whole(plan, s, max_slots, cap);
    ps->nunits = plan->nunits - ps->first_unit;
    return rc;
}

size_t
ms__unit_stored_bytes(const struct ms_plan *plan, const struct ms_unit *u)
{
    /* Within the memory limit, so the product cannot overflow. */
    const struct ms_sample_shape *sh = &plan->samples[u->sample].shape;
    size_t nodes = u->kind == MS_UNIT_EDGES ? 0 : u->count;
    return plan->nrows * u->nslots * nodes * sh->elem_size;
}

void
ms__unit_slots(const struct ms_plan *plan, const struct ms_unit *u,
               size_t *slots, unsigned char *full)
{
    const struct ms_plan_sample *ps = &plan->samples[u->sample];
    struct slot_walk w = {
        .ps = ps, .nj = u->node_begin, .dj = u->delta_begin};
    size_t n = 0;
    bool frames = ps->shape.layout == MS_LAYOUT_TRAJECTORY;
    /* The same slots walk_take counts, plus whether each is a node
     * timestep (every row) or only a delta's successor (the displacement
     * rows); a trajectory's frames need every row. */
    while ((w.nj < u->node_end || w.dj < u->delta_end) && walk_next(&w)) {
        bool node = w.nj > w.ni;
        size_t lo, hi;
        walk_reach(&w, &lo, &hi);
        if (!frames && node && n > 0 && slots[n - 1] == w.t) {
            full[n - 1] = 1; /* a successor that is also a node timestep */
        }
        for (size_t t = n > 0 && slots[n - 1] >= lo ? slots[n - 1] + 1 : lo;
             t <= hi; t++) {
            slots[n] = t;
            full[n++] = frames || (t == w.t && node);
        }
    }
    assert(n == u->nslots);
}

/* The largest chunk and blocked mesh among the good samples of this
 * process. */
static void
plan_maxima(struct ms_plan *plan)
{
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        if (ps->bad || ps->elsewhere) {
            continue;
        }
        const size_t *c = ps->shape.chunk;
        plan->max_chunk_bytes =
            max_of(plan->max_chunk_bytes, c[0] * c[1] * c[2] * sizeof(float));
        if (ps->blocked) {
            plan->pos_nodes =
                max_of(plan->pos_nodes, ms__pos_buffer_nodes(ps->shape.N));
        }
    }
}

/* (pass.h) The memory limit shared out (or as like shared it), then
 * every good sample cut. */
int
ms__plan_cut(struct ms_plan *plan, const struct ms_plan *like,
             const struct ms_options *opts, const char *path,
             struct ms_error *err)
{
    plan_maxima(plan);
    int rc = like == NULL ? ms__budget_share(plan, opts, path, err) : 0;
    if (like != NULL) {
        plan->prefetch = like->prefetch;
        plan->share = like->share;
        plan->npos = like->npos;
        plan->keep_edges = like->keep_edges;
        plan->node_blocks = like->node_blocks;
    }
    size_t cap = 0;
    for (size_t s = 0; rc == 0 && s < plan->nsamples; s++) {
        struct ms_plan_sample *ps = &plan->samples[s];
        if (ps->bad) {
            continue; /* (another process's too: progress counts them) */
        }
        size_t max_slots = ps->blocked ? 0
                                       : ms__budget_max_slots(plan, ps, opts);
        if (ms__cut_sample(plan, s, max_slots, &cap) != 0) {
            rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        }
    }
    if (plan->pos_nodes > 0) {
        /* (a blocked sample's first tasks read its edges by blocks, and
         * its reference positions in spans as long as this holds:
         * edge_order_start.c) */
        plan->max_data_bytes =
            max_of(plan->max_data_bytes, ms__order_task_bytes());
    }
    return rc;
}
