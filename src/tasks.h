/*
 * tasks.h: the pipeline's tasks (tasks.c builds them, pipeline.c runs
 * them), and no other file's business.
 */
#ifndef MESHSTATS_TASKS_H
#define MESHSTATS_TASKS_H

#include "internal.h"

enum task_kind { TASK_EDGES, TASK_UNIT };

struct task {
    enum task_kind kind;
    bool last;     /* the sample's last task */
    size_t sample; /* plan sample index */
    size_t unit;   /* plan unit index (TASK_UNIT) */
    size_t after;  /* dispatched once this task is folded (SIZE_MAX: no
                    * such wait) */
};

/* The tasks of plan in data order into a new array (*out, *count; free
 * with ms__free), and the stored bytes they read added to *bytes_total.
 * A WHOLE unit waits for its sample's edge list (the pipeline tracks
 * that); a blocked sample's units wait as tasks.c says.  0 or MS_ENOMEM. */
int ms__tasks_build(const struct ms_plan *plan, struct task **out,
                    size_t *count, uint64_t *bytes_total);

#endif
