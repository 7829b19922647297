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
 * nothing hides, so it is kept small).  Every check runs on a planner
 * thread ("meshstats-check": src/cli/crash.c knows it by that name) and
 * touches only its segment's samples: the first while the calling thread
 * waits, the next ones while the pipeline runs the segment before.  Each
 * segment has its own share of the memory limit (budget.c), and its
 * units, once it has run, are freed.  The fold order is the samples' order
 * whatever the segments, and units never enter the arithmetic.
 *
 * What the budget decides can change a result in one way: whether a large
 * mesh's edge list is held (budget.c), which a list stored out of order
 * needs.  So a check stops at the first mesh of more than one block
 * (before it reads that mesh's edges), and from there the pass is planned
 * as one plan would plan it: the rest checked while nothing runs, the
 * memory limit shared out over every sample, the rest cut and run as one
 * segment.  So is a segment too big for its share, so that the error names
 * the largest need of all.  A nodal file of small meshes streams whole; a
 * trajectory file (whose checks hold its statics) is planned whole.
 *
 * While it waits for a check, the calling thread runs a loop of its own
 * (the guard): SIGINT and SIGTERM (with handle_signals) and the caller's
 * should_stop, every 100 ms, cancel the check and end the pass as the
 * pipeline would; its signal handles stay on for the whole pass, so a
 * signal between two segments is caught too.  What a check finds is
 * reported when it is done, in id order; a worker's finds as they are
 * folded.  Progress is counted over the pass; the stored bytes of the
 * samples not yet checked are estimated at the mean of those checked.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "pass/pass.h"
#include "pass/workers.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <uv.h>

#define FIRST_SEGMENT 64
#define MAX_SEGMENT 4096
#define POLL_MS 100

/* A check on its own thread. */
struct planner {
    struct ms_plan *seg;
    struct ms_file *file;
    struct ms_options opts; /* the caller's: no warnings, stops on cancel */
    atomic_bool cancel;
    uv_thread_t thread;
    uv_async_t *done; /* sent when the check ends */
    uint64_t t0, t1;  /* when it ran (uv_hrtime) */
    atomic_bool holding; /* a pipeline's last worker held back meanwhile */
    bool running;
    int rc;
    struct ms_error err;
};

/* The calling thread's loop while it waits (see the top). */
struct guard {
    uv_loop_t loop;
    uv_async_t done;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    bool signals_on, checked;
    int signum;    /* a signal caught */
    bool stop;     /* should_stop said yes */
    struct planner *pl;
    const struct ms_options *opts;
};

struct stream {
    struct ms_file *file;
    struct ms_stats *stats;
    const struct ms_plan *whole;
    const struct ms_options *opts;
    struct planner pl;
    struct guard guard;
    struct ms_plan *next; /* the segment the pipeline's start checks */
    /* Progress over the pass from the segments' own. */
    const struct ms_pass_sinks *sinks;
    struct ms_pass_sinks mine; /* the caller's, through forward_progress */
    struct ms_progress before; /* the segments that have run, added up */
    struct ms_progress seg;    /* the running segment's last report */
    struct ms_progress last;   /* the last report passed on */
    bool reported;             /* (none if the first check failed) */
};

/* ------------------------------------------------------------------ */
/* The planner thread. */

/* The check's question before every sample: on its thread, the flag
 * the calling thread raises. */
static bool
planner_canceled(void *data)
{
    struct planner *pl = data;
    return atomic_load(&pl->cancel);
}

static void
planner_main(void *arg)
{
    struct planner *pl = arg;
    pthread_setname_np(pthread_self(), "meshstats-check");
    pl->t0 = uv_hrtime();
    pl->rc = ms__plan_check(pl->seg, pl->file, &pl->opts, &pl->err);
    pl->t1 = uv_hrtime();
    atomic_store(&pl->holding, false);
    uv_async_send(pl->done);
}

/* Check seg on the planner thread; false if no thread could start. */
static bool
planner_start(struct stream *st, struct ms_plan *seg)
{
    struct planner *pl = &st->pl;
    pl->seg = seg;
    pl->file = st->file;
    pl->opts = *st->opts;
    pl->opts.on_warning = NULL;
    pl->opts.should_stop = NULL; /* (the guard asks it) */
    seg->stop = planner_canceled;
    seg->stop_data = pl;
    pl->done = &st->guard.done;
    atomic_store(&pl->cancel, false);
    st->guard.checked = false;
    pl->rc = 0;
    pl->running = uv_thread_create(&pl->thread, planner_main, pl) == 0;
    return pl->running;
}

/* ------------------------------------------------------------------ */
/* The guard. */

static void
guard_done(uv_async_t *a)
{
    struct guard *g = a->data;
    g->checked = true;
}

static void
guard_poll(uv_timer_t *t)
{
    struct guard *g = t->data;
    const struct ms_options *o = g->opts;
    if (!g->stop && o->should_stop != NULL && o->should_stop(o->userdata)) {
        g->stop = true;
        atomic_store(&g->pl->cancel, true);
    }
}

static void
guard_signal(uv_signal_t *h, int signum)
{
    struct guard *g = h->data;
    g->signum = g->signum ? g->signum : signum;
    atomic_store(&g->pl->cancel, true);
}

static int
guard_start(struct stream *st)
{
    struct guard *g = &st->guard;
    g->pl = &st->pl;
    g->opts = st->opts;
    int rc = uv_loop_init(&g->loop);
    if (rc != 0) {
        return rc;
    }
    g->done.data = g->timer.data = g->sigint.data = g->sigterm.data = g;
    rc = uv_async_init(&g->loop, &g->done, guard_done);
    rc = rc == 0 ? uv_timer_init(&g->loop, &g->timer) : rc;
    if (rc == 0 && st->opts->handle_signals &&
        uv_signal_init(&g->loop, &g->sigint) == 0 &&
        uv_signal_init(&g->loop, &g->sigterm) == 0) {
        g->signals_on = true;
        uv_signal_start(&g->sigint, guard_signal, SIGINT);
        uv_signal_start(&g->sigterm, guard_signal, SIGTERM);
    }
    return rc;
}

static void
guard_close(struct guard *g)
{
    uv_handle_t *h[] = {(uv_handle_t *)&g->done, (uv_handle_t *)&g->timer,
                        (uv_handle_t *)&g->sigint,
                        (uv_handle_t *)&g->sigterm};
    for (size_t i = 0; i < (g->signals_on ? 4u : 2u); i++) {
        uv_close(h[i], NULL);
    }
    uv_run(&g->loop, UV_RUN_DEFAULT);
    uv_loop_close(&g->loop);
}

/* A signal or the caller's stop, caught by the guard, as the pass's
 * error (0 if none). */
static int
guard_verdict(struct guard *g, struct ms_error *err)
{
    uv_run(&g->loop, UV_RUN_NOWAIT);
    return g->signum != 0 || g->stop ? ms__error_canceled(err, g->signum)
                                     : 0;
}

/* Wait for the planner (told to stop if cancel), the guard watching. */
static void
planner_join(struct stream *st, bool cancel)
{
    struct planner *pl = &st->pl;
    struct guard *g = &st->guard;
    if (!pl->running) {
        return;
    }
    if (cancel) {
        atomic_store(&pl->cancel, true);
    }
    uv_timer_start(&g->timer, guard_poll, POLL_MS, POLL_MS);
    while (!g->checked) {
        uv_run(&g->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&g->timer);
    uv_thread_join(&pl->thread);
    pl->running = false;
}

/* ------------------------------------------------------------------ */
/* Checks. */

/* The bad samples a planner found, as plan.c would have reported them. */
static void
report_deferred(const struct ms_plan *seg, const struct ms_options *opts)
{
    for (size_t s = 0; opts->on_warning != NULL && s < seg->checked; s++) {
        const struct ms_plan_sample *ps = &seg->samples[s];
        if (ps->bad && ps->reason != NULL) {
            opts->on_warning(opts->userdata, ps->name.id, ps->reason);
        }
    }
}

/* A check of seg from t0 to t1 on the timeline (with trace): 0, or
 * MS_ENOMEM in err. */
static int
record_check(struct stream *st, const struct ms_plan *seg, uint64_t t0,
             uint64_t t1, struct ms_error *err)
{
    if (!st->opts->trace || seg->nsamples == 0 ||
        ms__record_check(st->stats, ms__resolve_workers(st->opts),
                         st->mine.origin_ns, t0, t1, seg->samples[0].name.id,
                         seg->nsamples) == 0) {
        return 0;
    }
    return ms__error_set(err, MS_ENOMEM, "out of memory");
}

/* A planner's check of seg, joined: a signal or stop the guard caught,
 * its failure, or its bad samples reported. */
static int
check_outcome(struct stream *st, struct ms_plan *seg, struct ms_error *err)
{
    int rc = guard_verdict(&st->guard, err);
    if (rc == 0) {
        rc = record_check(st, seg, st->pl.t0, st->pl.t1, err);
    }
    if (rc == 0 && st->pl.rc != 0) {
        *err = st->pl.err;
        rc = st->pl.rc;
    }
    if (rc == 0) {
        report_deferred(seg, st->opts);
    }
    return rc;
}

/* The check's question before every sample when it runs on the calling
 * thread (no thread of its own could start): whether the guard has caught
 * a signal (the caller's should_stop the check asks itself). */
static bool
signal_caught(void *data)
{
    struct guard *g = data;
    uv_run(&g->loop, UV_RUN_NOWAIT);
    return g->signum != 0;
}

/* Check seg now: on the planner thread, waiting for it, or here if no
 * thread could start. */
static int
check_now(struct stream *st, struct ms_plan *seg, struct ms_error *err)
{
    if (!planner_start(st, seg)) {
        seg->stop = signal_caught;
        seg->stop_data = &st->guard;
        uint64_t t0 = uv_hrtime();
        int rc = ms__plan_check(seg, st->file, st->opts, err);
        int caught = guard_verdict(&st->guard, err);
        rc = caught != 0 ? caught : rc;
        return rc != 0 ? rc : record_check(st, seg, t0, uv_hrtime(), err);
    }
    planner_join(st, false);
    return check_outcome(st, seg, err);
}

/* The pipeline's workers have started: the next segment's check too,
 * the last worker held back until it is done (workers.c): the check
 * takes a core, and that worker would only take it from the pass's
 * critical path (docs/performance.md, "Many samples"). */
static void
start_next(void *data, struct ms_workers *workers)
{
    struct stream *st = data;
    if (st->next == NULL) {
        return;
    }
    atomic_store(&st->pl.holding, true);
    ms__workers_hold(workers, &st->pl.holding);
    if (!planner_start(st, st->next)) {
        atomic_store(&st->pl.holding, false);
    }
}

static int
segment(struct stream *st, size_t lo, size_t hi, struct ms_plan **out,
        struct ms_error *err)
{
    return ms__plan_segment(st->whole, lo, hi, out) != 0
               ? ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                               ms__file_path(st->file))
               : 0;
}

/* From sample lo on, the plan one plan would make: samples [lo, k)
 * checked, [k, n) checked now, the memory limit shared out over every
 * sample, and [lo, n) cut as one segment into *out. */
static int
plan_rest(struct stream *st, size_t lo, size_t k, struct ms_plan **out,
          struct ms_error *err)
{
    size_t n = st->whole->nsamples;
    const char *path = ms__file_path(st->file);
    struct ms_plan *rest = NULL, *all = NULL;
    int rc = k < n ? segment(st, k, n, &rest, err) : 0;
    rc = rc == 0 && rest != NULL ? check_now(st, rest, err) : rc;
    ms__plan_destroy(rest);
    rc = rc == 0 ? segment(st, 0, n, &all, err) : rc;
    rc = rc == 0 ? ms__budget_share(all, st->opts, path, err) : rc;
    rc = rc == 0 ? segment(st, lo, n, out, err) : rc;
    rc = rc == 0 ? ms__plan_cut(*out, all, st->opts, path, err) : rc;
    ms__plan_destroy(all);
    return rc;
}

/* Segment *segp (its first sample lo) cut under its own share, or, at a
 * large mesh or a sample too big for that share, replaced by the rest of
 * the pass planned whole (plan_rest).  *more: whether segments follow. */
static int
cut_segment(struct stream *st, struct ms_plan **segp, size_t lo, bool *more,
            struct ms_error *err)
{
    struct ms_plan *seg = *segp;
    bool stopped = seg->checked < seg->nsamples;
    int rc = stopped ? MS_ETOOBIG
                     : ms__plan_cut(seg, NULL, st->opts,
                                    ms__file_path(st->file), err);
    *more = rc == 0 && lo + seg->nsamples < st->whole->nsamples;
    if (rc != MS_ETOOBIG) {
        return rc;
    }
    struct ms_plan *rest = NULL;
    rc = plan_rest(st, lo, lo + seg->checked, &rest, err);
    if (rest != NULL) {
        rest->unit_base = seg->unit_base;
        ms__plan_destroy(seg);
        *segp = rest;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Progress over the pass. */

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
    size_t rest = st->whole->nsamples - checked;
    out.samples_done += b->samples_done;
    out.samples_total = st->whole->nsamples;
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

/* ------------------------------------------------------------------ */
/* The segments. */

/* The segment after [lo, hi): twice as long, within the bounds at the
 * top; none when no sample is left. */
static int
next_segment(struct stream *st, size_t lo, size_t hi, struct ms_error *err)
{
    size_t rest = st->whole->nsamples - hi, size = 2 * (hi - lo);
    size = size < MAX_SEGMENT ? size : MAX_SEGMENT;
    size = size < rest / 2 || rest / 2 < FIRST_SEGMENT ? size : rest / 2;
    st->next = NULL;
    if (rest == 0) {
        return 0;
    }
    int rc = segment(st, hi, rest < size ? hi + rest : hi + size, &st->next,
                     err);
    if (rc == 0) {
        st->next->stop_at_blocked = true;
    }
    return rc;
}

/* Segment *segp cut and run while the next is checked; *next then holds
 * the next, checked (NULL: none left, or the pass failed). */
static int
run_segment(struct stream *st, struct ms_plan **segp, size_t lo,
            struct ms_stats *stats, struct ms_plan **next,
            struct ms_error *err)
{
    bool more;
    int rc = cut_segment(st, segp, lo, &more, err);
    struct ms_plan *seg = *segp;
    if (rc == 0 && more) {
        rc = next_segment(st, lo, lo + seg->nsamples, err);
    }
    if (rc == 0) {
        rc = ms__pipeline_run(st->file, seg, st->opts, stats, &st->mine,
                              err);
        segment_ran(st);
    }
    bool threaded = st->pl.running;
    planner_join(st, rc != 0);
    rc = rc == 0 ? guard_verdict(&st->guard, err) : rc;
    if (rc == 0 && st->next != NULL) {
        st->next->unit_base = seg->unit_base + seg->nunits;
        rc = threaded ? check_outcome(st, st->next, err)
                      : check_now(st, st->next, err);
    }
    if (rc != 0) {
        ms__plan_destroy(st->next);
        st->next = NULL;
    }
    *next = st->next;
    st->next = NULL;
    return rc;
}

int
ms__stream_run(struct ms_file *f, const struct ms_plan *whole,
               const struct ms_options *opts, struct ms_stats *stats,
               const struct ms_pass_sinks *sinks, struct ms_error *err)
{
    struct stream st = {.file = f, .stats = stats, .whole = whole,
                        .opts = opts, .sinks = sinks};
    st.mine = *sinks;
    st.mine.progress = forward_progress;
    st.mine.progress_data = &st;
    st.mine.origin_ns = uv_hrtime();
    st.mine.started = start_next;
    int rc = guard_start(&st);
    if (rc != 0) {
        return ms__error_set(err, MS_EIO, "cannot start the event loop: %s",
                             uv_strerror(rc));
    }
    bool nodal = !whole->model->trajectory;
    size_t n = whole->nsamples;
    struct ms_plan *seg = NULL;
    rc = segment(&st, 0, nodal && n > FIRST_SEGMENT ? FIRST_SEGMENT : n,
                 &seg, err);
    if (rc == 0) {
        seg->stop_at_blocked = nodal;
        rc = check_now(&st, seg, err);
    }
    for (size_t lo = 0; rc == 0 && seg != NULL;) {
        struct ms_plan *next;
        rc = run_segment(&st, &seg, lo, stats, &next, err);
        lo += seg->nsamples;
        ms__plan_destroy(seg);
        seg = next;
    }
    ms__plan_destroy(seg);
    guard_close(&st.guard);
    st.last.finished = true;
    if (st.reported && sinks->progress != NULL) {
        sinks->progress(sinks->progress_data, &st.last);
    }
    return rc;
}
