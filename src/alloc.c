/*
 * alloc.c: the library's allocation wrappers.
 *
 * Every allocation libmeshstats makes goes through here, so that the tests
 * can fail the Nth one and check that each caller unwinds cleanly and
 * returns MS_ENOMEM.  Allocations happen on the loop thread and on the
 * workers of any number of passes at once, so the counter is atomic; the
 * failure hook itself is process-wide, for tests that run one pass at a
 * time (in a build that is not a release one, MESHSTATS_FAULT_ALLOC=N sets
 * it for the whole process at its first allocation, so that a test can
 * reach allocations of programs it runs, the MPI combine among them).
 * It also holds the hint that asks for huge pages under a large buffer
 * read and written at random.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static atomic_uint_fast64_t alloc_count;
static atomic_uint_fast64_t fail_at; /* 0: never fail */

#ifdef MS_FAULT_INJECTION
static void
fault_from_environment(void)
{
    static atomic_bool read;
    if (!atomic_exchange(&read, true)) {
        const char *env = getenv("MESHSTATS_FAULT_ALLOC");
        long long n = env != NULL ? atoll(env) : 0;
        if (n > 0) {
            atomic_store(&fail_at, (uint64_t)n);
        }
    }
}
#else
static void
fault_from_environment(void)
{
}
#endif

static bool
should_fail(void)
{
    fault_from_environment();
    uint64_t n = atomic_fetch_add(&alloc_count, 1) + 1;
    uint64_t at = atomic_load(&fail_at);
    return at != 0 && n >= at;
}

void
ms__alloc_fail_after(uint64_t n)
{
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_at, n);
}

uint64_t
ms__alloc_count(void)
{
    return atomic_load(&alloc_count);
}

void *
ms__malloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size ? size : 1);
}

void *
ms__calloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    if (count == 0 || size == 0) {
        count = size = 1;
    }
    return calloc(count, size);
}

void *
ms__reallocarray(void *ptr, size_t count, size_t size)
{
    size_t bytes;
    if (ms__size_mul(count, size, &bytes) != 0) {
        return NULL;
    }
    if (should_fail()) {
        return NULL;
    }
    return realloc(ptr, bytes ? bytes : 1);
}

char *
ms__strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = ms__malloc(len);
    if (copy != NULL) {
        memcpy(copy, s, len);
    }
    return copy;
}

void
ms__free(void *ptr)
{
    free(ptr);
}

/* madvise the part of [ptr, ptr + bytes) aligned to align (a power of
 * two), if any; a hint whose failure changes nothing. */
static void
advise_inside(void *ptr, size_t bytes, uintptr_t align, int advice)
{
    uintptr_t lo = ((uintptr_t)ptr + align - 1) & ~(align - 1);
    uintptr_t hi = ((uintptr_t)ptr + bytes) & ~(align - 1);
    if (ptr != NULL && hi > lo) {
        (void)madvise((void *)lo, hi - lo, advice);
    }
}

void
ms__prefault(void *ptr, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    long page = sysconf(_SC_PAGESIZE);
    advise_inside(ptr, bytes, page > 0 ? (uintptr_t)page : 4096,
                  MADV_POPULATE_WRITE);
#else
    (void)ptr;
    (void)bytes;
#endif
}

void
ms__advise_random_access(void *ptr, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    advise_inside(ptr, bytes, (uintptr_t)2 << 20, MADV_HUGEPAGE);
#else
    (void)ptr;
    (void)bytes;
#endif
}
