/*
 * trace.c: the pass's timeline kept in the result, and written as a
 * Chrome trace-event file.
 *
 * The loop thread appends an event for each span a worker reported (a
 * unit's read and compute, a sample's first task) and for each of its own
 * folds, in the order it learned of them; nothing is written from the
 * workers' hot path.  The file is the trace-event JSON object format
 * (`traceEvents`, complete events "ph":"X" with ts and dur in
 * microseconds), which Perfetto and chrome://tracing open.
 */
#include "results/results.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int
ms__trace_add(struct ms_stats *s, const struct ms_trace_event *e)
{
    if ((s->ntrace & (s->ntrace - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        size_t cap = s->ntrace ? 2 * s->ntrace : 64;
        void *grown = ms__reallocarray(s->trace, cap, sizeof(*s->trace));
        if (grown == NULL) {
            return MS_ENOMEM;
        }
        s->trace = grown;
    }
    s->trace[s->ntrace++] = *e;
    return 0;
}

static const char *
kind_name(enum ms_trace_kind kind)
{
    static const char *const names[] = {"read", "compute", "edges", "fold",
                                        "check"};
    return (unsigned)kind < MS_ARRAY_SIZE(names) ? names[kind] : "?";
}

static const char *
step_name(enum ms_trace_step step)
{
    static const char *const names[] = {
        [MS_TRACE_STEP_LIST] = "list",
        [MS_TRACE_STEP_KEEP] = "keep",
        [MS_TRACE_STEP_MAP] = "map",
        [MS_TRACE_STEP_SORT_NODES] = "sort nodes",
        [MS_TRACE_STEP_COUNT] = "count",
        [MS_TRACE_STEP_PUT] = "put",
        [MS_TRACE_STEP_SORT_EDGES] = "sort edges",
        [MS_TRACE_STEP_NOT_KEPT] = "not kept"};
    return (unsigned)step < MS_ARRAY_SIZE(names) && names[step] != NULL
               ? names[step]
               : "?";
}

/* An edges span's args after the sample: its step, and its part where
 * the step has parts. */
static void
step_args(FILE *out, const struct ms_trace_event *e)
{
    fprintf(out, ", \"step\": \"%s\"", step_name(e->step));
    if (e->step != MS_TRACE_STEP_LIST && e->step != MS_TRACE_STEP_MAP &&
        e->step != MS_TRACE_STEP_NOT_KEPT) {
        fprintf(out, ", \"part\": %zu", e->unit);
    }
}

static void
event(FILE *out, const struct ms_trace_event *e, bool first)
{
    fprintf(out,
            "%s\n    {\"name\": \"%s\", \"ph\": \"X\", \"pid\": 1, "
            "\"tid\": %u, \"ts\": %.3f, \"dur\": %.3f",
            first ? "" : ",", kind_name(e->kind), e->thread,
            (double)e->start_ns / 1e3, (double)e->dur_ns / 1e3);
    if (e->kind == MS_TRACE_CHECK) {
        fprintf(out, ", \"args\": {\"sample\": %" PRId64 ", \"samples\": %zu}",
                e->sample, e->unit);
    } else if (e->kind != MS_TRACE_FOLD) {
        fprintf(out, ", \"args\": {\"sample\": %" PRId64, e->sample);
        if (e->kind != MS_TRACE_EDGES) {
            fprintf(out, ", \"unit\": %zu", e->unit);
        } else {
            step_args(out, e);
        }
        if (e->kind == MS_TRACE_READ) {
            fprintf(out, ", \"bytes\": %" PRIu64, e->bytes);
        }
        fputc('}', out);
    }
    fputc('}', out);
}

/* The threads' names: loop, worker 1, ..., check. */
static void
thread_names(FILE *out, unsigned workers)
{
    for (unsigned t = 0; t <= workers + 1; t++) {
        fprintf(out,
                ",\n    {\"name\": \"thread_name\", \"ph\": \"M\", "
                "\"pid\": 1, \"tid\": %u, \"args\": {\"name\": \"",
                t);
        if (t == 0) {
            fputs("loop", out);
        } else if (t <= workers) {
            fprintf(out, "worker %u", t);
        } else {
            fputs("check", out);
        }
        fputs("\"}}", out);
    }
    fputs(",\n    {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, "
          "\"args\": {\"name\": \"meshstats\"}}",
          out);
}

static int
write_trace(const struct ms_stats *s, FILE *out)
{
    fputs("{\"traceEvents\": [", out);
    for (size_t i = 0; i < s->ntrace; i++) {
        event(out, &s->trace[i], i == 0);
    }
    if (s->ntrace == 0) {
        fputs("\n    {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, "
              "\"args\": {\"name\": \"meshstats\"}}",
              out);
    } else {
        thread_names(out, s->info.workers);
    }
    const struct ms_run_info *r = &s->info;
    fprintf(out,
            "\n  ],\n  \"displayTimeUnit\": \"ms\",\n  \"otherData\": {"
            "\"meshstats_version\": \"%s\", \"model\": \"%s\", "
            "\"workers\": %u, \"prefetch\": %u, \"units\": %zu, "
            "\"bytes_read\": %" PRIu64 ", \"wall_seconds\": %.6f, "
            "\"read_seconds\": %.6f, \"compute_seconds\": %.6f, "
            "\"samples_used\": %zu, \"max_timesteps_for_stats\": %u}\n}\n",
            MS_VERSION_STRING, ms_model_name(s->model), r->workers,
            r->prefetch, r->units, r->bytes_read, r->wall_seconds,
            r->read_seconds, r->compute_seconds, s->samples_used,
            s->max_timesteps);
    return ferror(out) ? MS_EIO : 0;
}

int
ms_stats_write_trace(const struct ms_stats *s, FILE *out)
{
    return ms__stats_write_in_c(write_trace, s, out);
}
