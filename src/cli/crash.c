/*
 * crash.c: what the user sees when the process crashes while it reads a
 * dataset.
 *
 * Debian's HDF5 1.10.8 crashes (SIGSEGV) on some damaged files, inside its
 * own metadata code: the fuzzer found a damaged local heap that makes
 * H5Lexists copy from a NULL pointer.  meshstats cannot check every HDF5
 * structure before HDF5 parses it, so the crash is caught instead: the
 * stack is walked, and if the first frame that is HDF5's or meshstats' is
 * HDF5's, the program says which file is damaged and exits 1, as for any
 * other bad file.  A crash whose first such frame is meshstats' (or
 * unknown, or a signal sent by another process) is a bug, or not a crash:
 * it is named as such and the signal is raised again, so it still dumps
 * core and ends with 128 + the signal number.  Nothing has been written
 * at that point: the write-back comes after the pass, with the guard off.
 *
 * Not installed in sanitizer builds, whose own handlers report more.
 */
#define _GNU_SOURCE /* dl_iterate_phdr, REG_RIP */
#include "crash.h"

#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifndef SANITIZED

#define MAX_RANGES 16
#define MAX_FRAMES 64

struct range {
    uintptr_t lo, hi;
};

/* Executable segments: HDF5's, and meshstats' (the program, libmeshstats). */
static struct range hdf5[MAX_RANGES], ours[MAX_RANGES];
static int nhdf5, nours;
static char damaged[1024]; /* the messages, made before any crash */
static char internal[1024];
static const int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static char altstack[64 * 1024]; /* a stack overflow still gets a message */
static volatile sig_atomic_t reading_data; /* data reads have begun */
static pid_t main_thread; /* the thread that armed the guard */

static int
add_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const char *name = info->dlpi_name;
    struct range *to = NULL;
    int *n = NULL;
    if (strstr(name, "libhdf5") != NULL) {
        to = hdf5;
        n = &nhdf5;
    } else if (name[0] == '\0' || strstr(name, "libmeshstats") != NULL) {
        to = ours;
        n = &nours;
    }
    for (int i = 0; to != NULL && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
            *n < MAX_RANGES) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            to[(*n)++] = (struct range){lo, lo + ph->p_memsz};
        }
    }
    return 0;
}

static bool
within(const struct range *r, int n, uintptr_t pc)
{
    for (int i = 0; i < n; i++) {
        if (pc >= r[i].lo && pc < r[i].hi) {
            return true;
        }
    }
    return false;
}

/* The faulting instruction, where this architecture is known. */
static uintptr_t
fault_pc(const void *context)
{
    const ucontext_t *uc = context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

/* Whether HDF5 is the first of HDF5 and meshstats on the crashed stack.
 * The walk starts at the faulting frame, past this handler's own. */
static bool
hdf5_crashed(const void *context)
{
    void *frames[MAX_FRAMES];
    int n = backtrace(frames, MAX_FRAMES);
    uintptr_t pc = fault_pc(context);
    int first = 0;
    for (int i = 0; i < n && pc != 0; i++) {
        if ((uintptr_t)frames[i] == pc) {
            first = i;
            break;
        }
    }
    if (first == 0) {
        return false; /* the faulting frame was not found: say a bug */
    }
    for (int i = first; i < n; i++) {
        uintptr_t at = (uintptr_t)frames[i];
        if (within(hdf5, nhdf5, at)) {
            return true;
        }
        if (within(ours, nours, at)) {
            return false;
        }
    }
    return false;
}

static void
say(const char *text)
{
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, text, left);
        if (n <= 0) {
            return;
        }
        text += n;
        left -= (size_t)n;
    }
}

/* A fault the kernel raised, or an abort() of this process (glibc's
 * malloc aborts on a heap HDF5 has corrupted, as does a failed assert);
 * not a signal another process sent. */
static bool
crashed(const siginfo_t *info)
{
    return info->si_code > 0 ||
           (info->si_code == SI_TKILL && info->si_pid == getpid());
}

/* Whether this thread is the library's that checks samples (its HDF5
 * metadata) beside the reading: src/pass/planner.c names it so. */
static bool
checking_thread(void)
{
    char name[16] = {0};
    return prctl(PR_GET_NAME, name) == 0 &&
           strcmp(name, "meshstats-check") == 0;
}

/* Whether a SIGABRT may be blamed on the file (see the top): on a thread
 * parsing the file's metadata, the calling thread before reading begins
 * or the thread that checks samples. */
static bool
abort_may_be_damage(int sig)
{
    return sig != SIGABRT ||
           (!reading_data && (pid_t)syscall(SYS_gettid) == main_thread) ||
           checking_thread();
}

static void
on_crash(int sig, siginfo_t *info, void *context)
{
    if (crashed(info) && abort_may_be_damage(sig) &&
        hdf5_crashed(context)) {
        say(damaged);
        _exit(EXIT_CRASH_DAMAGED);
    }
    if (crashed(info)) {
        say(internal);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void
crash_guard_arm(const char *dataset)
{
    snprintf(damaged, sizeof(damaged),
             "meshstats: error: %s: HDF5 crashed reading this file: it is "
             "damaged in a way HDF5 1.10.8 does not detect (check it with "
             "h5dump -H); nothing was written\n",
             dataset);
    snprintf(internal, sizeof(internal),
             "meshstats: internal error: crashed reading %s; please report "
             "it with the command\n",
             dataset);
    nhdf5 = nours = 0;
    reading_data = 0;
    main_thread = (pid_t)syscall(SYS_gettid);
    dl_iterate_phdr(add_ranges, NULL);
    void *warm[1];
    backtrace(warm, 1); /* loads the unwinder now, not in the handler */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_sigaction = on_crash,
                           .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        sigaction(signals[i], &sa, NULL);
    }
}

void
crash_guard_reading_data(void)
{
    reading_data = 1;
}

void
crash_guard_disarm(void)
{
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        signal(signals[i], SIG_DFL);
    }
}

#else /* sanitizer builds: their own handlers report more */

void
crash_guard_arm(const char *dataset)
{
    (void)dataset;
}

void
crash_guard_reading_data(void)
{
}

void
crash_guard_disarm(void)
{
}

#endif
