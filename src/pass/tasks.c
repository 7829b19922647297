/*
 * tasks.c: the plan's units as the pipeline runs them: a list of tasks in
 * data order, each with what it must wait for.
 *
 * Per good sample: the tasks that read (and check) its edge list (one,
 * or parts of a long list), then its units.  Dispatch is in order; a task may
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

/* The tasks in data order: per good sample, the edge list's task, then
 * its units.  A blocked sample's edge-list task waits for the previous
 * blocked sample's last task, so that one at a time holds the position
 * buffers and a kept edge list. */
/* The parts a sample's edge list is read in: one for a trajectory (its
 * edges come from its cells) and for a short list. */
static size_t
edge_parts(const struct ms_plan *plan, const struct ms_plan_sample *ps)
{
    size_t E = ps->shape.E;
    if (plan->model->trajectory || E <= MS_EDGE_PART) {
        return 1;
    }
    return (E + MS_EDGE_PART - 1) / MS_EDGE_PART;
}

int
ms__tasks_build(const struct ms_plan *plan, struct task **out, size_t *count,
                uint64_t *bytes_total)
{
    size_t n = plan->nunits;
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        n += ps->bad || ps->elsewhere ? 0 : edge_parts(plan, ps);
    }
    struct task *tasks = ms__calloc(n, sizeof(*tasks));
    if (tasks == NULL) {
        return MS_ENOMEM;
    }
    size_t nt = 0;
    size_t last_blocked = SIZE_MAX;
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        if (ps->bad || ps->elsewhere) {
            continue;
        }
        struct waits w = {SIZE_MAX, {SIZE_MAX, SIZE_MAX}};
        size_t parts = edge_parts(plan, ps), E = ps->shape.E;
        for (size_t k = 0; k < parts; k++) {
            size_t first = k * MS_EDGE_PART, left = E - first;
            tasks[nt++] = (struct task){
                TASK_EDGES,
                ps->nunits == 0 && k + 1 == parts,
                s,
                0,
                ps->blocked ? last_blocked : SIZE_MAX,
                first,
                parts == 1 || left < MS_EDGE_PART ? left : MS_EDGE_PART};
        }
        for (size_t u = 0; u < ps->nunits; u++) {
            const struct ms_unit *unit = &plan->units[ps->first_unit + u];
            size_t after = unit_wait(plan, unit, &w, nt);
            tasks[nt++] = (struct task){
                TASK_UNIT, u + 1 == ps->nunits, s, ps->first_unit + u, after, 0,
                0};
            *bytes_total += ms__unit_stored_bytes(plan, unit);
        }
        last_blocked = ps->blocked ? nt - 1 : last_blocked;
    }
    *out = tasks;
    *count = nt;
    return 0;
}
