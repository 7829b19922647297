/*
 * alloc.c: the library's allocation wrappers.
 *
 * Every allocation libmeshstats makes goes through here, so that the tests
 * can fail the Nth one and check that each caller unwinds cleanly and
 * returns MS_ENOMEM.  The counter is process-wide and not thread-safe: the
 * failure hook is for single-threaded tests only.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t alloc_count;
static uint64_t fail_at; /* 0: never fail */

static bool
should_fail(void)
{
    alloc_count++;
    return fail_at != 0 && alloc_count >= fail_at;
}

void
ms__alloc_fail_after(uint64_t n)
{
    alloc_count = 0;
    fail_at = n;
}

uint64_t
ms__alloc_count(void)
{
    return alloc_count;
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
