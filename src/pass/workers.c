/*
 * workers.c: the worker threads of one pass.
 *
 * libuv's own threadpool is one per process, sized once from
 * UV_THREADPOOL_SIZE when the process first queues work: a library cannot
 * give each pass the threads it asks for through it, nor size it without
 * changing its host's environment, and it is shared with every other libuv
 * user in the process.  So each pass starts its own threads here and joins
 * them when it ends.  The threads take work from a FIFO queue; a finished
 * piece goes on a done list and a byte written to a pipe wakes the loop
 * (one byte until the loop has read it), whose poll callback runs the done
 * callbacks in the order the work finished.  Not a uv_async_t: its sender
 * holds a flag across the write that wakes the loop, and the loop spins
 * until the flag clears, so when the woken loop thread preempts the
 * sender on its core (2 cores, 3 threads) the two wait for each other:
 * 12 ms of spinning in a 0.2 s pass of 1,750 units.  The mutex that
 * guards both lists also orders a worker's writes before the loop thread's
 * reads.  Nothing here looks inside the work.
 */
#define _GNU_SOURCE /* pipe2 */
#include "pass/workers.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

int
ms__loop_init(uv_loop_t *loop)
{
    /* (the loop's epoll descriptor comes first, then that pipe) */
    int probe[3] = {-1, -1, -1};
    int e = pipe2(probe, O_CLOEXEC) != 0                          ? errno
            : (probe[2] = fcntl(probe[0], F_DUPFD_CLOEXEC, 0)) < 0 ? errno
                                                                  : 0;
    for (size_t i = 0; i < 3; i++) {
        if (probe[i] >= 0) {
            close(probe[i]);
        }
    }
    return e != 0 ? uv_translate_sys_error(e) : uv_loop_init(loop);
}

int
ms__signal_start(uv_signal_t *handle, uv_signal_cb cb, int signum)
{
    struct sigaction now;
    if (sigaction(signum, NULL, &now) == 0 && now.sa_handler == SIG_IGN) {
        return 0;
    }
    return uv_signal_start(handle, cb, signum);
}

int
ms__start_error(int rc, const char *path, const char *what,
                struct ms_error *err)
{
    int code = rc == UV_ENOMEM || rc == UV_EAGAIN ? MS_ENOMEM : MS_EIO;
    return ms__error_set(err, code, "%s: cannot start %s: %s%s", path, what,
                         uv_strerror(rc),
                         rc == UV_EMFILE ? " (this process's limit of open "
                                           "files; raise it: ulimit -n)"
                                         : "");
}

/* Append work to a singly linked list. */
static void
push(struct ms_work **head, struct ms_work **tail, struct ms_work *work)
{
    work->next = NULL;
    if (*tail != NULL) {
        (*tail)->next = work;
    } else {
        *head = work;
    }
    *tail = work;
}

/* Wake the loop, unless a byte it has not read is in the pipe already.
 * Called with the lock held; the write never blocks (one byte at most
 * waits in the pipe). */
static void
notify(struct ms_workers *w)
{
    if (w->notified) {
        return;
    }
    w->notified = true;
    char byte = 1;
    while (write(w->pipe[1], &byte, 1) < 0 && errno == EINTR) {
    }
}

static _Thread_local unsigned number;

unsigned
ms__worker_number(void)
{
    return number;
}

/* A held thread looks whether it still is this often. */
#define HOLD_POLL_NS 1000000u

/* Whether this thread is held back (ms__workers_hold). */
static bool
held(const struct ms_workers *w)
{
    return w->hold != NULL && number == w->nthreads && w->nthreads > 1 &&
           atomic_load(w->hold);
}

static void
worker_main(void *arg)
{
    struct ms_workers *w = arg;
    (void)ms__c_locale_enter(); /* (numbers in messages: c_locale.c) */
    uv_mutex_lock(&w->lock);
    number = ++w->named;
    for (;;) {
        while (held(w) && !w->quit) {
            /* (a submit's wake-up this thread took passed on; it is not
             * woken by every submit, which would take the check's core) */
            if (w->queued != NULL) {
                uv_cond_signal(&w->wake);
            }
            uv_cond_timedwait(&w->held, &w->lock, HOLD_POLL_NS);
        }
        while (w->queued == NULL && !w->quit) {
            uv_cond_wait(&w->wake, &w->lock);
        }
        if (held(w) && !w->quit) {
            continue;
        }
        if (w->queued == NULL) {
            break; /* quit, and nothing left */
        }
        struct ms_work *work = w->queued;
        w->queued = work->next;
        if (w->queued == NULL) {
            w->queued_tail = NULL;
        }
        uv_mutex_unlock(&w->lock);
        work->run(work);
        uv_mutex_lock(&w->lock);
        push(&w->finished, &w->finished_tail, work);
        notify(w);
        if (w->queued == NULL) {
            /* Nothing left to take: let the loop thread, just woken to
             * fold and dispatch, have this CPU now rather than when the
             * scheduler gets round to it (on as many cores as workers,
             * a millisecond later). */
            uv_mutex_unlock(&w->lock);
            sched_yield();
            uv_mutex_lock(&w->lock);
        }
    }
    uv_mutex_unlock(&w->lock);
}

/* Loop thread: run the done callbacks of everything finished so far. */
static void
poll_cb(uv_poll_t *handle, int status, int events)
{
    struct ms_workers *w = handle->data;
    char bytes[16];
    uv_mutex_lock(&w->lock);
    while (read(w->pipe[0], bytes, sizeof(bytes)) > 0) {
    }
    w->notified = false;
    struct ms_work *work = w->finished;
    w->finished = w->finished_tail = NULL;
    uv_mutex_unlock(&w->lock);
    while (work != NULL) {
        struct ms_work *next = work->next;
        work->done(work, work->canceled);
        work = next;
    }
}

/* Wake every thread to quit, and join them. */
static void
join_all(struct ms_workers *w)
{
    uv_mutex_lock(&w->lock);
    w->quit = true;
    uv_cond_broadcast(&w->wake);
    uv_cond_broadcast(&w->held);
    uv_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->nthreads; i++) {
        uv_thread_join(&w->threads[i]);
    }
    w->nthreads = 0;
}

/* The pipe, non-blocking at both ends and closed on exec. */
static int
open_pipe(int fds[2])
{
    if (pipe(fds) != 0) {
        return uv_translate_sys_error(errno);
    }
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFL, O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            int rc = uv_translate_sys_error(errno);
            close(fds[0]);
            close(fds[1]);
            return rc;
        }
    }
    return 0;
}

static void
close_pipe(uv_handle_t *handle)
{
    struct ms_workers *w = handle->data;
    close(w->pipe[0]);
    close(w->pipe[1]);
}

static void
release(struct ms_workers *w)
{
    uv_cond_destroy(&w->wake);
    uv_cond_destroy(&w->held);
    uv_mutex_destroy(&w->lock);
    ms__free(w->threads);
    w->threads = NULL;
}

int
ms__workers_start(struct ms_workers *w, uv_loop_t *loop, unsigned n)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    int rc = uv_mutex_init(&w->lock);
    if (rc != 0) {
        return rc;
    }
    rc = uv_cond_init(&w->wake);
    if (rc == 0 && (rc = uv_cond_init(&w->held)) != 0) {
        uv_cond_destroy(&w->wake);
    }
    if (rc != 0) {
        uv_mutex_destroy(&w->lock);
        return rc;
    }
    w->threads = ms__calloc(n, sizeof(*w->threads));
    if (w->threads == NULL) {
        rc = UV_ENOMEM;
        goto fail_threads;
    }
    rc = open_pipe(w->pipe);
    if (rc != 0) {
        goto fail_threads;
    }
    rc = uv_poll_init(loop, &w->poll, w->pipe[0]);
    if (rc != 0) {
        close(w->pipe[0]);
        close(w->pipe[1]);
        goto fail_threads;
    }
    w->poll.data = w;
    rc = uv_poll_start(&w->poll, UV_READABLE, poll_cb);
    if (rc != 0) {
        goto fail_create;
    }
    for (unsigned i = 0; i < n; i++) {
        rc = uv_thread_create(&w->threads[w->nthreads], worker_main, w);
        if (rc != 0) {
            goto fail_create;
        }
        w->nthreads++;
    }
    return 0;

fail_create:
    join_all(w);
    uv_close((uv_handle_t *)&w->poll, close_pipe);
fail_threads:
    release(w);
    return rc;
}

void
ms__workers_submit(struct ms_workers *w, struct ms_work *work)
{
    work->canceled = false;
    uv_mutex_lock(&w->lock);
    push(&w->queued, &w->queued_tail, work);
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
}

bool
ms__workers_cancel(struct ms_workers *w, struct ms_work *work)
{
    bool found = false;
    uv_mutex_lock(&w->lock);
    struct ms_work *prev = NULL;
    for (struct ms_work *q = w->queued; q != NULL; prev = q, q = q->next) {
        if (q != work) {
            continue;
        }
        if (prev != NULL) {
            prev->next = q->next;
        } else {
            w->queued = q->next;
        }
        if (w->queued_tail == q) {
            w->queued_tail = prev;
        }
        work->canceled = true;
        push(&w->finished, &w->finished_tail, work);
        notify(w);
        found = true;
        break;
    }
    uv_mutex_unlock(&w->lock);
    return found;
}

void
ms__workers_hold(struct ms_workers *w, const atomic_bool *hold)
{
    uv_mutex_lock(&w->lock);
    w->hold = hold;
    uv_mutex_unlock(&w->lock);
}

void
ms__workers_stop(struct ms_workers *w)
{
    assert(w->queued == NULL && w->finished == NULL);
    join_all(w);
    uv_close((uv_handle_t *)&w->poll, close_pipe);
    release(w);
}
