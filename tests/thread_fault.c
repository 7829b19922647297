/*
 * thread_fault.c: an LD_PRELOAD shim for test_cli_pipeline.py that makes
 * pthread_create calls fail with EAGAIN, as a thread limit would: the k-th
 * for each k of MESHSTATS_TEST_FAIL_THREAD=k[,k...].  With one worker a
 * pass creates its threads in turn as the checks' (src/pass/planner.c),
 * then each segment's worker; a check that could not have a thread runs
 * on the calling thread, and the next segment's check asks for one again
 * (src/pass/stream.c).
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
    for (const char *k = which; k != NULL && *k != '\0';) {
        char *end;
        if (strtoul(k, &end, 10) == n) {
            return EAGAIN;
        }
        k = *end == ',' ? end + 1 : NULL;
    }
    void *sym = dlsym(RTLD_NEXT, "pthread_create");
    create_fn real;
    memcpy(&real, &sym, sizeof(real)); /* (an object pointer's bits) */
    return real(thread, attr, start, arg);
}
