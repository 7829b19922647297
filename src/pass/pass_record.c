/*
 * pass_record.c: what a pass records of itself in its result: the run's
 * figures (ms_run_info) and, with ms_options.trace, its timeline, span by
 * span as the loop thread learns of them (results/trace.c keeps and
 * writes it).  Called on the loop thread only.
 */
#include "pass/pass.h"

void
ms__record_info(struct ms_stats *s, unsigned workers,
                const struct ms_plan *plan, uint64_t bytes, uint64_t wall_ns,
                uint64_t read_ns, uint64_t compute_ns)
{
    struct ms_run_info *info = &s->info;
    info->workers = workers;
    info->prefetch = plan->prefetch > info->prefetch ? plan->prefetch
                                                     : info->prefetch;
    info->units += plan->nunits;
    info->bytes_read += bytes;
    info->wall_seconds = (double)wall_ns * 1e-9;
    info->read_seconds += (double)read_ns * 1e-9;
    info->compute_seconds += (double)compute_ns * 1e-9;
}

int
ms__record_task(struct ms_stats *s, const struct ms_plan *plan,
                uint64_t origin, const struct ms_task_times *tt,
                const struct ms_unit_buffers *b)
{
    int64_t id = plan->samples[tt->sample].name.id;
    uint64_t t0 = tt->t0 - origin;
    if (!tt->unit) {
        struct ms_trace_event e = {MS_TRACE_EDGES, tt->worker, t0,
                                   tt->t1 - tt->t0, 0, id, tt->index,
                                   tt->step};
        return ms__trace_add(s, &e);
    }
    uint64_t read = b->read_ns < tt->t1 - tt->t0 ? b->read_ns
                                                 : tt->t1 - tt->t0;
    size_t unit = plan->unit_base + tt->index;
    struct ms_trace_event r = {MS_TRACE_READ, tt->worker, t0, read,
                               b->bytes, id, unit, MS_TRACE_STEP_NONE};
    struct ms_trace_event c = {MS_TRACE_COMPUTE, tt->worker, t0 + read,
                               tt->t1 - tt->t0 - read, 0, id, unit,
                               MS_TRACE_STEP_NONE};
    int rc = ms__trace_add(s, &r);
    return rc != 0 ? rc : ms__trace_add(s, &c);
}

int
ms__record_check(struct ms_stats *s, unsigned workers, uint64_t origin,
                 uint64_t t0, uint64_t t1, int64_t first, size_t count)
{
    struct ms_trace_event e = {MS_TRACE_CHECK, workers + 1, t0 - origin,
                               t1 - t0, 0, first, count,
                               MS_TRACE_STEP_NONE};
    return ms__trace_add(s, &e);
}

int
ms__record_fold(struct ms_stats *s, uint64_t origin, uint64_t t0,
                uint64_t t1)
{
    struct ms_trace_event e = {
        MS_TRACE_FOLD, 0, t0 - origin, t1 - t0, 0, -1, 0, MS_TRACE_STEP_NONE};
    return ms__trace_add(s, &e);
}
