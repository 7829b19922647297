/*
 * planner.c: a pass's segments checked on a thread of their own, and the
 * calling thread's loop (the guard) while it waits for them.
 *
 * Checking a sample is HDF5 metadata work under HDF5's lock (stream.c
 * says why it runs beside the pipeline).  A planner's thread checks the
 * segment it is given (jobs[0]) and, going on, makes the segment after
 * each one it checked through (by ms__segment_end, the rule stream.c's
 * own segments follow) and checks that, to the pass's last sample: for a
 * file of many small samples the checks are the pass's critical path, and
 * never wait for a pipeline.  It stops early at a failure, at a check
 * that stopped short of its segment's end (a large mesh: stream.c plans
 * the rest whole), or when told to.  The caller takes the jobs in order,
 * each once it is over (ms__planner_job), and at the end joins the thread
 * (ms__planner_finish), which frees what it made and the caller did not
 * take.  Before every sample the check asks whether to stop: the flag the
 * guard raises on a signal or the caller's should_stop, or the caller on
 * a failure.  While it runs, holding tells a pipeline's last worker to
 * keep off the check's core (workers.c).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "pass/planner.h"
#include "pass/workers.h"

#include <pthread.h>
#include <signal.h>

#define POLL_MS 100

/* The check's question before every sample: on its thread, the flag
 * the calling thread raises. */
static bool
planner_canceled(void *data)
{
    struct ms_planner *pl = data;
    return atomic_load(&pl->cancel);
}

bool
ms__segment_end(size_t n, size_t lo, size_t hi, size_t *end)
{
    size_t rest = n - hi, size = 2 * (hi - lo);
    size = size < MS_MAX_SEGMENT ? size : MS_MAX_SEGMENT;
    size = size < rest / 2 || rest / 2 < MS_FIRST_SEGMENT ? size : rest / 2;
    *end = rest < size ? hi + rest : hi + size;
    return rest > 0;
}

static void
run_job(struct ms_planner *pl, struct ms_check *c)
{
    c->seg->stop = planner_canceled;
    c->seg->stop_data = pl;
    c->t0 = uv_hrtime();
    c->rc = ms__plan_check(c->seg, pl->file, &pl->opts, &c->err);
    c->t1 = uv_hrtime();
}

/* The segment after job i if it is to be checked: going on, job i
 * checked through, not canceled, samples left (and room, and memory). */
static struct ms_plan *
segment_after(struct ms_planner *pl, size_t i)
{
    const struct ms_check *c = &pl->jobs[i];
    size_t hi = c->lo + c->seg->nsamples, end;
    struct ms_plan *out = NULL;
    if (!pl->going_on || i + 1 >= pl->cap || c->rc != 0 ||
        c->seg->checked < c->seg->nsamples || atomic_load(&pl->cancel) ||
        !ms__segment_end(pl->whole->nsamples, c->lo, hi, &end) ||
        ms__plan_segment(pl->whole, hi, end, &out) != 0) {
        ms__plan_destroy(out);
        return NULL;
    }
    out->stop_at_blocked = true;
    pl->jobs[i + 1].lo = hi;
    return out;
}

static void
planner_main(void *arg)
{
    struct ms_planner *pl = arg;
    pthread_setname_np(pthread_self(), "meshstats-check");
    (void)ms__c_locale_enter(); /* (numbers in messages: c_locale.c) */
    for (size_t i = 0;; i++) {
        run_job(pl, &pl->jobs[i]);
        struct ms_plan *after = segment_after(pl, i);
        if (after != NULL) {
            pl->jobs[i + 1].seg = after; /* (before done says so) */
        }
        atomic_store(&pl->done, i + 1);
        uv_async_send(pl->wake);
        if (after == NULL) {
            break;
        }
    }
    atomic_store(&pl->holding, false);
    atomic_store(&pl->over, true);
    uv_async_send(pl->wake);
}

/* The segments of a pass of n samples from [lo, hi) on. */
static size_t
count_segments(size_t n, size_t lo, size_t hi)
{
    size_t count = 1, end;
    while (ms__segment_end(n, lo, hi, &end)) {
        lo = hi;
        hi = end;
        count++;
    }
    return count;
}

bool
ms__planner_start(struct ms_planner *pl, struct ms_guard *g,
                  struct ms_file *f, const struct ms_plan *whole,
                  const struct ms_options *opts, struct ms_plan *seg,
                  size_t lo, bool going_on)
{
    pl->cap = going_on ? count_segments(whole->nsamples, lo,
                                        lo + seg->nsamples)
                       : 1;
    pl->jobs = ms__calloc(pl->cap, sizeof(*pl->jobs));
    if (pl->jobs == NULL) {
        return false;
    }
    pl->jobs[0] = (struct ms_check){.seg = seg, .lo = lo};
    pl->whole = whole;
    pl->going_on = going_on;
    pl->file = f;
    pl->opts = *opts;
    pl->opts.on_warning = NULL;
    pl->opts.should_stop = NULL; /* (the guard asks it) */
    pl->wake = &g->done;
    /* (a signal or stop the guard caught already holds for this one) */
    atomic_store(&pl->cancel, g->signum != 0 || g->stop);
    atomic_store(&pl->done, 0);
    atomic_store(&pl->over, false);
    atomic_store(&pl->holding, true);
    pl->running = uv_thread_create(&pl->thread, planner_main, pl) == 0;
    if (!pl->running) {
        atomic_store(&pl->holding, false);
        ms__free(pl->jobs);
        pl->jobs = NULL;
    }
    return pl->running;
}

/* ------------------------------------------------------------------ */
/* The guard. */

static void
guard_done(uv_async_t *a)
{
    (void)a; /* (it only wakes the loop: guard_until looks) */
}

static void
guard_poll(uv_timer_t *t)
{
    struct ms_guard *g = t->data;
    const struct ms_options *o = g->opts;
    if (!g->stop && o->should_stop != NULL && o->should_stop(o->userdata)) {
        g->stop = true;
        atomic_store(&g->pl->cancel, true);
    }
}

static void
guard_signal(uv_signal_t *h, int signum)
{
    struct ms_guard *g = h->data;
    g->signum = g->signum ? g->signum : signum;
    atomic_store(&g->pl->cancel, true);
}

int
ms__guard_start(struct ms_guard *g, struct ms_planner *pl,
                const struct ms_options *opts)
{
    g->pl = pl;
    g->opts = opts;
    int rc = ms__loop_init(&g->loop);
    if (rc != 0) {
        return rc;
    }
    g->done.data = g->timer.data = g->sigint.data = g->sigterm.data = g;
    rc = uv_async_init(&g->loop, &g->done, guard_done);
    rc = rc == 0 ? uv_timer_init(&g->loop, &g->timer) : rc;
    if (rc == 0 && opts->handle_signals &&
        uv_signal_init(&g->loop, &g->sigint) == 0 &&
        uv_signal_init(&g->loop, &g->sigterm) == 0) {
        g->signals_on = true;
        ms__signal_start(&g->sigint, guard_signal, SIGINT);
        ms__signal_start(&g->sigterm, guard_signal, SIGTERM);
    }
    return rc;
}

void
ms__guard_close(struct ms_guard *g)
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

int
ms__guard_verdict(struct ms_guard *g, struct ms_error *err)
{
    uv_run(&g->loop, UV_RUN_NOWAIT);
    return g->signum != 0 || g->stop ? ms__error_canceled(err, g->signum)
                                     : 0;
}

/* Run the guard's loop until done() holds. */
static void
guard_until(struct ms_guard *g, bool (*done)(struct ms_planner *, size_t),
            struct ms_planner *pl, size_t i)
{
    uv_timer_start(&g->timer, guard_poll, POLL_MS, POLL_MS);
    while (!done(pl, i)) {
        uv_run(&g->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&g->timer);
}

static bool
job_over(struct ms_planner *pl, size_t i)
{
    return atomic_load(&pl->done) > i || atomic_load(&pl->over);
}

static bool
thread_over(struct ms_planner *pl, size_t i)
{
    (void)i;
    return atomic_load(&pl->over);
}

const struct ms_check *
ms__planner_job(struct ms_planner *pl, struct ms_guard *g, size_t i)
{
    if (pl->jobs == NULL || i >= pl->cap) {
        return NULL;
    }
    guard_until(g, job_over, pl, i);
    return atomic_load(&pl->done) > i ? &pl->jobs[i] : NULL;
}

void
ms__planner_finish(struct ms_planner *pl, struct ms_guard *g, bool cancel,
                   size_t from)
{
    if (pl->jobs == NULL) {
        return;
    }
    if (cancel) {
        atomic_store(&pl->cancel, true);
    }
    guard_until(g, thread_over, pl, 0);
    uv_thread_join(&pl->thread);
    pl->running = false;
    size_t made = atomic_load(&pl->done);
    for (size_t i = from > 1 ? from : 1; i < made; i++) {
        ms__plan_destroy(pl->jobs[i].seg);
    }
    ms__free(pl->jobs);
    pl->jobs = NULL;
}

/* (The caller's should_stop the check asks itself.) */
bool
ms__guard_signal_caught(void *data)
{
    struct ms_guard *g = data;
    uv_run(&g->loop, UV_RUN_NOWAIT);
    return g->signum != 0;
}
