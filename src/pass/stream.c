/*
 * stream.c: a pass in segments, each checked while the one before runs.
 *
 * Checking a sample is HDF5 metadata work (its datasets opened and
 * described: about 20 us for a small one), done under HDF5's lock, so on
 * one thread; for a file of thousands of small samples it is most of a
 * pass.  So the samples are checked, cut and run in segments of
 * consecutive ones, FIRST_SEGMENT samples first and twice as many each
 * time up to MAX_SEGMENT, but no more than half of what is left while
 * that half is FIRST_SEGMENT or more (the last segment's run is the one
 * nothing hides, so it is kept small): the first is checked on the
 * calling thread;
 * then, while the pipeline runs segment k (the loop on the calling
 * thread, the workers), a planner thread checks segment k + 1 (plan.c's
 * checks, on that segment's samples only: nothing the pipeline touches).
 * Each segment has its own share of the memory limit (budget.c), and its
 * units, once it has run, are freed.  The fold order is the samples' order
 * whatever the segments, and units never enter the arithmetic, so the
 * result is the same bytes as one plan's.
 *
 * What the planner finds is reported as its segment is reached: bad
 * samples named through on_warning in id order (nothing is printed from
 * the planner thread), and under --strict the first bad sample ends the
 * pass there, before its segment runs (nothing has been written).  The
 * planner stops at a failure of the pass (asked between samples, as the
 * caller's should_stop is).  Progress is counted over the whole pass; the
 * stored bytes of the samples not yet checked are estimated at the mean of
 * those checked, so bytes_total is exact once the last segment is cut.
 */
#include "pass/pass.h"

#include <stdatomic.h>
#include <uv.h>

#define FIRST_SEGMENT 64
#define MAX_SEGMENT 4096

/* The check of the next segment on its own thread. */
struct planner {
    struct ms_plan *seg;
    struct ms_file *file;
    struct ms_options opts; /* the caller's: no warnings, stops on cancel */
    atomic_bool cancel;
    uv_thread_t thread;
    bool running;
    int rc;
    struct ms_error err;
    uint64_t ns; /* how long the check took (the planner's) */
    uint64_t last_ns;    /* that of the last one joined */
    size_t last_samples; /* and its samples */
};

/* Progress over the pass from the segments' own. */
struct stream {
    const struct ms_pass_sinks *sinks;
    size_t nsamples;
    struct ms_progress before; /* the segments that have run, added up */
    struct ms_progress seg;    /* the running segment's last report */
    struct ms_progress last;   /* the last report passed on */
    bool reported;             /* (none if the first check failed) */
    uint64_t pipeline_ns;      /* how long the last segment ran */
    size_t pipeline_samples;   /* and its samples */
    struct ms_pass_sinks mine; /* the caller's, through forward_progress */
};

static bool
planner_canceled(void *userdata)
{
    struct planner *pl = userdata;
    return atomic_load(&pl->cancel);
}

static void
planner_main(void *arg)
{
    struct planner *pl = arg;
    uint64_t t0 = uv_hrtime();
    pl->rc = ms__plan_check(pl->seg, pl->file, &pl->opts, &pl->err);
    pl->ns = uv_hrtime() - t0;
}

/* Check seg on the planner thread; false if no thread could start (then
 * the caller checks it itself). */
static bool
planner_start(struct planner *pl, struct ms_plan *seg, struct ms_file *f,
              const struct ms_options *opts)
{
    pl->seg = seg;
    pl->file = f;
    pl->opts = *opts;
    pl->opts.on_warning = NULL;
    pl->opts.should_stop = planner_canceled;
    pl->opts.userdata = pl;
    atomic_store(&pl->cancel, false);
    pl->rc = 0;
    pl->running = uv_thread_create(&pl->thread, planner_main, pl) == 0;
    return pl->running;
}

/* Wait for the planner (told to stop first if cancel). */
static void
planner_join(struct planner *pl, bool cancel)
{
    if (pl->running) {
        atomic_store(&pl->cancel, cancel);
        uv_thread_join(&pl->thread);
        pl->running = false;
        pl->last_ns = pl->ns;
        pl->last_samples = pl->seg->nsamples;
    }
}

/* The bad samples of a segment the planner checked, as plan.c reports
 * them itself. */
static void
report_deferred(const struct ms_plan *seg, const struct ms_options *opts)
{
    for (size_t s = 0; opts->on_warning != NULL && s < seg->nsamples; s++) {
        const struct ms_plan_sample *ps = &seg->samples[s];
        if (ps->bad && ps->reason != NULL) {
            opts->on_warning(opts->userdata, ps->name.id, ps->reason);
        }
    }
}

/* The workers of a segment's pipeline: all of them, but one fewer (at
 * least one) while the planner runs if it was the slower of the two,
 * sample for sample, the last time: then it is the pass's critical path,
 * and a worker more only takes a core from it (-j 2 on 2 cores, the
 * 20,000 small samples of bench/many_bench.sh: 0.64 s against 0.56 s). */
static unsigned
workers_beside(const struct stream *st, const struct planner *pl,
               const struct ms_options *opts)
{
    unsigned all = ms__resolve_workers(opts);
    bool slower = pl->running && st->pipeline_samples > 0 &&
                  pl->last_samples > 0 &&
                  (double)pl->last_ns / (double)pl->last_samples >
                      (double)st->pipeline_ns / (double)st->pipeline_samples;
    return slower && all > 1 ? all - 1 : all;
}

/* n x part / whole, for estimates. */
static uint64_t
scaled(uint64_t part, size_t n, size_t whole)
{
    return whole ? (uint64_t)((double)part * (double)n / (double)whole) : 0;
}

/* A segment's report as one of the pass: the counts of the segments
 * before added, and the totals of the samples not checked yet estimated. */
static void
forward_progress(void *data, const struct ms_progress *p)
{
    struct stream *st = data;
    const struct ms_progress *b = &st->before;
    st->seg = *p;
    struct ms_progress out = *p;
    size_t checked = b->samples_total + p->samples_total;
    size_t rest = st->nsamples - checked;
    out.samples_done += b->samples_done;
    out.samples_total = st->nsamples;
    out.units_done += b->units_done;
    out.units_total += b->units_total;
    out.units_total += scaled(out.units_total, rest, checked);
    out.bytes_done += b->bytes_done;
    out.bytes_total += b->bytes_total;
    out.bytes_total += scaled(out.bytes_total, rest, checked);
    out.finished = false; /* (once, at the end of the pass) */
    st->last = out;
    st->reported = true;
    if (st->sinks->progress != NULL) {
        st->sinks->progress(st->sinks->progress_data, &out);
    }
}

/* The running segment's counts into those before. */
static void
segment_ran(struct stream *st)
{
    struct ms_progress *b = &st->before;
    b->samples_done += st->seg.samples_done;
    b->samples_total += st->seg.samples_total;
    b->units_done += st->seg.units_done;
    b->units_total += st->seg.units_total;
    b->bytes_done += st->seg.bytes_done;
    b->bytes_total += st->seg.bytes_total;
    st->seg = (struct ms_progress){0};
}

/* The segment after [lo, hi) into *next (NULL when none is left),
 * checked on the planner thread, or, if none could start, left for
 * finish_next. */
static int
next_segment(struct planner *pl, const struct ms_plan *whole, size_t lo,
             size_t hi, struct ms_file *f, const struct ms_options *opts,
             struct ms_plan **next, struct ms_error *err)
{
    size_t rest = whole->nsamples - hi, size = 2 * (hi - lo);
    size = size < MAX_SEGMENT ? size : MAX_SEGMENT;
    size = size < rest / 2 || rest / 2 < FIRST_SEGMENT ? size : rest / 2;
    size_t end = rest < size ? whole->nsamples : hi + size;
    *next = NULL;
    if (hi == whole->nsamples) {
        return 0;
    }
    if (ms__plan_segment(whole, hi, end, next) != 0) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    (void)planner_start(pl, *next, f, opts);
    return 0;
}

/* The next segment's check, once its thread is joined: its failure, or
 * its bad samples reported; or the check itself, if no thread ran it. */
static int
finish_next(struct planner *pl, struct ms_plan *next, bool threaded,
            struct ms_file *f, const struct ms_options *opts,
            struct ms_error *err)
{
    if (!threaded) {
        return ms__plan_check(next, f, opts, err);
    }
    if (pl->rc != 0) {
        *err = pl->err;
        return pl->rc;
    }
    report_deferred(next, opts);
    return 0;
}

/* Segment seg cut and run while the next is checked; *next then holds
 * the next, checked (NULL: none left, or the pass failed). */
static int
run_segment(struct stream *st, struct planner *pl, const struct ms_plan *whole,
            struct ms_plan *seg, size_t lo, struct ms_file *f,
            const struct ms_options *opts, struct ms_stats *stats,
            struct ms_plan **next, struct ms_error *err)
{
    *next = NULL;
    /* (the next checked while this one is cut too) */
    int rc = next_segment(pl, whole, lo, lo + seg->nsamples, f, opts, next,
                          err);
    bool threaded = pl->running;
    if (rc == 0) {
        rc = ms__plan_cut(seg, opts, ms__file_path(f), err);
    }
    if (rc == 0) {
        struct ms_options o = *opts;
        o.workers = workers_beside(st, pl, opts);
        uint64_t t0 = uv_hrtime();
        rc = ms__pipeline_run(f, seg, &o, stats, &st->mine, err);
        st->pipeline_ns = uv_hrtime() - t0;
        st->pipeline_samples = seg->nsamples;
        segment_ran(st);
    }
    planner_join(pl, rc != 0);
    if (rc == 0 && *next != NULL) {
        (*next)->unit_base = seg->unit_base + seg->nunits;
        rc = finish_next(pl, *next, threaded, f, opts, err);
    }
    if (rc != 0) {
        ms__plan_destroy(*next);
        *next = NULL;
    }
    return rc;
}

int
ms__stream_run(struct ms_file *f, const struct ms_plan *whole,
               const struct ms_options *opts, struct ms_stats *stats,
               const struct ms_pass_sinks *sinks, struct ms_error *err)
{
    struct stream st = {.sinks = sinks, .nsamples = whole->nsamples};
    st.mine = *sinks;
    st.mine.progress = forward_progress;
    st.mine.progress_data = &st;
    st.mine.origin_ns = uv_hrtime();
    struct planner pl = {0};
    size_t first = whole->nsamples < FIRST_SEGMENT ? whole->nsamples
                                                   : FIRST_SEGMENT;
    struct ms_plan *seg;
    int rc = ms__plan_segment(whole, 0, first, &seg) != 0
                 ? ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                 ms__file_path(f))
                 : ms__plan_check(seg, f, opts, err);
    for (size_t lo = 0; rc == 0 && seg != NULL;) {
        struct ms_plan *next;
        rc = run_segment(&st, &pl, whole, seg, lo, f, opts, stats, &next,
                         err);
        lo += seg->nsamples;
        ms__plan_destroy(seg);
        seg = next;
    }
    ms__plan_destroy(seg);
    st.last.finished = true;
    if (st.reported && sinks->progress != NULL) {
        sinks->progress(sinks->progress_data, &st.last);
    }
    return rc;
}
