/*
 * planner.h: a pass's segments checked on a thread of their own, and the
 * calling thread's loop while it waits for them (planner.c; stream.c
 * runs the segments).
 */
#ifndef MESHSTATS_PASS_PLANNER_H
#define MESHSTATS_PASS_PLANNER_H

#include "pass/pass.h"

#include <stdatomic.h>
#include <uv.h>

/* A pass's segments: MS_FIRST_SEGMENT samples first, twice as many each
 * time up to MS_MAX_SEGMENT, but no more than half of what is left while
 * that half is MS_FIRST_SEGMENT or more (stream.c says why). */
#define MS_FIRST_SEGMENT 64
#define MS_MAX_SEGMENT 4096

/* The end of the segment after [lo, hi) of a pass of n samples; false
 * when no sample is left. */
bool ms__segment_end(size_t n, size_t lo, size_t hi, size_t *end);

/* A segment's check: its outcome, and when it ran (uv_hrtime). */
struct ms_check {
    struct ms_plan *seg;
    size_t lo; /* its first sample */
    uint64_t t0, t1;
    int rc;
    struct ms_error err;
};

/* Checks on a thread of their own ("meshstats-check": src/cli/crash.c
 * knows it by that name): jobs[0], the caller's segment, then, going on,
 * the segments after it one by one (made on that thread by the rule of
 * ms__segment_end; the caller's once it takes them), until the last one,
 * a failure, a check that stopped short (a large mesh) or cancel. */
struct ms_planner {
    struct ms_check *jobs;
    size_t cap;         /* the jobs there is room for */
    atomic_size_t done; /* jobs[0 .. done) are over */
    atomic_bool over;   /* the thread has checked all it will */
    const struct ms_plan *whole;
    bool going_on;
    struct ms_file *file;
    struct ms_options opts; /* the caller's: no warnings, stops on cancel */
    atomic_bool cancel;
    uv_thread_t thread;
    uv_async_t *wake;    /* sent as each job ends */
    atomic_bool holding; /* a pipeline's last worker held back meanwhile */
    bool running;        /* a thread started, not yet joined */
};

/* The calling thread's loop while it waits: SIGINT and SIGTERM (with
 * handle_signals) and the caller's should_stop, every 100 ms, cancel the
 * check; the signals' handles stay on until it is closed. */
struct ms_guard {
    uv_loop_t loop;
    uv_async_t done;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    bool signals_on;
    int signum; /* a signal caught */
    bool stop;  /* should_stop said yes */
    struct ms_planner *pl;
    const struct ms_options *opts;
};

/* 0, or libuv's status. */
int ms__guard_start(struct ms_guard *g, struct ms_planner *pl,
                    const struct ms_options *opts);
void ms__guard_close(struct ms_guard *g);
/* A signal or the caller's stop, caught by the guard, as the pass's error
 * (0 if none). */
int ms__guard_verdict(struct ms_guard *g, struct ms_error *err);
/* The check's question before every sample when it runs on the calling
 * thread (guard: the guard): whether the guard has caught a signal. */
bool ms__guard_signal_caught(void *guard);

/* Check seg (its first sample lo; borrowed) on the planner's thread, and
 * the segments after it too if going_on; false if no thread (or no room
 * for the jobs) could be had. */
bool ms__planner_start(struct ms_planner *pl, struct ms_guard *g,
                       struct ms_file *f, const struct ms_plan *whole,
                       const struct ms_options *opts, struct ms_plan *seg,
                       size_t lo, bool going_on);
/* Job i once it is over, the guard watching meanwhile; NULL if the
 * thread ended without it. */
const struct ms_check *ms__planner_job(struct ms_planner *pl,
                                       struct ms_guard *g, size_t i);
/* The thread stopped (if cancel) and joined, the segments it made from
 * job from on (those the caller has not taken) destroyed, the jobs
 * freed; nothing if no thread runs. */
void ms__planner_finish(struct ms_planner *pl, struct ms_guard *g,
                        bool cancel, size_t from);

#endif
