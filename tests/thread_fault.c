/*
 * thread_fault.c: an LD_PRELOAD shim for test_cli_pipeline.py that makes
 * one pthread_create call fail with EAGAIN, as a thread limit would: the
 * k-th, MESHSTATS_TEST_FAIL_THREAD=k.  With one worker a pass creates its
 * threads in turn as the first check, the first segment's worker, the
 * second check... (src/pass/stream.c).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *,
                         void *(*)(void *), void *);

int
pthread_create(pthread_t *thread, const pthread_attr_t *attr,
               void *(*start)(void *), void *arg)
{
    static atomic_uint calls;
    unsigned n = atomic_fetch_add(&calls, 1) + 1;
    const char *which = getenv("MESHSTATS_TEST_FAIL_THREAD");
    if (which != NULL && (unsigned)atoi(which) == n) {
        return EAGAIN;
    }
    void *sym = dlsym(RTLD_NEXT, "pthread_create");
    create_fn real;
    memcpy(&real, &sym, sizeof(real)); /* (an object pointer's bits) */
    return real(thread, attr, start, arg);
}
