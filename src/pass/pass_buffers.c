/*
 * pass_buffers.c: the memory a pass shares between its tasks, beside the
 * ring slots' own buffers: the edge list of each sample in flight (read by
 * its edge task, used by its units, freed when its last task is folded)
 * with, for a trajectory, what it holds once (mesh_pos, node_type and
 * what is computed from them), and the position buffers of blocked
 * samples (cut.c decides how many and which unit uses which; budget.c
 * counts them against the memory limit).
 * Only the loop thread allocates and frees; workers use what a task was
 * given.
 */
#include "pass/tasks.h"

/* The plan's npos buffers of pos_nodes positions: 3 doubles a node, twice
 * that with edge_var 8 (the deformed and the reference mesh). */
static int
alloc_positions(struct ms_pass_buffers *b, const struct ms_plan *plan,
                unsigned edge_var)
{
    b->npos = plan->npos;
    b->pos = ms__calloc(plan->npos, sizeof(*b->pos));
    /* (pos_nodes and edge_var are small: the product cannot overflow) */
    b->pos_bytes = plan->pos_nodes * (3 * sizeof(double) * edge_var / 4);
    for (unsigned i = 0; b->pos != NULL && i < plan->npos; i++) {
        b->pos[i] = ms__calloc(b->pos_bytes, 1);
        if (b->pos[i] == NULL) {
            return MS_ENOMEM;
        }
        /* (written at random when the nodes are renumbered; edges of a
         * list in no order read it at random) */
        ms__advise_random_access(b->pos[i], b->pos_bytes);
    }
    return b->pos != NULL ? 0 : MS_ENOMEM;
}

int
ms__pass_buffers_init(struct ms_pass_buffers *b, const struct ms_plan *plan,
                      unsigned edge_var)
{
    *b = (struct ms_pass_buffers){.nsamples = plan->nsamples};
    b->edges = ms__calloc(plan->nsamples, sizeof(*b->edges));
    b->order = ms__calloc(plan->nsamples, sizeof(*b->order));
    b->statics = ms__calloc(plan->nsamples, sizeof(*b->statics));
    if (b->edges == NULL || b->order == NULL || b->statics == NULL ||
        (plan->pos_nodes > 0 && alloc_positions(b, plan, edge_var) != 0)) {
        return MS_ENOMEM;
    }
    return 0;
}

static struct ms_edge_order *
new_order(size_t N, size_t E, bool keep)
{
    struct ms_edge_order *o = ms__calloc(1, sizeof(*o));
    if (o != NULL && ms__order_init(o, N, E, keep) != 0) {
        ms__free(o);
        o = NULL;
    }
    return o;
}

static void
free_order(struct ms_edge_order *o)
{
    if (o != NULL) {
        ms__order_free(o);
        ms__free(o);
    }
}

static void
free_statics(struct ms_trajectory_statics *st)
{
    if (st != NULL) {
        ms__free(st->mesh_pos);
        ms__free(st->node_type);
        ms__free(st);
    }
}

static struct ms_trajectory_statics *
new_statics(size_t N)
{
    struct ms_trajectory_statics *st = ms__calloc(1, sizeof(*st));
    if (st != NULL) {
        st->mesh_pos = ms__calloc(N ? 3 * N : 1, sizeof(double));
        st->node_type = ms__calloc(N ? N : 1, 1);
    }
    if (st == NULL || st->mesh_pos == NULL || st->node_type == NULL) {
        free_statics(st);
        return NULL;
    }
    return st;
}

int
ms__pass_buffers_new_sample(struct ms_pass_buffers *b,
                            const struct ms_plan *plan, size_t sample)
{
    const struct ms_plan_sample *ps = &plan->samples[sample];
    size_t N = ps->shape.N, E = ps->shape.E;
    bool list = !ps->blocked || (plan->keep_edges && !ps->placed);
    if (list) {
        b->edges[sample] = ms__calloc(E ? 2 * E : 1, sizeof(uint32_t));
    }
    if (ps->blocked) {
        b->order[sample] = new_order(N, E, plan->keep_edges && ps->placed);
    }
    if (b->order[sample] != NULL && b->order[sample]->kept && b->npos > 0) {
        ms__order_lend(b->order[sample], (void *const *)b->pos, b->npos,
                       b->pos_bytes);
    }
    if (plan->model->trajectory) {
        b->statics[sample] = new_statics(N);
    }
    bool ok = (!list || b->edges[sample] != NULL) &&
              (!ps->blocked || b->order[sample] != NULL) &&
              (!plan->model->trajectory || b->statics[sample] != NULL);
    return ok ? 0 : MS_ENOMEM;
}

void
ms__pass_buffers_drop_edges(struct ms_pass_buffers *b, size_t sample)
{
    ms__free(b->edges[sample]);
    b->edges[sample] = NULL;
    free_order(b->order[sample]);
    b->order[sample] = NULL;
    free_statics(b->statics[sample]);
    b->statics[sample] = NULL;
}

void
ms__pass_buffers_finish(struct ms_pass_buffers *b)
{
    for (size_t s = 0; b->edges != NULL && s < b->nsamples; s++) {
        ms__free(b->edges[s]);
        free_order(b->order != NULL ? b->order[s] : NULL);
        free_statics(b->statics != NULL ? b->statics[s] : NULL);
    }
    ms__free(b->edges);
    ms__free(b->order);
    ms__free(b->statics);
    for (unsigned i = 0; b->pos != NULL && i < b->npos; i++) {
        ms__free(b->pos[i]);
    }
    ms__free(b->pos);
    *b = (struct ms_pass_buffers){0};
}
