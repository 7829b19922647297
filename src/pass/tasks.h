/*
 * tasks.h: the pipeline's tasks (tasks.c builds them, pipeline.c runs
 * them), and no other file's business.
 */
#ifndef MESHSTATS_TASKS_H
#define MESHSTATS_TASKS_H

#include "pass/pass.h"

enum task_kind { TASK_EDGES, TASK_UNIT };

struct task {
    enum task_kind kind;
    bool last;     /* the sample's last task */
    size_t sample; /* plan sample index */
    size_t unit;   /* plan unit index (TASK_UNIT) */
    size_t after;  /* dispatched once this task is folded (SIZE_MAX: no
                    * such wait) */
    size_t edge_first, edge_count; /* TASK_EDGES: its part of the list */
};

/* A nodal sample's edge list longer than this is read and checked in
 * parts of this many edges, which the workers take in parallel; such a
 * sample is always blocked (MS_EDGE_BLOCK), so its units wait for the
 * parts by their place in the order, never by the sample's state. */
#define MS_EDGE_PART (4 * MS_EDGE_BLOCK)

/* The tasks of plan in data order into a new array (*out, *count; free
 * with ms__free), and the stored bytes they read added to *bytes_total.
 * A WHOLE unit waits for its sample's edge list (the pipeline tracks
 * that); a blocked sample's units wait as tasks.c says.  0 or MS_ENOMEM. */
int ms__tasks_build(const struct ms_plan *plan, struct task **out,
                    size_t *count, uint64_t *bytes_total);

/* The buffers tasks share (pass_buffers.c): edges[s], the edge list of
 * sample s while it is in flight (NULL otherwise, or when a blocked sample
 * streams it), and statics[s] for a trajectory; pos[i], the plan's
 * position buffers. */
struct ms_pass_buffers {
    uint32_t **edges;
    struct ms_trajectory_statics **statics; /* a trajectory's, in flight */
    double **pos;
    size_t nsamples;
    unsigned npos;
};

int ms__pass_buffers_init(struct ms_pass_buffers *b, const struct ms_plan *plan,
                          unsigned edge_var);
/* Room for sample's E edges, both rows (NULL when out of memory). */
uint32_t *ms__pass_buffers_new_edges(struct ms_pass_buffers *b, size_t sample,
                                     size_t E);
/* Room for trajectory sample's statics over N nodes (NULL: out of
 * memory). */
struct ms_trajectory_statics *
ms__pass_buffers_new_statics(struct ms_pass_buffers *b, size_t sample,
                             size_t N);
/* Free sample's edge list and statics. */
void ms__pass_buffers_drop_edges(struct ms_pass_buffers *b, size_t sample);
void ms__pass_buffers_finish(struct ms_pass_buffers *b);

#endif
