/*
 * budget.c: the memory limit shared out.
 *
 * What the pass holds at once is: prefetch units in flight, each in its
 * ring slot of share bytes (its rows, its partials, its scratch and, for a
 * WHOLE unit, its sample's edge list and positions); and, for a blocked
 * sample (a mesh larger than one block, see cut.c), the pipeline's
 * position buffers (24 bytes a node each: x, y, z in double) and the
 * sample's edge list when it is kept (8 bytes an edge).  This file decides
 * how many of each fit: two position buffers if they fit (the nodes of the
 * next timestep are then read while the edges of this one are computed),
 * else one; the edge list kept if it fits, else each EDGES unit reads its
 * block of edges; then prefetch (2 units a worker, more when every sample
 * is one small unit), lowered until every unit fits its share.
 * None of this enters the arithmetic, which the fixed block sizes decide.
 * Every size is overflow-checked; what does not fit is an error naming the
 * bytes needed and the option that raises the limit.
 */
#include "pass/pass.h"

#include <string.h>

#include <stdio.h>

/* A WHOLE unit's buffer aims at this size even when the memory limit
 * allows more: blocks stay cache-friendly, memory stays flat, and no unit
 * reads a whole long sample.  A timestep larger than this still gets a
 * unit of its own, up to the memory limit. */
#define UNIT_TARGET_BYTES (4u << 20)

/* The automatic prefetch holds two units a worker in flight, more when
 * every sample is one small unit, up to about this many bytes a worker
 * and at most MAX_AUTO_A_WORKER units: a small sample's task takes
 * microseconds, about what the loop takes to fold one and hand out the
 * next, and with more of them in flight the loop folds and hands them out
 * in batches while the workers keep busy. */
#define AUTO_BYTES_A_WORKER (2 * UNIT_TARGET_BYTES)
#define MAX_AUTO_A_WORKER 32u

/* Bytes per slot beyond the rows themselves: the slot index and the
 * per-timestep partials of every feature. */
static size_t
slot_overhead(const struct ms_plan *plan)
{
    return sizeof(size_t) +
           (plan->nfeat[MS_GROUP_NODE] + plan->nfeat[MS_GROUP_EDGE] +
            plan->nfeat[MS_GROUP_DELTA]) *
               sizeof(struct ms_moments);
}

int
ms__plan_unit_bytes(size_t nrows, size_t nslots, size_t N, size_t *out)
{
    size_t cells;
    if (ms__size_mul(nrows, nslots, &cells) != 0 ||
        ms__size_mul(cells, N, &cells) != 0 ||
        ms__size_mul(cells, sizeof(double), out) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

int
ms__plan_edge_bytes(size_t E, size_t *out)
{
    return ms__size_mul(E, 2 * sizeof(uint32_t), out);
}

/* The bytes of one chunk the workers decode (0 if they do not). */
static size_t
chunk_bytes(const struct ms_sample_shape *sh)
{
    return sh->chunk[0] * sh->chunk[1] * sh->chunk[2] * sizeof(float);
}

/* The most bytes a chunk the workers decode may hold (the codecs take
 * sizes as int). */
#define MS_MAX_DECODED_CHUNK ((size_t)1 << 30)

void
ms__budget_limit_chunks(struct ms_sample_shape *sh, uint64_t memory_limit)
{
    /* Chunks the workers would decode must be small next to the memory
     * limit (their three buffers are held per unit in flight); larger
     * ones go through H5Dread, which reads them piecewise.  A chunk may
     * be long along one axis (a row of a timestep holds every node). */
    size_t bytes = sizeof(float);
    for (int i = 0; i < 3 && sh->chunk[0] != 0; i++) {
        if (ms__size_mul(bytes, sh->chunk[i], &bytes) != 0 ||
            bytes > MS_MAX_DECODED_CHUNK) {
            sh->chunk[0] = 0;
        }
    }
    if (sh->chunk[0] != 0 && 3 * (uint64_t)bytes > memory_limit / 16) {
        sh->chunk[0] = 0;
    }
}

/* With quantiles, the sketches of one unit, or of one accumulator: a
 * sketch a feature, each counted at MS_SKETCH_BUDGET_BINADES binades a
 * sign (a feature whose values span more than 2^32 in magnitude on one
 * side holds more: docs/spec.md section 4.1). */
#define MS_SKETCH_BUDGET_BINADES 32

static size_t
sketch_set_bytes(const struct ms_plan *plan, const struct ms_options *opts)
{
    size_t n = plan->nfeat[MS_GROUP_NODE] + plan->nfeat[MS_GROUP_EDGE] +
               plan->nfeat[MS_GROUP_DELTA];
    unsigned bits = ms__sketch_bits(opts->quantile_accuracy);
    return opts->quantiles
               ? n * ms__sketch_bytes(bits, 2 * MS_SKETCH_BUDGET_BINADES)
               : 0;
}

/* The scratch of one feature computation over rows rows (the skip path's
 * and the sketches' values and mask; with quantiles and few enough rows a
 * column an edge feature: features.h), the unit's sketches and the
 * buffers of one chunk, added to *sum. */
static int
add_scratch(const struct ms_plan *plan, const struct ms_sample_shape *sh,
            const struct ms_options *opts, size_t rows, size_t *sum)
{
    size_t skip = 0;
    bool frames = sh->layout == MS_LAYOUT_TRAJECTORY; /* always columns */
    size_t cols = opts->quantiles && rows <= MS_COLUMN_EDGES
                      ? plan->nfeat[MS_GROUP_EDGE]
                      : 0;
    if (((opts->skip_nonfinite || frames || opts->quantiles) &&
         ms__size_mul((1 + cols) * sizeof(double) + 1, rows, &skip) != 0) ||
        ms__size_add(*sum, skip, sum) != 0 ||
        ms__size_add(*sum, sketch_set_bytes(plan, opts), sum) != 0 ||
        ms__size_add(*sum, 3 * chunk_bytes(sh), sum) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

int
ms__budget_statics_bytes(const struct ms_sample_shape *sh, size_t *out)
{
    /* mesh_pos (3 doubles a node, and as read), node types (a byte, and
     * as read: int64), the cells as read (int64) and their vertex pairs
     * twice (uint64, sorted into a second array), the sort's counts. */
    const struct ms_field_shape *cells = &sh->field[MS_FIELD_CELLS];
    const struct ms_field_shape *mesh = &sh->field[MS_FIELD_MESH_POS];
    size_t k = cells->F, per_node, per_cell, nodes, all;
    per_node = 3 * sizeof(double) + mesh->F * sizeof(double) + 1 +
               sizeof(int64_t) + sizeof(size_t);
    per_cell = k * sizeof(int64_t) + k * (k - 1) * sizeof(uint64_t);
    if (ms__size_mul(per_node, sh->N + 1, &nodes) != 0 ||
        ms__size_mul(per_cell, cells->count, &all) != 0 ||
        ms__size_add(all, nodes, out) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

/* The smallest unit's slots: a frame and its neighbours for a
 * trajectory, a timestep and its successor (nodal, T > 1), or one. */
static size_t
min_slots_of(const struct ms_sample_shape *sh)
{
    return sh->layout == MS_LAYOUT_TRAJECTORY ? 3 : sh->T > 1 ? 2 : 1;
}

/* A WHOLE unit's costs: fixed (the sample's edges and positions, scratch;
 * a trajectory's statics), per slot (a trajectory's frames are read as
 * stored, then transposed: twice), and its smallest unit. */
static int
whole_costs(const struct ms_plan *plan, const struct ms_sample_shape *sh,
            const struct ms_options *opts, size_t *fixed, size_t *per_slot,
            size_t *min_need)
{
    bool frames = sh->layout == MS_LAYOUT_TRAJECTORY;
    size_t edges, statics = 0, row_bytes, min_slots = min_slots_of(sh);
    size_t node = frames ? 3 * sizeof(double)
                         : 3 * sizeof(double) *
                               (opts->edge_var / MS_EDGE_FEATURES);
    if ((frames && ms__budget_statics_bytes(sh, &statics) != 0) ||
        ms__plan_edge_bytes(sh->E, &edges) != 0 ||
        ms__size_add(edges, statics, &edges) != 0 ||
        ms__size_mul(node, sh->N, fixed) != 0 ||
        ms__size_add(*fixed, edges, fixed) != 0 ||
        add_scratch(plan, sh, opts, sh->N > sh->E ? sh->N : sh->E, fixed) !=
            0 ||
        ms__plan_unit_bytes(plan->nrows, frames ? 2 : 1, sh->N,
                            &row_bytes) != 0 ||
        ms__size_add(row_bytes, slot_overhead(plan), per_slot) != 0 ||
        ms__size_mul(*per_slot, min_slots, min_need) != 0 ||
        ms__size_add(*min_need, *fixed, min_need) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

/* What a unit in flight holds for a blocked sample: the rows of a NODES
 * unit (two slots over one node block) or, in the same buffer, an EDGES
 * unit's block of edges (read, or taken from the order: none from a list
 * kept as stored), the reader's block of edges a task reads (reader.c),
 * and, for a list placed in order, the counts of the first two tasks'
 * sorts.  Constants: no overflow. */
static size_t
blocked_unit_bytes(const struct ms_plan *plan,
                   const struct ms_plan_sample *ps,
                   const struct ms_options *opts, bool keep)
{
    const struct ms_sample_shape *sh = &ps->shape;
    size_t elem = sh->single ? sizeof(float) : sizeof(double);
    size_t nodes = plan->nrows * 2 * MS_NODE_BLOCK * elem +
                   2 * slot_overhead(plan);
    size_t edges = keep && !ps->placed ? 0 : ms__unit_edge_bytes(sh->E);
    size_t first = ms__order_task_bytes();
    size_t buffer = nodes > edges ? nodes : edges;
    size_t read = sh->E < MS_EDGE_READ_BLOCK ? sh->E : MS_EDGE_READ_BLOCK;
    size_t counts = !ps->placed ? 0
                    : (((size_t)1 << MS_ORDER_DIGIT) + 1) * sizeof(uint32_t) +
                          (((size_t)1 << MS_ORDER_SHIFT) + 1) *
                              sizeof(uint32_t);
    size_t need = (buffer > first ? buffer : first) +
                  (2 * read + 1) * sizeof(int64_t) + counts +
                  2 * slot_overhead(plan);
    add_scratch(plan, sh, opts,
                MS_NODE_BLOCK > MS_EDGE_BLOCK ? MS_NODE_BLOCK : MS_EDGE_BLOCK,
                &need);
    return need;
}

/* What a blocked sample holds beside its units: npos position buffers
 * (deformed positions, and reference ones for edge_var 8) and its edge
 * order; kept, its list placed in the order or as stored.  (Its segments
 * are sorted through the placing task's own buffer, which holds an EDGES
 * unit's block, never less than ms__order_sort_bytes.) */
static int
blocked_reserve(const struct ms_plan_sample *ps, unsigned npos,
                bool keep_edges, unsigned edge_var, size_t *out)
{
    const struct ms_sample_shape *sh = &ps->shape;
    size_t pos, list = 0, placed = keep_edges && ps->placed;
    size_t edges = ms__order_bytes(sh->N, sh->E, placed);
    size_t node = 3 * sizeof(double) * (edge_var / MS_EDGE_FEATURES);
    if (ms__size_mul(node * npos, ms__pos_buffer_nodes(sh->N), &pos) != 0 ||
        edges == 0 ||
        (keep_edges && !ps->placed &&
         ms__plan_edge_bytes(sh->E, &list) != 0) ||
        ms__size_add(pos, edges, out) != 0 ||
        ms__size_add(*out, list, out) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

/* A sample's smallest unit, what it reserves, and the bytes of one unit
 * that reads all of it (SIZE_MAX for a blocked sample), for one choice of
 * position buffers and edge keeping. */
static int
sample_needs(const struct ms_plan *plan, const struct ms_plan_sample *ps,
             const struct ms_options *opts, unsigned npos, bool keep,
             size_t *unit, size_t *reserve, size_t *whole)
{
    size_t fixed, per_slot;
    *reserve = 0;
    *whole = SIZE_MAX;
    if (!ps->blocked) {
        int rc = whole_costs(plan, &ps->shape, opts, &fixed, &per_slot,
                             unit);
        /* (the timesteps read: each node one, each delta one and its
         * successor, at most all of them) */
        size_t slots = ps->node_ts.count + 2 * ps->delta_ts.count, w;
        slots = slots < ps->shape.T ? slots : ps->shape.T;
        if (rc == 0 && ms__size_mul(per_slot, slots, &w) == 0 &&
            ms__size_add(w, fixed, &w) == 0) {
            *whole = w;
        }
        return rc;
    }
    *unit = blocked_unit_bytes(plan, ps, opts, keep);
    return blocked_reserve(ps, npos, keep, opts->edge_var, reserve);
}

/* One way of sharing the limit out. */
struct share {
    unsigned npos;
    bool keep_edges;
    size_t unit, reserve;  /* the largest of any sample */
    size_t whole;          /* the largest sample read in one unit */
    size_t positional;     /* the largest positional features' task that
                            * fits the limit beside the reserve */
    size_t good;           /* the samples not bad */
    const struct ms_plan_sample *unit_worst, *reserve_worst;
};

/* A sample's positional features are computed by one task, beside the
 * units in flight, in a unit's share of the limit (positional_start.c):
 * the automatic prefetch is lowered until the largest of them fits, so
 * that whether a sample's fit depends on the limit alone, never on the
 * workers.  One larger than the whole limit fits no prefetch: its sample
 * is skipped however the pass runs. */
static void
largest_positional(const struct ms_plan *plan, const struct ms_options *opts,
                   struct share *s)
{
    uint64_t avail = opts->memory_limit > s->reserve
                         ? opts->memory_limit - s->reserve
                         : 0;
    for (size_t i = 0; plan->positional > 0 && i < plan->nsamples; i++) {
        const struct ms_plan_sample *ps = &plan->samples[i];
        size_t need = ms__positional_task_bytes(ps->shape.N, ps->shape.E,
                                                plan->positional);
        if (!ps->bad && need <= avail && need > s->positional) {
            s->positional = need;
        }
    }
}

/* The largest unit and reserve over the good samples for s's choice. */
static int
measure(const struct ms_plan *plan, const struct ms_options *opts,
        struct share *s)
{
    for (size_t i = 0; i < plan->nsamples; i++) {
        const struct ms_plan_sample *ps = &plan->samples[i];
        size_t unit, reserve, whole;
        if (ps->bad) {
            continue;
        }
        if (sample_needs(plan, ps, opts, s->npos, s->keep_edges, &unit,
                         &reserve, &whole) != 0) {
            s->unit_worst = ps;
            return MS_EOVERFLOW;
        }
        if (unit > s->unit) {
            s->unit = unit;
            s->unit_worst = ps;
        }
        s->whole = whole > s->whole ? whole : s->whole;
        s->good++;
        if (reserve > s->reserve) {
            s->reserve = reserve;
            s->reserve_worst = ps;
        }
    }
    /* (the sample's and the total's sketches) */
    s->reserve += 2 * sketch_set_bytes(plan, opts);
    largest_positional(plan, opts, s);
    return 0;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The automatic prefetch before it is lowered to fit: 2 units a worker;
 * when every sample is read whole in one small unit (more than 2 of the
 * largest fit AUTO_BYTES_A_WORKER), as many a worker as fit (at most
 * MAX_AUTO_A_WORKER), and in all no more than there are samples (a unit
 * each) and than leave each unit its whole sample (at least 1).  Not with
 * quantiles: a ring slot's sketches can outgrow the room counted for them
 * (docs/spec.md 4.1), once for every slot. */
static unsigned
auto_prefetch(const struct share *s, const struct ms_options *opts,
              uint64_t avail)
{
    uint64_t workers = ms__resolve_workers(opts), want = 2 * workers;
    uint64_t a_worker = s->whole > 0 && !opts->quantiles
                            ? AUTO_BYTES_A_WORKER / s->whole
                            : 0;
    if (a_worker > 2) {
        want = min_u64(min_u64(a_worker, MAX_AUTO_A_WORKER) * workers,
                       s->good);
        want = min_u64(want, avail / s->whole);
        want = want > 0 ? want : 1;
    }
    return (unsigned)min_u64(want, MS_MAX_PREFETCH);
}

/* The units in flight s allows: opts->prefetch, or auto_prefetch lowered
 * to what fits (at least 1); 0 if even that does not fit. */
static unsigned
prefetch_for(const struct share *s, const struct ms_options *opts)
{
    if (s->reserve >= opts->memory_limit) {
        return 0;
    }
    uint64_t avail = opts->memory_limit - s->reserve;
    unsigned want = opts->prefetch ? opts->prefetch
                                   : auto_prefetch(s, opts, avail);
    size_t unit = s->unit > s->positional ? s->unit : s->positional;
    if (opts->prefetch == 0 && unit > 0 && avail / unit < want) {
        want = avail / unit ? (unsigned)(avail / unit) : 1;
    }
    return s->unit <= avail / want ? want : 0;
}

static int
too_big(const struct ms_plan *plan, const struct share *s,
        const struct ms_options *opts, const char *path,
        struct ms_error *err)
{
    unsigned prefetch = opts->prefetch ? opts->prefetch : 1;
    const struct ms_plan_sample *ps =
        s->reserve_worst ? s->reserve_worst : s->unit_worst;
    const struct ms_sample_shape *sh = &ps->shape;
    unsigned long long need = (unsigned long long)s->reserve +
                              (unsigned long long)s->unit * prefetch;
    char what[400];
    if (ps->blocked) {
        size_t node = 3 * sizeof(double) * (opts->edge_var / 4);
        snprintf(what, sizeof(what),
                 "the edge features of one timestep need the positions of "
                 "its %zu nodes (%zu bytes, %zu a node) beside %u unit%s of "
                 "%zu bytes in flight",
                 sh->N, node * sh->N, node, prefetch,
                 prefetch == 1 ? "" : "s", s->unit);
    } else {
        snprintf(what, sizeof(what),
                 "one work unit needs %zu bytes (%zu timesteps x %zu rows x "
                 "%zu nodes, plus %zu edges) for each of %u unit%s in flight",
                 s->unit, min_slots_of(sh), plan->nrows, sh->N, sh->E,
                 prefetch, prefetch == 1 ? "" : "s");
    }
    bool frames = sh->layout == MS_LAYOUT_TRAJECTORY;
    size_t sketches = sketch_set_bytes(plan, opts);
    if (sketches > 0) {
        size_t used = strlen(what);
        snprintf(what + used, sizeof(what) - used,
                 " (each unit, and the totals twice, with %zu bytes of "
                 "quantile sketches at --quantile-accuracy %g)",
                 sketches, opts->quantile_accuracy);
    }
    return ms__error_set(
        err, MS_ETOOBIG,
        "%s: sample %lld: %s%s/%s: %s, more than the memory "
        "limit of %llu bytes allows; raise --memory-limit (config key "
        "stats_memory_limit) to at least %lluK%s",
        path, (long long)ps->name.id, frames ? "" : "data/", ps->name.name,
        frames ? sh->field[plan->model->dynamic[0].field].leaf
               : "nodal_data",
        what,
        (unsigned long long)opts->memory_limit, need / 1024 + 1,
        prefetch > 1 ? " or lower --prefetch" : "");
}

/* How many node blocks a NODES unit reads: as many as fit the share
 * beside the rest of the largest unit, up to the unit target or, where a
 * blocked sample's chunks, decoded by the workers, span more nodes, up
 * to the blocks they span (reading any node of a chunk decodes all of
 * it: in units of one block, a chunk of a million nodes was decoded 64
 * times); at least one.  Only the number of units changes with it:
 * partials stay per block. */
static size_t
node_blocks(const struct ms_plan *plan, const struct share *s)
{
    /* (float32 blocks only if every blocked sample's are) */
    size_t block = plan->nrows * 2 * MS_NODE_BLOCK * sizeof(float);
    size_t chunk = 1;
    for (size_t i = 0; i < plan->nsamples; i++) {
        const struct ms_plan_sample *ps = &plan->samples[i];
        if (!ps->blocked || ps->bad) {
            continue;
        }
        if (!ps->shape.single) {
            block = plan->nrows * 2 * MS_NODE_BLOCK * sizeof(double);
        }
        if (ps->shape.chunk[0] != 0 && ps->shape.chunk[2] > chunk) {
            chunk = ps->shape.chunk[2];
        }
    }
    uint64_t room = plan->share > s->unit ? plan->share - s->unit : 0;
    size_t fits = 1 + (size_t)(room / block);
    size_t target = UNIT_TARGET_BYTES / block;
    size_t spanned = (chunk - 1) / MS_NODE_BLOCK + 1;
    target = target > spanned ? target : spanned;
    return fits < target ? fits : target > 1 ? target : 1;
}

int
ms__budget_share(struct ms_plan *plan, const struct ms_options *opts,
                 const char *path, struct ms_error *err)
{
    /* Best first: two position buffers and the edge list kept; then one
     * buffer; then edges read by each EDGES unit (slow, but small). */
    static const struct {
        unsigned npos;
        bool keep;
    } choices[] = {{2, true}, {1, true}, {1, false}};
    struct share s = {0};
    for (size_t c = 0; c < MS_ARRAY_SIZE(choices); c++) {
        s = (struct share){.npos = choices[c].npos,
                           .keep_edges = choices[c].keep};
        if (measure(plan, opts, &s) != 0) {
            const struct ms_plan_sample *ps = s.unit_worst;
            return ms__error_set(err, MS_EOVERFLOW,
                                 "%s: sample %lld: the byte size of one "
                                 "timestep (%zu rows x %zu nodes) overflows",
                                 path, (long long)ps->name.id, plan->nrows,
                                 ps->shape.N);
        }
        unsigned prefetch = prefetch_for(&s, opts);
        if (prefetch != 0) {
            plan->prefetch = prefetch;
            plan->share = (opts->memory_limit - s.reserve) / prefetch;
            plan->npos = s.npos;
            plan->keep_edges = s.keep_edges;
            plan->node_blocks = node_blocks(plan, &s);
            return 0;
        }
    }
    /* A list to be placed needs keeping: name the limit that keeps it. */
    for (size_t i = 0; i < plan->nsamples; i++) {
        const struct ms_plan_sample *ps = &plan->samples[i];
        if (ps->blocked && ps->placed && !ps->bad) {
            s = (struct share){.npos = 1, .keep_edges = true};
            (void)measure(plan, opts, &s);
            break;
        }
    }
    return too_big(plan, &s, opts, path, err);
}

size_t
ms__unit_edge_bytes(size_t E)
{
    return (E < MS_EDGE_BLOCK ? E : MS_EDGE_BLOCK) * 2 * sizeof(uint32_t);
}

/* (positional_start.c's one allocation: the reference positions, the
 * columns, the rows read, the walk's scratch and the edges) */
size_t
ms__positional_task_bytes(size_t N, size_t E, unsigned P)
{
    size_t per_node = 3 * 8 + 3 * 8 + (size_t)P * 8;
    /* (the walk's offsets are 32-bit: 2E directed edges must fit) */
    if (N > SIZE_MAX / 256 || E > SIZE_MAX / 64 || E >= (1u << 31)) {
        return 0;
    }
    return 8 * E + per_node * N + ms__positional_bytes(N, E) + 64;
}

size_t
ms__order_task_bytes(void)
{
    return MS_ORDER_READ_BLOCK * 2 * sizeof(uint32_t) +
           3 * MS_NODE_BLOCK * sizeof(double);
}

size_t
ms__order_sort_bytes(size_t E)
{
    size_t six = E * (sizeof(uint32_t) + sizeof(uint16_t));
    return six < MS_ORDER_SORT_BYTES ? six + 1 : MS_ORDER_SORT_BYTES;
}

uint64_t
ms__budget_kept_need(const struct ms_plan *plan, const struct ms_options *opts)
{
    struct share s = {.npos = 1, .keep_edges = true};
    if (measure(plan, opts, &s) != 0) {
        return UINT64_MAX / 2;
    }
    unsigned prefetch = opts->prefetch ? opts->prefetch : 1;
    return (uint64_t)s.reserve + (uint64_t)s.unit * prefetch;
}

size_t
ms__budget_max_slots(const struct ms_plan *plan,
                     const struct ms_plan_sample *ps,
                     const struct ms_options *opts)
{
    size_t fixed, per_slot, min_need;
    whole_costs(plan, &ps->shape, opts, &fixed, &per_slot, &min_need);
    size_t min_slots = min_slots_of(&ps->shape);
    size_t slots = (size_t)((plan->share - fixed) / per_slot);
    size_t target = UNIT_TARGET_BYTES / per_slot;
    size_t ct = ps->shape.chunk_t;
    if (ct > 1 && opts->max_timesteps == 0) {
        /* Chunked in time: units of whole chunks (plus the successor of
         * the last delta), at least four, so that a chunk is decoded once
         * and only the successor's chunk is touched twice. */
        target = target > 4 * ct + 1 ? target : 4 * ct + 1;
        size_t want = target < slots ? target : slots;
        if (want > ct) {
            want = (want - 1) / ct * ct + 1;
        }
        return want < min_slots ? min_slots : want;
    }
    size_t want = target < slots ? target : slots;
    return want < min_slots ? min_slots : want;
}
