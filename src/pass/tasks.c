/*
 * tasks.c: the plan's units as the pipeline runs them: a list of tasks in
 * data order, each with what it must wait for.
 *
 * Per good sample: the task that reads (and checks) its edge list (for a
 * large mesh: decides its edge order, and a second task places the edges
 * in it), then its units.  Dispatch is in order; a task may
 * also have to wait until an earlier task is folded, which the pipeline checks
 * before dispatching it.  Pure bookkeeping: no I/O, no threads.
 */
#include "pass/tasks.h"

/* The waits of a blocked sample's units (cut.c): a NODES unit that writes
 * position buffer b waits until the EDGES units that last read b are
 * folded; an EDGES unit waits until every NODES unit of its timestep is
 * (so every position is written).  Folding is in order, so "task i is
 * folded" means every task before it is done. */
struct waits {
    size_t last_nodes;    /* the latest NODES unit's task */
    size_t last_edges[2]; /* per position buffer */
};

static size_t
unit_wait(const struct ms_plan *plan, const struct ms_unit *u, struct waits *w,
          size_t task)
{
    size_t after = SIZE_MAX;
    if (u->kind == MS_UNIT_NODES) {
        bool writes =
            u->node_end > u->node_begin && plan->samples[u->sample].shape.E > 0;
        after = writes ? w->last_edges[u->pos] : SIZE_MAX;
        w->last_nodes = task;
    } else if (u->kind == MS_UNIT_EDGES) {
        after = w->last_nodes;
        w->last_edges[u->pos] = task;
    }
    return after;
}

/* Whether a sample is one task: a mesh of one block in one unit, which
 * reads its edge list itself (a task a sample costs the loop about 20
 * microseconds: for thousands of small samples, the most of the pass).
 * Not with positional features, whose moments the first task brings. */
static bool
one_task(const struct ms_plan *plan, const struct ms_plan_sample *ps)
{
    return !ps->blocked && ps->nunits == 1 &&
           (plan->positional == 0 || plan->model->trajectory);
}

/* A renumbered mesh's sort of its nodes by cell: its parts, and its
 * steps (one a digit of the grid's bits: renumber_sort.c). */
static size_t
sort_parts(const struct ms_plan_sample *ps)
{
    return ps->renumbered ? ms__order_sort_parts(ps->shape.N) : 0;
}

static size_t
sort_steps(const struct ms_plan_sample *ps)
{
    return ms__order_sort_passes(ms__grid_bits(ps->shape.N, ps->shape.E));
}

/* Whether a blocked sample's list is neither kept nor placed (left in
 * the file, or no edges): its one placing task does nothing. */
static bool
placing_nothing(const struct ms_plan *plan, const struct ms_plan_sample *ps)
{
    return ps->shape.E == 0 || (!ps->placed && !plan->keep_edges);
}

/* A blocked sample's placing tasks: a part each of a list kept as
 * stored, or three a part of a list that is placed (count, put, sort),
 * after, for a renumbered one, one that maps its memory (while the first
 * task makes the nodes' cells, writing it at random: one task, which the
 * ring has room for while the first is not folded) and the sort of the
 * nodes by cell in its parts and steps; or one that does nothing. */
static size_t
placing_parts(const struct ms_plan *plan, const struct ms_plan_sample *ps)
{
    if (!ps->blocked) {
        return 0;
    }
    if (placing_nothing(plan, ps)) {
        return 1;
    }
    size_t parts = (ps->shape.E - 1) / MS_ORDER_PART + 1;
    size_t renumber = ps->renumbered ? 1 + sort_steps(ps) * sort_parts(ps)
                                     : 0;
    return ps->placed ? 3 * parts + renumber : parts;
}

/* Placing task k of a sample's n: its step and part; each step of a
 * placed list waits for the one before to be folded in every part (the
 * task before the step's first: *step_wait, set at each step's first;
 * the first step's, as the caller set it). */
static struct ms_place_part
place_part(const struct ms_plan_sample *ps, size_t k, size_t n,
           size_t task, size_t *step_wait)
{
    size_t E = ps->shape.E, touch = ps->renumbered;
    size_t nodes = sort_parts(ps), sorting = touch ? sort_steps(ps) * nodes
                                                   : 0;
    if (k < touch) {
        return (struct ms_place_part){MS_PLACE_TOUCH, 0, 0, E};
    }
    if (k < touch + sorting) {
        size_t j = k - touch;
        if (j % nodes == 0) {
            /* (the first step waits for the cells, not for the mapping of
             * the order's memory beside them, which may go on: it leaves
             * what is written alone) */
            *step_wait = j == 0 ? task - 2 : task - 1;
        }
        return (struct ms_place_part){
            (enum ms_place_step)(MS_PLACE_RENUMBER_0 + j / nodes),
            j % nodes, 0, 0};
    }
    k -= touch + sorting;
    size_t per = ps->placed && E > 0 ? (n - touch - sorting) / 3 : n;
    size_t part = k % per;
    struct ms_place_part pp = {MS_PLACE_KEEP, part, 0, 0};
    if (ps->placed && E > 0) {
        pp.step = (enum ms_place_step)(MS_PLACE_COUNT + k / per);
        if (part == 0 && k + touch > 0) {
            *step_wait = task - 1;
        }
    }
    pp.first = part * MS_ORDER_PART;
    pp.count = E - pp.first < MS_ORDER_PART ? E - pp.first : MS_ORDER_PART;
    return pp;
}

/* Sample s's tasks from tasks[*nt]: its edge list's task (a blocked one
 * waiting for the previous blocked sample's last task, *last_blocked), its
 * placing tasks, its units. */
static void
add_sample(const struct ms_plan *plan, size_t s, struct task *tasks,
           size_t *nt, size_t *last_blocked, uint64_t *bytes_total)
{
    const struct ms_plan_sample *ps = &plan->samples[s];
    /* A blocked sample's units place positions and edges as its first
     * task's order says: the first ones wait for it. */
    size_t start = ps->blocked ? *nt : SIZE_MAX;
    size_t parts = placing_parts(plan, ps);
    if (!one_task(plan, ps)) {
        tasks[(*nt)++] = (struct task){
            .kind = TASK_EDGES,
            .last = ps->nunits == 0 && !parts,
            .sample = s,
            .after = ps->blocked ? *last_blocked : SIZE_MAX,
            .starts = true};
    }
    /* (a renumbered list's memory is mapped beside the first task) */
    size_t step_wait = ps->renumbered ? *last_blocked : start;
    for (size_t k = 0; k < parts; k++) {
        struct ms_place_part pp = place_part(ps, k, parts, *nt, &step_wait);
        /* (the units wait for the position buffers, lent to the placing
         * until every part is put, and so for the nodes' places, made
         * before: in order, the sort's wait for the put already holds
         * them back, this says it where it is needed) */
        if (pp.step == MS_PLACE_PUT) {
            start = *nt;
        }
        tasks[(*nt)++] = (struct task){.kind = TASK_EDGES,
                                       .last = ps->nunits == 0 &&
                                               k + 1 == parts,
                                       .sample = s,
                                       .after = step_wait,
                                       .placing = true,
                                       .part = pp};
    }
    struct waits w = {start, {start, start}};
    for (size_t u = 0; u < ps->nunits; u++) {
        const struct ms_unit *unit = &plan->units[ps->first_unit + u];
        size_t after = unit_wait(plan, unit, &w, *nt);
        tasks[(*nt)++] = (struct task){.kind = TASK_UNIT,
                                       .last = u + 1 == ps->nunits,
                                       .sample = s,
                                       .unit = ps->first_unit + u,
                                       .after = after,
                                       .starts = one_task(plan, ps)};
        *bytes_total += ms__unit_stored_bytes(plan, unit);
    }
    *last_blocked = ps->blocked ? *nt - 1 : *last_blocked;
}

enum ms_trace_step
ms__task_step(const struct ms_plan *plan, const struct task *t, size_t *part)
{
    static const enum ms_trace_step steps[] = {
        [MS_PLACE_KEEP] = MS_TRACE_STEP_KEEP,
        [MS_PLACE_TOUCH] = MS_TRACE_STEP_MAP,
        [MS_PLACE_RENUMBER_0] = MS_TRACE_STEP_SORT_NODES,
        [MS_PLACE_RENUMBER_1] = MS_TRACE_STEP_SORT_NODES,
        [MS_PLACE_COUNT] = MS_TRACE_STEP_COUNT,
        [MS_PLACE_PUT] = MS_TRACE_STEP_PUT,
        [MS_PLACE_SORT] = MS_TRACE_STEP_SORT_EDGES};
    *part = 0;
    if (t->kind != TASK_EDGES) {
        return MS_TRACE_STEP_NONE;
    }
    if (!t->placing) {
        return MS_TRACE_STEP_LIST;
    }
    const struct ms_plan_sample *ps = &plan->samples[t->sample];
    if (placing_nothing(plan, ps)) {
        return MS_TRACE_STEP_NOT_KEPT;
    }
    *part = t->part.part;
    if (t->part.step == MS_PLACE_RENUMBER_1) {
        *part += sort_parts(ps);
    }
    return steps[t->part.step];
}

/* The tasks in data order: per good sample, the edge list's task, then
 * its units.  A blocked sample's edge-list task waits for the previous
 * blocked sample's last task, so that one at a time holds the position
 * buffers and an edge order. */
int
ms__tasks_build(const struct ms_plan *plan, struct task **out, size_t *count,
                uint64_t *bytes_total)
{
    size_t n = plan->nunits;
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        n += ps->bad || ps->elsewhere
                 ? 0
                 : !one_task(plan, ps) + placing_parts(plan, ps);
    }
    struct task *tasks = ms__calloc(n, sizeof(*tasks));
    if (tasks == NULL) {
        return MS_ENOMEM;
    }
    size_t nt = 0, last_blocked = SIZE_MAX;
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        if (!ps->bad && !ps->elsewhere) {
            add_sample(plan, s, tasks, &nt, &last_blocked, bytes_total);
        }
    }
    *out = tasks;
    *count = nt;
    return 0;
}
