/*
 * abort_in_hdf5.c: an LD_PRELOAD shim for test_corpus.py that makes glibc
 * "find a corrupted heap" inside HDF5: malloc aborts when libhdf5 calls it
 * on the thread MESHSTATS_TEST_ABORT names ("main", "check": the thread
 * that checks samples, or "worker": any other).  The stack then reads
 * abort <- this malloc <- libhdf5, as when glibc aborts on a heap someone
 * corrupted earlier, so the crash guard's rule for SIGABRT
 * (src/cli/crash.c) can be tested each way: on the main thread before any
 * data is read, or on the checking thread, it blames the file; on a
 * worker it is an internal error.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

void *__libc_malloc(size_t size);
void *malloc(size_t size);

static __thread bool inside;

static bool
called_from_hdf5(void *caller)
{
    Dl_info info;
    return dladdr(caller, &info) != 0 && info.dli_fname != NULL &&
           strstr(info.dli_fname, "libhdf5") != NULL;
}

void *
malloc(size_t size)
{
    const char *which = getenv("MESHSTATS_TEST_ABORT");
    if (which != NULL && !inside) {
        inside = true;
        char name[16] = {0};
        prctl(PR_GET_NAME, name);
        const char *thread = syscall(SYS_gettid) == getpid() ? "main"
                             : strcmp(name, "meshstats-check") == 0
                                 ? "check"
                                 : "worker";
        bool hdf5 = called_from_hdf5(__builtin_return_address(0));
        inside = false;
        if (hdf5 && strcmp(thread, which) == 0) {
            abort();
        }
    }
    return __libc_malloc(size);
}
