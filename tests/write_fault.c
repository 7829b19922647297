/*
 * write_fault.c: an LD_PRELOAD shim for test_write_back.py, in the style
 * of SQLite's I/O-error and crash tests.  It counts the writes made to one
 * file (MESHSTATS_FAULT_FILE: any descriptor open on that inode; or with
 * MESHSTATS_FAULT_PREFIX, any file whose path starts with it) and, at
 * the MESHSTATS_FAULT_AT-th, either fails it with ENOSPC
 * (MESHSTATS_FAULT_MODE=enospc) or ends the process there, as a kill or a
 * power cut would, before the write (MESHSTATS_FAULT_MODE=kill: _exit 77).
 * MESHSTATS_FAULT_COUNT=PATH appends the number of writes counted to PATH
 * at exit.  Every write before the chosen one happens.
 */
#undef _FILE_OFFSET_BITS /* pwrite and pwrite64 are two symbols here */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static long counted;
static dev_t target_dev;
static ino_t target_ino;
static int have_target = -1;

static int
is_target(int fd)
{
    if (have_target < 0) {
        const char *path = getenv("MESHSTATS_FAULT_FILE");
        struct stat st;
        have_target = path != NULL && stat(path, &st) == 0;
        if (have_target) {
            target_dev = st.st_dev;
            target_ino = st.st_ino;
        }
    }
    const char *prefix = getenv("MESHSTATS_FAULT_PREFIX");
    if (prefix != NULL) {
        char link[64], path[4096];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof(path) - 1);
        path[n > 0 ? n : 0] = '\0';
        return n > 0 && strncmp(path, prefix, strlen(prefix)) == 0;
    }
    struct stat st;
    return have_target && fstat(fd, &st) == 0 && st.st_dev == target_dev &&
           st.st_ino == target_ino;
}

/* 0 to go on with the write, -1 (errno set) to fail it. */
static int
before_write(int fd)
{
    if (!is_target(fd)) {
        return 0;
    }
    counted++;
    const char *at = getenv("MESHSTATS_FAULT_AT");
    if (at == NULL || atol(at) != counted) {
        return 0;
    }
    const char *mode = getenv("MESHSTATS_FAULT_MODE");
    if (mode != NULL && strcmp(mode, "kill") == 0) {
        _exit(77);
    }
    errno = ENOSPC;
    return -1;
}

__attribute__((destructor)) static void
report(void)
{
    const char *path = getenv("MESHSTATS_FAULT_COUNT");
    if (path != NULL) {
        FILE *f = fopen(path, "a");
        if (f != NULL) {
            fprintf(f, "%ld\n", counted);
            fclose(f);
        }
    }
}

/* The real function (dlsym's object pointer turned into a function's). */
#define NEXT(name) real_##name()
#define REAL(name)                                                           \
    static __typeof__(&name) real_##name(void)                               \
    {                                                                        \
        __typeof__(&name) fn;                                                \
        void *sym = dlsym(RTLD_NEXT, #name);                                 \
        memcpy(&fn, &sym, sizeof(fn));                                       \
        return fn;                                                           \
    }
REAL(pwrite64)
REAL(pwrite)
REAL(write)

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t at)
{
    if (before_write(fd) != 0) {
        return -1;
    }
    return NEXT(pwrite64)(fd, buf, n, at);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t at)
{
    if (before_write(fd) != 0) {
        return -1;
    }
    return NEXT(pwrite)(fd, buf, n, at);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
    if (before_write(fd) != 0) {
        return -1;
    }
    return NEXT(write)(fd, buf, n);
}
