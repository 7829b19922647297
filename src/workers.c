/*
 * workers.c: the worker threads of one pass.
 *
 * libuv's own threadpool is one per process, sized once from
 * UV_THREADPOOL_SIZE when the process first queues work: a library cannot
 * give each pass the threads it asks for through it, nor size it without
 * changing its host's environment, and it is shared with every other libuv
 * user in the process.  So each pass starts its own threads here and joins
 * them when it ends.  The threads take work from a FIFO queue; a finished
 * piece goes on a done list and a uv_async_t wakes the loop, whose callback
 * runs the done callbacks in the order the work finished.  The mutex that
 * guards both lists also orders a worker's writes before the loop thread's
 * reads.  Nothing here looks inside the work.
 */
#include "workers.h"

#include <assert.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>

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

static void
worker_main(void *arg)
{
    struct ms_workers *w = arg;
    uv_mutex_lock(&w->lock);
    for (;;) {
        while (w->queued == NULL && !w->quit) {
            uv_cond_wait(&w->wake, &w->lock);
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
        uv_async_send(&w->async);
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
async_cb(uv_async_t *handle)
{
    struct ms_workers *w = handle->data;
    uv_mutex_lock(&w->lock);
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
    uv_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->nthreads; i++) {
        uv_thread_join(&w->threads[i]);
    }
    w->nthreads = 0;
}

static void
release(struct ms_workers *w)
{
    uv_cond_destroy(&w->wake);
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
    if (rc != 0) {
        uv_mutex_destroy(&w->lock);
        return rc;
    }
    w->threads = ms__calloc(n, sizeof(*w->threads));
    if (w->threads == NULL) {
        rc = UV_ENOMEM;
        goto fail_threads;
    }
    rc = uv_async_init(loop, &w->async, async_cb);
    if (rc != 0) {
        goto fail_threads;
    }
    w->async.data = w;
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
    uv_close((uv_handle_t *)&w->async, NULL);
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
        uv_async_send(&w->async);
        found = true;
        break;
    }
    uv_mutex_unlock(&w->lock);
    return found;
}

void
ms__workers_stop(struct ms_workers *w)
{
    assert(w->queued == NULL && w->finished == NULL);
    join_all(w);
    uv_close((uv_handle_t *)&w->async, NULL);
    release(w);
}
