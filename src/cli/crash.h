/*
 * crash.h: turn a crash inside HDF5 while a dataset is read (Debian's
 * HDF5 1.10.8 has some on damaged files) into an error naming the file.
 */
#ifndef MESHSTATS_CLI_CRASH_H
#define MESHSTATS_CLI_CRASH_H

#include <stdbool.h>

/* The exit status when HDF5 crashed on a damaged file: that of any file
 * that cannot be processed. */
#define EXIT_CRASH_DAMAGED 1

/* Catch SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT while dataset (borrowed for the
 * message, which is made now) is read.  Does nothing in sanitizer builds. */
void crash_guard_arm(const char *dataset);

/* From now on (the pass reads data into meshstats' buffers) an abort is
 * never taken for a damaged file: heap corruption caught by the allocator
 * inside HDF5 may be meshstats' own.  Async-signal-safe. */
void crash_guard_reading_data(void);

/* Restore the default actions (before writing back). */
void crash_guard_disarm(void);

#endif
