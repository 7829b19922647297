/*
 * output.h: the results of a pass written where the user asked, every
 * failure to write reported (see output.c).
 */
#ifndef MESHSTATS_CLI_OUTPUT_H
#define MESHSTATS_CLI_OUTPUT_H

#include "meshstats.h"

#include <stdio.h>

/* Flush stream and say whether anything written to it was lost: 0, or
 * EXIT_DATA after "meshstats: error: <what>: write failed: <reason>" on
 * stderr (best effort, when stderr itself is the stream that failed). */
int output_check(FILE *stream, const char *what);

/* Before the pass: EXIT_USAGE, said on stderr, if an output file is the
 * dataset itself (the same file by any name), which writing it would
 * destroy; else 0. */
int output_spares_dataset(const struct ms_settings *s, const char *dataset);
/* Before the pass: EXIT_DATA, said on stderr, if an output file cannot be
 * written (its folder missing or read-only, a folder by that name, a
 * read-only file), so that a long pass's result is not lost to a
 * mistyped path; else 0.  Under MPI, rank 0 checks what it writes,
 * another rank the folder of its timeline (--trace). */
int output_writable(const struct ms_settings *s, int rank);

/* The table on stdout, unless quiet or the JSON goes there. */
int output_table(const struct ms_settings *s, const struct ms_stats *stats);
/* --json FILE or -: */
int output_json(const struct ms_settings *s, const struct ms_stats *stats);
/* --per-sample FILE.csv, and --top K on stderr. */
/* Under MPI, rank r's own timeline (--trace FILE) into FILE.rank<r>. */
int output_rank_trace(const struct ms_settings *s,
                      const struct ms_stats *stats, int rank);
int output_reports(const struct ms_settings *s,
                   const struct ms_stats *stats);

#endif
