/*
 * stream.c: a pass in segments, checked while those before them run.
 *
 * Checking a sample is HDF5 metadata work (its datasets opened and
 * described: about 20 us for a small one), done under HDF5's lock, so on
 * one thread; for a file of thousands of small samples it is most of a
 * pass.  So the samples are checked, cut and run in segments of
 * consecutive ones, 64 samples first and twice as many each time up to
 * 4,096 (planner.h), but no more than half of what is left while that
 * half is 64 or more (the last segment's run is the one nothing hides, so
 * it is kept small).  The checks run on a planner thread (planner.c):
 * the first segment's while the calling thread waits, then, one segment
 * after another, the rest while the pipeline runs the segments already
 * checked, so that the check thread, the pass's critical path for small
 * samples, never waits for a pipeline.  Each check touches only its
 * segment's samples.  Each segment has its own share of the memory limit
 * (budget.c), and its units, once it has run, are freed.  The fold order is the samples' order
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
#include "pass/planner.h"
#include "pass/workers.h"

#include <stdatomic.h>
#include <uv.h>

struct stream {
    struct ms_file *file;
    struct ms_stats *stats;
    const struct ms_plan *whole;
    const struct ms_options *opts;
    struct ms_planner pl;
    struct ms_guard guard;
    size_t job; /* the planner's job the running segment is (planner.h) */
    /* Progress over the pass from the segments' own. */
    const struct ms_pass_sinks *sinks;
    struct ms_pass_sinks mine; /* the caller's, through forward_progress */
    struct ms_progress before; /* the segments that have run, added up */
    struct ms_progress seg;    /* the running segment's last report */
    struct ms_progress last;   /* the last report passed on */
    bool reported;             /* (none if the first check failed) */
};

/* ------------------------------------------------------------------ */
/* Checks. */

/* seg (its first sample lo) checked on the planner's thread, and the
 * segments after it too if going_on (planner.h); false if no thread
 * could start. */
static bool
start_check(struct stream *st, struct ms_plan *seg, size_t lo, bool going_on)
{
    st->job = 0;
    return ms__planner_start(&st->pl, &st->guard, st->file, st->whole,
                             st->opts, seg, lo, going_on);
}

/* The planner stopped (if cancel) and joined, the segments it made that
 * the stream has not taken dropped. */
static void
finish_checks(struct stream *st, bool cancel)
{
    ms__planner_finish(&st->pl, &st->guard, cancel, st->job + 1);
}

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

/* A planner's check c, over: a signal or stop the guard caught, its
 * failure, or its bad samples reported. */
static int
check_outcome(struct stream *st, const struct ms_check *c, struct ms_error *err)
{
    int rc = ms__guard_verdict(&st->guard, err);
    if (rc == 0) {
        rc = record_check(st, c->seg, c->t0, c->t1, err);
    }
    if (rc == 0 && c->rc != 0) {
        *err = c->err;
        rc = c->rc;
    }
    if (rc == 0) {
        report_deferred(c->seg, st->opts);
    }
    return rc;
}

/* Check seg (its first sample lo) now: on the planner thread, waiting for
 * it (and, if going_on, the segments after it then, while they run), or
 * here if no thread could start. */
static int
check_now(struct stream *st, struct ms_plan *seg, size_t lo, bool going_on,
          struct ms_error *err)
{
    if (!start_check(st, seg, lo, going_on)) {
        seg->stop = ms__guard_signal_caught;
        seg->stop_data = &st->guard;
        uint64_t t0 = uv_hrtime();
        int rc = ms__plan_check(seg, st->file, st->opts, err);
        int caught = ms__guard_verdict(&st->guard, err);
        rc = caught != 0 ? caught : rc;
        return rc != 0 ? rc : record_check(st, seg, t0, uv_hrtime(), err);
    }
    const struct ms_check *c = ms__planner_job(&st->pl, &st->guard, 0);
    int rc = check_outcome(st, c, err);
    if (rc != 0 || !going_on) {
        finish_checks(st, rc != 0);
    }
    return rc;
}

/* The pipeline's workers have started: while the planner checks the
 * segments after, the last worker is held back (workers.c): the check
 * takes a core, and that worker would only take it from the pass's
 * critical path (docs/performance.md, "Many samples"). */
static void
hold_one(void *data, struct ms_workers *workers)
{
    struct stream *st = data;
    if (st->pl.running) {
        ms__workers_hold(workers, &st->pl.holding);
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
    finish_checks(st, true); /* (the checks ahead are not used) */
    rc = rc == 0 && rest != NULL ? check_now(st, rest, k, false, err) : rc;
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

/* The segment after [lo, hi) (none when no sample is left), checked: the
 * planner's next job, or, if it made none (no thread, no memory), made
 * and checked now. */
static int
next_segment(struct stream *st, size_t lo, size_t hi, struct ms_plan **next,
             struct ms_error *err)
{
    const struct ms_check *c =
        ms__planner_job(&st->pl, &st->guard, st->job + 1);
    if (c != NULL) {
        st->job++;
        *next = c->seg;
        return check_outcome(st, c, err);
    }
    finish_checks(st, false);
    size_t end;
    *next = NULL;
    if (!ms__segment_end(st->whole->nsamples, lo, hi, &end)) {
        return 0;
    }
    int rc = segment(st, hi, end, next, err);
    if (rc == 0) {
        (*next)->stop_at_blocked = true;
        rc = check_now(st, *next, hi, true, err);
    }
    return rc;
}

/* Segment *segp cut and run while the next ones are checked; *next then
 * holds the next, checked (NULL: none left, or the pass failed). */
static int
run_segment(struct stream *st, struct ms_plan **segp, size_t lo,
            struct ms_stats *stats, struct ms_plan **next,
            struct ms_error *err)
{
    bool more;
    *next = NULL;
    int rc = cut_segment(st, segp, lo, &more, err);
    struct ms_plan *seg = *segp;
    if (rc == 0) {
        rc = ms__pipeline_run(st->file, seg, st->opts, stats, &st->mine,
                              err);
        segment_ran(st);
    }
    rc = rc == 0 ? ms__guard_verdict(&st->guard, err) : rc;
    if (rc == 0 && more) {
        rc = next_segment(st, lo, lo + seg->nsamples, next, err);
    }
    if (rc != 0) {
        if (*next != NULL && st->pl.running) {
            st->job--; /* (the planner's to drop) */
        } else {
            ms__plan_destroy(*next);
        }
        *next = NULL;
        finish_checks(st, true);
    } else if (*next != NULL) {
        (*next)->unit_base = seg->unit_base + seg->nunits;
    }
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
    st.mine.started = hold_one;
    int rc = ms__guard_start(&st.guard, &st.pl, opts);
    if (rc != 0) {
        return ms__start_error(rc, ms__file_path(st.file), "the event loop",
                               err);
    }
    bool nodal = !whole->model->trajectory;
    size_t n = whole->nsamples;
    struct ms_plan *seg = NULL;
    rc = segment(&st, 0, nodal && n > MS_FIRST_SEGMENT ? MS_FIRST_SEGMENT : n,
                 &seg, err);
    if (rc == 0) {
        seg->stop_at_blocked = nodal;
        rc = check_now(&st, seg, 0, nodal, err);
    }
    for (size_t lo = 0; rc == 0 && seg != NULL;) {
        struct ms_plan *next;
        rc = run_segment(&st, &seg, lo, stats, &next, err);
        lo += seg->nsamples;
        ms__plan_destroy(seg);
        seg = next;
    }
    ms__plan_destroy(seg);
    finish_checks(&st, rc != 0); /* (nothing left unless the pass failed) */
    ms__guard_close(&st.guard);
    st.last.finished = true;
    if (st.reported && sinks->progress != NULL) {
        sinks->progress(sinks->progress_data, &st.last);
    }
    return rc;
}
