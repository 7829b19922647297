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
    bool placing;  /* TASK_EDGES: one of a blocked sample's next, placing
                    * a part of its edges in order, or reading a part of
                    * a list kept as stored, while its first NODES units
                    * run */
    struct ms_place_part part;
    bool starts;   /* the sample's first task: its edge list's, or its only
                    * unit's, which then reads the list itself */
};

/* The tasks of plan in data order into a new array (*out, *count; free
 * with ms__free), and the stored bytes they read added to *bytes_total.
 * A WHOLE unit waits for its sample's edge list (the pipeline tracks
 * that); a blocked sample's units wait as tasks.c says.  0 or MS_ENOMEM. */
int ms__tasks_build(const struct ms_plan *plan, struct task **out,
                    size_t *count, uint64_t *bytes_total);

/* What task t of plan does, as its span in the trace names it (its part:
 * *part, 0 for a sample's first task; the nodes' sort numbers the parts
 * of its second digit after its first's). */
enum ms_trace_step ms__task_step(const struct ms_plan *plan,
                                 const struct task *t, size_t *part);

/* The buffers tasks share (pass_buffers.c): edges[s], the edge list of
 * sample s while it is in flight (NULL otherwise), order[s] instead for a
 * blocked sample, and statics[s] for a trajectory; pos[i], the plan's
 * position buffers. */
struct ms_pass_buffers {
    uint32_t **edges;
    struct ms_edge_order **order;
    struct ms_trajectory_statics **statics; /* a trajectory's, in flight */
    double **pos;
    size_t pos_bytes; /* each position buffer's */
    size_t nsamples;
    unsigned npos;
};

int ms__pass_buffers_init(struct ms_pass_buffers *b, const struct ms_plan *plan,
                          unsigned edge_var);
/* What sample holds while in flight: its edge list (2 E: the i's then
 * the j's; a blocked sample's only when kept and left as stored), a
 * blocked sample's order (with the room to place its list when kept and
 * placed, and the position buffers lent to it while it is placed:
 * the previous blocked sample's units are done, and its own NODES units
 * wait until every part is put), a trajectory's statics.  0 or
 * MS_ENOMEM. */
int ms__pass_buffers_new_sample(struct ms_pass_buffers *b,
                                const struct ms_plan *plan, size_t sample);
/* Free sample's edge list (or order) and statics. */
void ms__pass_buffers_drop_edges(struct ms_pass_buffers *b, size_t sample);
void ms__pass_buffers_finish(struct ms_pass_buffers *b);

#endif
