/*
 * pipeline.c: the libuv event loop that runs the work units of a plan on
 * the pass's own worker threads and folds their partials in order.
 *
 * The plan becomes a list of tasks in data order: for each good sample, one
 * task that reads and validates its edges (two for a large mesh: its edge
 * order), then its units.  The loop thread
 * hands tasks in that order to the pass's workers (workers.c: started here,
 * joined before it returns), at most `prefetch` ahead of the fold: task i
 * runs in ring slot i % prefetch, whose buffers (sized by the plan's share
 * of the memory limit) it owns until its done callback has run on the
 * loop and the fold has passed it.  Workers only read and compute; the
 * done callback marks the task done (and with --trace records its spans:
 * pass_record.c), the fold consumes done tasks strictly in task order (the
 * ring is the reorder buffer), then more tasks are dispatched.  So the
 * merge order, and with it the result, never depends on timing.
 *
 * Errors travel back in the task: a sample-level failure (bad edges, a
 * read error) marks the sample failed so its remaining units are not run,
 * and the fold, reaching the first failed task of the sample in order,
 * skips the sample with that task's message (deterministic: every task
 * before a dispatched one was dispatched).  A fatal error (NaN, overflow,
 * out of memory, or any failure under --strict) stops dispatching, cancels
 * what has not started, drains what has, and ends the pass with the first
 * such error in task order.  SIGINT and SIGTERM do the same through
 * uv_signal_t.  Every libuv status is translated here.
 */
#include "pass/tasks.h"
#include "pass/workers.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_MS 100

enum job_state { JOB_FREE, JOB_RUNNING, JOB_DONE };

struct pipeline;

/* A ring slot: the task it runs and the buffers it owns. */
struct job {
    struct ms_work work; /* first: a job is its work */
    struct pipeline *pipe;
    size_t task;
    enum job_state state;
    bool skipped; /* not run: its sample had already failed */
    int rc;
    struct ms_error err;
    struct ms_unit_buffers buffers;
    struct ms_task_times times; /* for the timeline */
};

enum sample_state { SAMPLE_WAITING, SAMPLE_READY, SAMPLE_FAILED };

struct pipeline {
    uv_loop_t loop;
    struct ms_workers workers;
    bool workers_on;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    bool timer_on, sigint_on, sigterm_on;
    const struct ms_options *opts;
    struct ms_file *file;
    const struct ms_plan *plan;
    struct ms_stats *stats;

    struct task *tasks;
    size_t ntasks;
    struct job *ring;
    unsigned nring;
    size_t next_dispatch, next_fold, halt;
    unsigned running;
    bool stopping, closing;

    struct ms_pass_buffers shared; /* edge lists, position buffers */
    unsigned char *sample_state;  /* enum sample_state, per sample */
    size_t next_bad;              /* bad samples reported up to here */
    bool folding_failed;          /* the sample being folded has failed */
    struct ms_accumulator *total, sample;
    struct ms_outcomes *collect;
    const struct ms_pass_sinks *sinks;
    size_t used;

    int rc; /* the pass's outcome, set once */
    struct ms_error *err;

    struct ms_progress progress;
    uint64_t start_ns, read_ns, compute_ns;
};

static void dispatch(struct pipeline *p);
static void maybe_finish(struct pipeline *p);


/* ------------------------------------------------------------------ */
/* Worker side: runs on a threadpool thread and touches only its job. */

static void
work_cb(struct ms_work *work)
{
    struct job *j = (struct job *)work;
    struct pipeline *p = j->pipe;
    const struct task *t = &p->tasks[j->task];
    uint32_t *edges = p->shared.edges[t->sample];
    struct ms_edge_order *order = p->shared.order[t->sample];
    struct ms_trajectory_statics *st = p->shared.statics[t->sample];
    if (p->opts->trace) {
        size_t part;
        enum ms_trace_step step = ms__task_step(p->plan, t, &part);
        j->times = (struct ms_task_times){
            uv_hrtime(), 0, ms__worker_number(), t->kind == TASK_UNIT,
            t->sample, t->kind == TASK_UNIT ? t->unit : part, step};
    }
    if (t->starts || t->kind == TASK_EDGES) {
        struct ms_unit_shared shared = {edges, order, NULL, st};
        j->rc = ms__unit_sample_start(p->file, p->plan, t->sample,
                                      t->placing ? &t->part : NULL, &shared,
                                      p->opts, &j->buffers, &j->err);
    }
    if (t->kind == TASK_UNIT && j->rc == 0) {
        const struct ms_unit *u = &p->plan->units[t->unit];
        struct ms_unit_shared shared = {
            edges, order,
            p->shared.pos != NULL ? p->shared.pos[u->pos] : NULL, st};
        j->rc = ms__unit_run(p->file, p->plan, u, &shared, p->opts,
                             &j->buffers, &j->err);
    }
    j->times.t1 = p->opts->trace ? uv_hrtime() : 0;
}

/* ------------------------------------------------------------------ */
/* Loop side. */

static bool
is_fatal(int rc)
{
    return rc == MS_ENONFINITE || rc == MS_EOVERFLOW || rc == MS_ENOMEM ||
           rc == MS_ECANCELED;
}

/* End the pass with rc (the first call wins; why NULL: out of memory):
 * stop dispatching, cancel queued work, let running work drain. */
static void
stop(struct pipeline *p, int rc, const struct ms_error *why)
{
    if (p->rc == 0 && why == NULL) {
        p->rc = ms__error_set(p->err, rc, "out of memory");
    } else if (p->rc == 0) {
        p->rc = rc;
        *p->err = *why;
        p->err->code = rc;
    }
    p->stopping = true;
    for (unsigned i = 0; i < p->nring; i++) {
        if (p->ring[i].state == JOB_RUNNING) {
            ms__workers_cancel(&p->workers, &p->ring[i].work);
        }
    }
}

/* Record a sample's outcome for combining with other processes: its
 * accumulator (p->sample) when used, else why it was skipped. */
static void
record_outcome(struct pipeline *p, size_t sample, const char *reason)
{
    if (p->collect != NULL &&
        ms__outcomes_add(p->collect, sample,
                         reason == NULL ? &p->sample : NULL, reason) != 0) {
        stop(p, MS_ENOMEM, NULL);
    }
}

static void
report_bad_samples_before(struct pipeline *p, size_t limit)
{
    for (; p->next_bad < limit; p->next_bad++) {
        const struct ms_plan_sample *ps = &p->plan->samples[p->next_bad];
        if (ps->bad && !ps->elsewhere) {
            record_outcome(p, p->next_bad, ps->reason);
            if (ms__stats_add_skipped(p->stats, ps->name.id, ps->reason)) {
                stop(p, MS_ENOMEM, NULL);
            }
            p->progress.samples_done++;
        }
    }
}

/* A sample-level failure reaches the fold: skip the sample, or, under
 * --strict, end the pass. */
static void
fail_sample(struct pipeline *p, const struct task *t, struct job *j)
{
    const struct ms_plan_sample *ps = &p->plan->samples[t->sample];
    if (p->opts->strict) {
        stop(p, MS_EBADSAMPLE, &j->err);
        return;
    }
    p->folding_failed = true;
    if (p->opts->on_warning != NULL) {
        p->opts->on_warning(p->opts->userdata, ps->name.id, j->err.message);
    }
    if (ms__stats_add_skipped(p->stats, ps->name.id, j->err.message) != 0) {
        stop(p, MS_ENOMEM, NULL);
    }
    record_outcome(p, t->sample, j->err.message);
}

/* Consume one done task, in task order. */
static void
fold_task(struct pipeline *p, struct job *j)
{
    const struct task *t = &p->tasks[j->task];
    if (t->starts) {
        report_bad_samples_before(p, t->sample);
        ms__accumulator_reset(&p->sample);
        p->folding_failed = false;
    }
    if (p->folding_failed) {
        /* (a later part of a failed sample's list may read fine) */
        assert(j->skipped || j->rc != 0 || t->kind == TASK_UNIT ||
               t->placing);
    } else if (j->rc != 0) {
        if (is_fatal(j->rc)) {
            stop(p, j->rc, &j->err);
            return;
        }
        fail_sample(p, t, j);
    } else if (!t->placing &&
               ms__unit_fold(&p->sample, p->plan,
                             t->kind == TASK_UNIT ? &p->plan->units[t->unit]
                                                  : NULL,
                             &j->buffers) != 0) {
        stop(p, MS_ENOMEM, NULL); /* (a sketch's room) */
        return;
    }
    if (t->kind == TASK_UNIT && !j->skipped) {
        p->progress.units_done++;
    }
    if (t->last) {
        if (!p->folding_failed) {
            record_outcome(p, t->sample, NULL);
            p->used++;
            if (ms__accumulator_merge(p->total, &p->sample) != 0 ||
                (p->opts->per_sample &&
                 ms__unit_report(p->stats, &p->plan->samples[t->sample],
                                 &p->sample) != 0)) {
                stop(p, MS_ENOMEM, NULL);
            }
        }
        p->progress.samples_done++;
        ms__pass_buffers_drop_edges(&p->shared, t->sample);
    }
}

static void
fold(struct pipeline *p)
{
    while (!p->stopping && p->next_fold < p->next_dispatch) {
        struct job *j = &p->ring[p->next_fold % p->nring];
        if (j->state != JOB_DONE) {
            break;
        }
        fold_task(p, j);
        j->state = JOB_FREE;
        p->next_fold++;
        if (p->next_fold > p->halt) {
            /* The fatal-looking task was discarded with its failed sample:
             * nothing ends the pass, so dispatching resumes. */
            p->halt = SIZE_MAX;
        }
    }
}

static void
after_work_cb(struct ms_work *work, bool canceled)
{
    struct job *j = (struct job *)work;
    struct pipeline *p = j->pipe;
    const struct task *t = &p->tasks[j->task];
    p->running--;
    j->state = JOB_DONE;
    uint64_t t0 = p->opts->trace ? uv_hrtime() : 0;
    if (p->opts->trace && !canceled && !j->skipped &&
        ms__record_task(p->stats, p->plan, p->start_ns, &j->times,
                        &j->buffers) != 0) {
        stop(p, MS_ENOMEM, NULL);
    }
    if (canceled) {
        j->rc = ms__error_set(&j->err, MS_ECANCELED, "canceled");
    } else if (t->kind == TASK_UNIT) {
        p->progress.bytes_done += j->buffers.bytes;
        p->read_ns += j->buffers.read_ns;
        p->compute_ns += j->buffers.compute_ns;
    }
    if (j->rc != 0) {
        /* No more units of a failed sample; nothing new after a fatal
         * error (the fold decides, in order, what the pass reports). */
        p->sample_state[t->sample] = SAMPLE_FAILED;
        if (is_fatal(j->rc) && j->task < p->halt) {
            p->halt = j->task;
        }
    } else if (t->kind == TASK_EDGES && !t->placing &&
               p->sample_state[t->sample] != SAMPLE_FAILED) {
        /* (the edge list's task: a placing task may end before it) */
        p->sample_state[t->sample] = SAMPLE_READY;
    }
    fold(p);
    dispatch(p);
    if (p->opts->trace) {
        ms__record_fold(p->stats, p->start_ns, t0, uv_hrtime());
    }
    maybe_finish(p);
}

/* Start the next task in order, if it may start; false if it may not. */
static bool
dispatch_one(struct pipeline *p)
{
    size_t i = p->next_dispatch;
    const struct task *t = &p->tasks[i];
    struct job *j = &p->ring[i % p->nring];
    assert(j->state == JOB_FREE);
    j->task = i;
    j->rc = 0;
    j->skipped = false;
    if (p->sample_state[t->sample] == SAMPLE_FAILED) {
        j->skipped = true; /* never run; the fold passes over it */
        j->state = JOB_DONE;
        p->next_dispatch++;
        return true;
    }
    if (t->kind == TASK_UNIT && !t->starts &&
        p->sample_state[t->sample] != SAMPLE_READY &&
        p->plan->units[t->unit].kind == MS_UNIT_WHOLE) {
        return false; /* its edges are still being read */
    }
    if (t->after != SIZE_MAX && p->next_fold <= t->after) {
        return false; /* a buffer it needs is not ready or not free yet */
    }
    if (t->starts) {
        if (ms__pass_buffers_new_sample(&p->shared, p->plan, t->sample) != 0) {
            stop(p, MS_ENOMEM, NULL);
            return false;
        }
    }
    j->work.run = work_cb;
    j->work.done = after_work_cb;
    ms__workers_submit(&p->workers, &j->work);
    j->state = JOB_RUNNING;
    p->running++;
    p->next_dispatch++;
    return true;
}

/* Dispatch and fold until neither can go on: tasks of a failed sample are
 * done the moment they are reached, and folding them frees ring slots for
 * more (without this, a full ring of skipped tasks would wait forever). */
static void
dispatch(struct pipeline *p)
{
    for (;;) {
        size_t dispatched = p->next_dispatch, folded = p->next_fold;
        while (!p->stopping && p->next_dispatch < p->ntasks &&
               p->next_dispatch < p->halt &&
               p->next_dispatch - p->next_fold < p->nring) {
            if (!dispatch_one(p)) {
                break;
            }
        }
        fold(p);
        if (p->next_dispatch == dispatched && p->next_fold == folded) {
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Progress, signals, the end of the pass. */

static void
report_progress(struct pipeline *p, bool finished)
{
    p->progress.elapsed = (double)(uv_hrtime() - p->start_ns) * 1e-9;
    p->progress.finished = finished;
    if (p->sinks->progress != NULL) {
        p->sinks->progress(p->sinks->progress_data, &p->progress);
    }
}

/* Stop the pass if the caller asks (ms_options.should_stop). */
static void
poll_caller(struct pipeline *p)
{
    const struct ms_options *o = p->opts;
    if (!p->stopping && o->should_stop != NULL &&
        o->should_stop(o->userdata)) {
        struct ms_error e;
        stop(p, ms__error_canceled(&e, 0), &e);
        maybe_finish(p);
    }
}

static void
timer_cb(uv_timer_t *timer)
{
    report_progress(timer->data, false);
    poll_caller(timer->data);
}

static void
signal_cb(uv_signal_t *handle, int signum)
{
    struct pipeline *p = handle->data;
    struct ms_error e;
    stop(p, ms__error_canceled(&e, signum), &e);
    if (p->err->code == MS_ECANCELED) {
        p->err->signal = signum;
    }
    maybe_finish(p);
}

static void
maybe_finish(struct pipeline *p)
{
    if (!p->stopping && !p->running && p->next_fold < p->ntasks) {
        /* Nothing runs and nothing is left to fold: the loop must never
         * wait for work that will not come, so this is a bug to report,
         * not a hang. */
        struct ms_error e;
        stop(p, ms__error_set(&e, MS_EIO,
                              "internal error: the pipeline stalled at task "
                              "%zu of %zu; please report it",
                              p->next_fold, p->ntasks),
             &e);
    }
    bool done = p->next_fold == p->ntasks || (p->stopping && !p->running);
    if (!done || p->closing) {
        return;
    }
    p->closing = true;
    if (p->workers_on) {
        ms__workers_stop(&p->workers); /* idle: nothing runs */
    }
    if (p->timer_on) {
        uv_close((uv_handle_t *)&p->timer, NULL);
    }
    if (p->sigint_on) {
        uv_close((uv_handle_t *)&p->sigint, NULL);
    }
    if (p->sigterm_on) {
        uv_close((uv_handle_t *)&p->sigterm, NULL);
    }
}

/* ------------------------------------------------------------------ */
/* Setting up and tearing down. */

static int
alloc_state(struct pipeline *p)
{
    const struct ms_options *o = p->opts;
    p->progress.units_total = p->plan->nunits;
    p->progress.samples_total = p->plan->nsamples;
    p->nring = p->plan->prefetch;
    p->ring = ms__calloc(p->nring, sizeof(*p->ring));
    p->sample_state = ms__calloc(p->plan->nsamples, 1);
    if (ms__pass_buffers_init(&p->shared, p->plan, o->edge_var) != 0 ||
        p->ring == NULL || p->sample_state == NULL ||
        ms__tasks_build(p->plan, &p->tasks, &p->ntasks,
                        &p->progress.bytes_total) != 0 ||
        ms__accumulator_init_like(&p->sample, p->total) != 0) {
        return MS_ENOMEM;
    }
    for (unsigned i = 0; i < p->nring; i++) {
        p->ring[i].pipe = p;
        if (ms__unit_buffers_init(&p->ring[i].buffers, p->plan, o) != 0) {
            return MS_ENOMEM;
        }
    }
    return 0;
}

static void
free_state(struct pipeline *p)
{
    for (unsigned i = 0; p->ring != NULL && i < p->nring; i++) {
        ms__unit_buffers_finish(&p->ring[i].buffers);
    }
    ms__free(p->ring);
    ms__pass_buffers_finish(&p->shared);
    ms__free(p->sample_state);
    ms__free(p->tasks);
    ms__accumulator_finish(&p->sample);
}

/* What a handle or the workers failed to start with, as the pass's error. */
static void
fail_start(struct pipeline *p, const char *what, int rc)
{
    struct ms_error e;
    stop(p, ms__start_error(rc, ms__file_path(p->file), what, &e), &e);
}

/* The progress timer, the signal handlers and the worker threads.  Each
 * that started is marked so that maybe_finish closes exactly those. */
static int
start_handles(struct pipeline *p, unsigned workers)
{
    int rc = uv_timer_init(&p->loop, &p->timer);
    if (rc != 0) {
        fail_start(p, "the progress timer", rc);
        return rc;
    }
    p->timer_on = true;
    p->timer.data = p;
    rc = uv_timer_start(&p->timer, timer_cb, PROGRESS_MS, PROGRESS_MS);
    if (rc == 0 && p->opts->handle_signals) {
        rc = uv_signal_init(&p->loop, &p->sigint);
        p->sigint_on = rc == 0;
        rc = rc == 0 ? uv_signal_init(&p->loop, &p->sigterm) : rc;
        p->sigterm_on = p->sigint_on && rc == 0;
        p->sigint.data = p->sigterm.data = p;
        rc = rc == 0 ? ms__signal_start(&p->sigint, signal_cb, SIGINT) : rc;
        rc = rc == 0 ? ms__signal_start(&p->sigterm, signal_cb, SIGTERM)
                     : rc;
    }
    if (rc != 0) {
        fail_start(p, "the event loop's handles", rc);
        return rc;
    }
    rc = ms__workers_start(&p->workers, &p->loop, workers);
    if (rc != 0) {
        char what[64];
        snprintf(what, sizeof(what), "%u worker threads", workers);
        fail_start(p, what, rc);
        return rc;
    }
    p->workers_on = true;
    return 0;
}

int
ms__pipeline_run(struct ms_file *file, const struct ms_plan *plan,
                 const struct ms_options *opts, struct ms_stats *stats,
                 const struct ms_pass_sinks *sinks, struct ms_error *err)
{
    struct pipeline p = {.opts = opts, .file = file, .plan = plan,
                         .stats = stats, .err = err, .halt = SIZE_MAX,
                         .total = sinks->total, .collect = sinks->collect,
                         .sinks = sinks};
    unsigned workers = ms__resolve_workers(opts);
    if (alloc_state(&p) != 0) {
        free_state(&p);
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(file));
    }
    int rc = ms__loop_init(&p.loop);
    if (rc != 0) {
        free_state(&p);
        return ms__start_error(rc, ms__file_path(file), "the event loop", err);
    }
    p.start_ns = sinks->origin_ns ? sinks->origin_ns : uv_hrtime();
    if (start_handles(&p, workers) == 0) {
        if (sinks->started != NULL) {
            sinks->started(sinks->progress_data, &p.workers);
        }
        report_progress(&p, false); /* the bar at 0%: reading starts now */
        poll_caller(&p);
        dispatch(&p);
    }
    maybe_finish(&p);
    uv_run(&p.loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&p.loop);
    if (rc != 0) {
        /* A handle is still open: a bug, reported rather than leaked. */
        struct ms_error e;
        stop(&p, ms__error_set(&e, MS_EIO, "internal error: the event loop "
                               "did not close: %s; please report it",
                               uv_strerror(rc)),
             &e);
    }
    report_bad_samples_before(&p, plan->nsamples);
    report_progress(&p, true);
    ms__record_info(stats, workers, plan, p.progress.bytes_done,
                    uv_hrtime() - p.start_ns, p.read_ns, p.compute_ns);
    rc = p.rc;
    if (rc == 0) {
        stats->samples_used += p.used;
    }
    free_state(&p);
    return rc;
}
