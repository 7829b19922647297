/*
 * workers.h: the worker threads of one pass (see workers.c), and the
 * start of an event loop, for the files that run loops and workers
 * (pipeline.c, planner.c, stream.c): with planner.h the only private
 * headers besides hdf5_file.h that name a libuv type.
 */
#ifndef MESHSTATS_WORKERS_H
#define MESHSTATS_WORKERS_H

#include "pass/pass.h"

#include <stdatomic.h>
#include <uv.h>

struct ms_work;

/* Runs on a worker thread. */
typedef void (*ms_work_fn)(struct ms_work *work);
/* Runs on the loop thread once work has run, or instead of it when it was
 * canceled before it started. */
typedef void (*ms_work_done_fn)(struct ms_work *work, bool canceled);

/* One piece of work, embedded in the caller's own struct.  Owned by the
 * caller; the pool links it into its queues between submit and done. */
struct ms_work {
    ms_work_fn run;
    ms_work_done_fn done;
    struct ms_work *next;
    bool canceled;
};

/* A queue of work served by nthreads threads that belong to this pool
 * alone, and a pipe, polled by the loop, through which they hand finished
 * work back. */
struct ms_workers {
    uv_loop_t *loop;
    uv_poll_t poll;
    int pipe[2];   /* read end polled by the loop, write end the threads' */
    bool notified; /* a byte is in the pipe that the loop has not read */
    uv_mutex_t lock;
    uv_cond_t wake;
    uv_thread_t *threads;
    unsigned nthreads;
    struct ms_work *queued, *queued_tail; /* not started, in submit order */
    struct ms_work *finished, *finished_tail;
    bool quit;
    unsigned named; /* workers that took their number (1, 2, ...) */
    const atomic_bool *hold; /* while true, the last thread takes no work */
    uv_cond_t held; /* where it waits then, looking every HOLD_POLL_NS */
};

/* uv_loop_init, except that the process's first call cannot abort it:
 * libuv makes a pipe for its signal handling then and calls abort() if it
 * cannot (no free file descriptor), so the descriptors it takes are
 * asked for here first; else UV_EMFILE, as the loop's own start says. */
int ms__loop_init(uv_loop_t *loop);
/* uv_signal_start, except for a signal the process ignores, which stays
 * ignored (a shell starts a script's background job with SIGINT ignored:
 * the Ctrl-C meant for the script must not stop it): 0 then. */
int ms__signal_start(uv_signal_t *handle, uv_signal_cb cb, int signum);
/* A loop's, a handle's or the threads' failure to start (a libuv error
 * rc) said in err, naming the dataset: MS_ENOMEM or MS_EIO. */
int ms__start_error(int rc, const char *path, const char *what,
                    struct ms_error *err);

/* The number of the pass's worker the caller runs on (1, 2, ...), or 0
 * off the workers (the loop thread). */
unsigned ms__worker_number(void);

/*
 * Start n threads serving a new queue whose done callbacks run on loop.
 * Returns 0, or a libuv error code with nothing left running (the poll
 * handle is then closed, so run the loop once to release it).  Called on
 * the loop thread.
 */
int ms__workers_start(struct ms_workers *w, uv_loop_t *loop, unsigned n);
/* Queue work; its run callback starts on the first free thread, in submit
 * order.  Loop thread. */
void ms__workers_submit(struct ms_workers *w, struct ms_work *work);
/* Take work off the queue if no thread has started it: true, and its done
 * callback will run with canceled set.  False if it has started (it then
 * finishes normally).  Loop thread. */
bool ms__workers_cancel(struct ms_workers *w, struct ms_work *work);
/* Hold the last of two or more threads back (it takes no work) while
 * *hold is true: while the pass's check runs on a thread of its own
 * (planner.c), which clears it when done; the thread then takes work from
 * the next submit on.  Before any work is submitted; loop thread. */
void ms__workers_hold(struct ms_workers *w, const atomic_bool *hold);
/* Stop the threads once the queue is empty and nothing runs: join them and
 * close the poll handle (run the loop to release it; the pipe is closed
 * with it).  Loop thread. */
void ms__workers_stop(struct ms_workers *w);

#endif
