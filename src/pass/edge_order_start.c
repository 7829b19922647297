/*
 * edge_order_start.c: a large mesh's edge order (features/edge_order.h),
 * decided by the plan, made by its sample's first tasks.
 *
 * The plan reads the first MS_EDGE_BLOCK stored edges and decides.  If
 * more than one in eight join nodes 2^MS_ORDER_SHIFT or more apart (and
 * the mesh has at least as many edges as nodes), the node numbering has
 * no locality: the nodes are renumbered row by row over a grid of their
 * reference positions (rows 0..2 of nodal_data at the first timestep,
 * read in spans of as many blocks of MS_NODE_BLOCK nodes as the task's
 * buffer holds, twice: the bounds, then the cells, whose first digits the
 * first task counts for the sort), and the
 * list will be placed.  Otherwise the list is placed if those edges do not
 * come by their lower node, and left as stored if they do: then each EDGES
 * unit reads its block from the file, checking it.
 *
 * A renumbered mesh's next task maps the order's memory beside the first
 * (ms__order_prefault: the renumbering and the placing write it at
 * random, and a page fault each on the first's worker cost it about 10
 * ms of its 36).  The next ones sort the nodes by cell into their places,
 * in parts of nodes side by side, in one or two steps (renumber_sort.c).
 * The next ones take the list in parts of MS_ORDER_PART edges, side by
 * side: they read a list kept as stored (with the plan's room for it),
 * while the units run; or they place a list that is to be placed, in three
 * steps, each waiting for the one before to be done in every part: count
 * (read by blocks of MS_ORDER_READ_BLOCK edges, every index checked, the
 * ends looked up in the nodes' places, counted into segments; the places
 * of a block that fits the position buffers lent to the order kept there),
 * put (placed from those, or read and looked up again), sort (each part a
 * share of the segments, each segment through the task's own buffer).  The
 * NODES units, which write the position buffers at the nodes' places,
 * wait until every part is put.  Placing needs the list held in memory (6
 * bytes an edge, 4 a node); when the plan could not keep it, the sample
 * fails, naming the memory limit that would.  Every decision is the mesh's
 * own, never the memory limit's, so the order, and the result, are the
 * same at any limit that computes it.
 */
#include "pass/pass.h"


/* Part of the stored list read by blocks, its ends looked up in the
 * nodes' places: counted, or put at the cursors (cursor: NULL to count).
 * A block that fits the lent room is counted there and put from there,
 * not read again. */
static int
sweep(struct ms_file *f, const struct ms_plan_sample *ps,
      struct ms_edge_order *o, const struct ms_place_part *part,
      size_t *cursor, struct ms_unit_buffers *b, struct ms_error *err)
{
    size_t end = part->first + part->count, block = MS_ORDER_READ_BLOCK;
    uint32_t *from = b->data, *to = from + block;
    for (size_t e0 = part->first; e0 < end; e0 += block) {
        size_t n = end - e0 < block ? end - e0 : block;
        uint32_t *a = from, *pb = to;
        bool roomed = ms__order_in_room(o, e0, n, &a, &pb);
        if (cursor == NULL || !roomed) {
            int rc = ms__sample_read_edges(f, &ps->name, &ps->shape, e0, n,
                                           from, to, err);
            if (rc != 0) {
                return rc;
            }
            ms__order_places(o, from, a, n);
            ms__order_places(o, to, pb, n);
        }
        if (cursor != NULL) {
            ms__order_put(o, cursor, a, pb, n);
        } else {
            ms__order_count(o, part->part, a, pb, n);
        }
    }
    return 0;
}

/* Reference positions of nodes [first, first + count) into b->data, as
 * rows x[0..2]. */
static int
read_reference(struct ms_file *f, const struct ms_plan_sample *ps,
               size_t first, size_t count, struct ms_unit_buffers *b,
               struct ms_row x[3], struct ms_error *err)
{
    size_t t0 = 0;
    unsigned char full = 1;
    struct ms_slot_list sl = {&t0, &full, 1, 3, 0, first, count};
    int rc = ms__sample_read_slots(f, &ps->name, &ps->shape, &sl, b->data,
                                   &b->read, err);
    struct ms_block rows = {.nrows = 3, .nslots = 1, .N = count,
                            .stride = count};
    if (ps->shape.single) {
        rows.f = b->data;
    } else {
        rows.d = b->data;
    }
    for (size_t c = 0; c < 3; c++) {
        x[c] = ms_block_row(&rows, MS_ROW_POSITION + c, 0);
    }
    return rc;
}

/* How many nodes' reference positions renumber() reads at a time: as
 * many whole blocks as the task's buffer holds (at least one), so that a
 * filtered chunk spanning many blocks is not decoded once for each. */
static size_t
reference_span(const struct ms_plan *plan, const struct ms_plan_sample *ps)
{
    size_t per_block = 3 * MS_NODE_BLOCK *
                       (ps->shape.single ? sizeof(float) : sizeof(double));
    size_t blocks = plan->max_data_bytes / per_block;
    return (blocks > 1 ? blocks : 1) * MS_NODE_BLOCK;
}

/* Number the nodes row by row over the grid: the grid's bounds, then
 * every node's cell (into o->perm), its first digit counted for the sort
 * that the next tasks make of them, in parts (renumber_sort.c). */
static int
renumber(struct ms_file *f, const struct ms_plan *plan,
         const struct ms_plan_sample *ps, struct ms_edge_order *o,
         struct ms_unit_buffers *b, struct ms_error *err)
{
    size_t N = ps->shape.N, span = reference_span(plan, ps);
    struct ms_order_grid g;
    struct ms_row x[3];
    ms__grid_init(&g);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t n0 = 0; n0 < N; n0 += span) {
            size_t n = N - n0 < span ? N - n0 : span;
            int rc = read_reference(f, ps, n0, n, b, x, err);
            if (rc != 0) {
                return rc;
            }
            if (pass == 0) {
                ms__grid_extend(&g, x, n);
                continue;
            }
            ms__grid_cells(&g, x, n, o->perm + n0);
            ms__order_count_cells(o, n0, n);
        }
        if (pass == 0) {
            ms__grid_finish(&g, ms__grid_bits(N, ps->shape.E));
            if (ms__order_sort_init(o, g.total) != 0) {
                return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                     ms__file_path(f));
            }
        }
    }
    return 0;
}

static int
not_kept(struct ms_file *f, const struct ms_plan *plan,
         const struct ms_plan_sample *ps, const struct ms_options *opts,
         struct ms_error *err)
{
    return ms__error_set(
        err, MS_ETOOBIG,
        "%s: sample %lld: data/%s/mesh_edge: its %zu edges are not stored "
        "in an order local to the mesh (%s), and computing them in one "
        "needs the edge list held in memory, which the memory limit of "
        "%llu bytes leaves no room for; raise --memory-limit (config key "
        "stats_memory_limit) to at least %lluK%s",
        ms__file_path(f), (long long)ps->name.id, ps->name.name, ps->shape.E,
        ps->renumbered ? "more than one in eight of the first ones joins "
                         "distant nodes"
                       : "the first ones do not come by their lower node",
        (unsigned long long)opts->memory_limit,
        (unsigned long long)(ms__budget_kept_need(plan, opts) / 1024 + 1),
        opts->prefetch > 1 ? " or lower --prefetch" : "");
}

/* Sort the part's segments through the task's buffer, of max_data_bytes:
 * as large as an EDGES unit's block (cut.c), so at least sort_bytes
 * (always that many: the order must not depend on the buffer). */
static int
sort_segments(struct ms_file *f, const struct ms_plan *plan,
              struct ms_edge_order *o, size_t part,
              struct ms_unit_buffers *b, struct ms_error *err)
{
    size_t bytes = ms__order_sort_bytes(o->E), first, end;
    uint32_t *counts = ms__calloc(((size_t)1 << MS_ORDER_SHIFT) + 1,
                                  sizeof(*counts));
    if (counts == NULL || bytes > plan->max_data_bytes) {
        ms__free(counts);
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    ms__order_part_segments(o, part, &first, &end);
    for (size_t s = first; s < end; s++) {
        ms__order_sort_segment(o, s, b->data, bytes, counts);
    }
    ms__free(counts);
    return 0;
}

/* Put the part at its cursors. */
static int
put(struct ms_file *f, const struct ms_plan_sample *ps,
    struct ms_edge_order *o, const struct ms_place_part *part,
    struct ms_unit_buffers *b, struct ms_error *err)
{
    size_t *cursor = ms__calloc(o->nseg, sizeof(*cursor));
    if (cursor == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    ms__order_cursors(o, part->part, cursor);
    int rc = sweep(f, ps, o, part, cursor, b, err);
    ms__free(cursor);
    return rc;
}

int
ms__edge_order_decide(struct ms_file *f, struct ms_plan_sample *ps,
                      struct ms_error *err)
{
    size_t n = ps->shape.E < MS_EDGE_BLOCK ? ps->shape.E : MS_EDGE_BLOCK;
    uint32_t *from = ms__malloc((2 * n + 1) * sizeof(*from)), *to = from + n;
    if (from == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    struct ms_order_scan scan = {0};
    int rc = ms__sample_read_edges(f, &ps->name, &ps->shape, 0, n, from, to,
                                   err);
    ms__order_scan(from, to, rc == 0 ? n : 0, &scan);
    ms__free(from);
    /* (renumbering sorts through the list's room: 4 bytes a node) */
    ps->renumbered = scan.far > n / 8 && ps->shape.E >= ps->shape.N;
    ps->placed = ps->renumbered || scan.unordered;
    return rc;
}

int
ms__edge_order_start(struct ms_file *f, const struct ms_plan *plan,
                     size_t sample, struct ms_edge_order *o,
                     const struct ms_options *opts,
                     struct ms_unit_buffers *b, struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[sample];
    if (ps->placed && !o->kept) {
        return not_kept(f, plan, ps, opts, err);
    }
    return ps->renumbered ? renumber(f, plan, ps, o, b, err) : 0;
}

int
ms__edge_order_place(struct ms_file *f, const struct ms_plan *plan,
                     size_t sample, const struct ms_place_part *part,
                     const struct ms_unit_shared *shared,
                     struct ms_unit_buffers *b, struct ms_error *err)
{
    const struct ms_plan_sample *ps = &plan->samples[sample];
    struct ms_edge_order *o = shared->order;
    uint32_t *kept = shared->edges;
    size_t E = ps->shape.E, first = part->first;
    switch (part->step) {
    case MS_PLACE_KEEP:
        /* Left as stored: kept (this part read and checked now), or read
         * by each EDGES unit. */
        return kept == NULL ? 0
                            : ms__sample_read_edges(f, &ps->name, &ps->shape,
                                                    first, part->count,
                                                    kept + first,
                                                    kept + E + first, err);
    case MS_PLACE_TOUCH:
        ms__order_prefault(o);
        return 0;
    case MS_PLACE_RENUMBER_0:
    case MS_PLACE_RENUMBER_1:
        return ms__order_sort_step(o, part->step == MS_PLACE_RENUMBER_1,
                                   part->part) != 0
                   ? ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                   ms__file_path(f))
                   : 0;
    case MS_PLACE_COUNT:
        ms__order_clear(o, part->part);
        return sweep(f, ps, o, part, NULL, b, err);
    case MS_PLACE_PUT:
        return put(f, ps, o, part, b, err);
    case MS_PLACE_SORT:
        break;
    }
    return sort_segments(f, plan, o, part->part, b, err);
}
