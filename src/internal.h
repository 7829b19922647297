/*
 * internal.h: what every file of libmeshstats shares, at the bottom of its
 * layers: allocation, errors, the row numbers of nodal_data.
 *
 * Each folder of src/ has its own private header over this one
 * (features/features.h, read/read.h, results/results.h,
 * settings/settings.h, pass/pass.h, generate/generate.h), and a file
 * includes only its folder's header and lower ones (tests/test_layers.py
 * checks it).  A user of the library never sees any of them.  HDF5 types
 * stay inside read/ (read/hdf5_file.h), results/writeback.c and
 * generate/; no other header names them.
 */
#ifndef MESHSTATS_INTERNAL_H
#define MESHSTATS_INTERNAL_H

#include "meshstats.h"

#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Rows 0..2 reference position, 3..5 displacement (docs/spec.md section 1). */
#define MS_ROW_POSITION 0
#define MS_ROW_DISPLACEMENT 3
#define MS_MIN_FEATURE_ROWS 6
#define MS_EDGE_FEATURES 4 /* r_x, r_y, r_z, |r| of one set of positions */

/* ------------------------------------------------------------------ */
/* alloc.c: every allocation of the library goes through these, so that a
 * test can make the Nth one fail. */

void *ms__malloc(size_t size);
void *ms__calloc(size_t count, size_t size);
void *ms__reallocarray(void *ptr, size_t count, size_t size);
char *ms__strdup(const char *s);
void ms__free(void *ptr);
/* Ask for huge pages under the 2 MiB-aligned part of a large buffer that
 * is written and read at random (a hint: nothing happens where the kernel
 * does not offer them). */
void ms__advise_random_access(void *ptr, size_t bytes);
/* Map the pages under the page-aligned part of [ptr, ptr + bytes) now, as
 * a first write would, without writing them: another thread may be
 * writing there (MADV_POPULATE_WRITE, Linux 5.14; nothing where the
 * kernel cannot). */
void ms__prefault(void *ptr, size_t bytes);
/* Test hook: make allocation number n (counted from now, 1-based) and every
 * later one fail; 0 turns failures off.  Returns allocations made so far. */
void ms__alloc_fail_after(uint64_t n);
uint64_t ms__alloc_count(void);

/* ------------------------------------------------------------------ */
/* c_locale.c: put the calling thread in the C locale, so that numbers are
 * written and read with a '.', and return the locale to give back to it
 * with ms__c_locale_leave ((locale_t)0: nothing to give back). */
locale_t ms__c_locale_enter(void);
void ms__c_locale_leave(locale_t caller);

/* ------------------------------------------------------------------ */
/* error.c */

/* A message formatted as snprintf would, with every control character
 * (C0, DEL, C1) written as \xNN: names from a file (a group's, a linked
 * file's) reach terminals and logs through messages, and must not be
 * able to drive them. */
void ms__format_message(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fill err (if not NULL) with code and a formatted message (as
 * ms__format_message); returns code. */
int ms__error_set(struct ms_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fill err with a pass's stop: by signal signum (SIGINT or SIGTERM, set
 * in err->signal), or, with 0, by the caller; returns MS_ECANCELED. */
int ms__error_canceled(struct ms_error *err, int signum);
/* Checked size arithmetic: 0, or MS_EOVERFLOW if the result overflows. */
int ms__size_mul(size_t a, size_t b, size_t *out);
int ms__size_add(size_t a, size_t b, size_t *out);
#endif /* MESHSTATS_INTERNAL_H */
