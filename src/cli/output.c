/*
 * output.c: where the results of a pass go, and the proof that they got
 * there.
 *
 * Every stream a result is written to is flushed and checked: a full disk
 * (/dev/full), a closed pipe (SIGPIPE is ignored by main.c, so a write to
 * it fails with EPIPE) or a file that cannot be created is an error with a
 * message naming the output, and exit status 1.  Uses only the public
 * header.
 */
#include "output.h"

#include "args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
output_check(FILE *stream, const char *what)
{
    /* errno: set by the write that failed, here or earlier (the caller
     * cleared it before writing). */
    static const FILE *reported; /* said once, not again at exit */
    bool lost = fflush(stream) != 0;
    lost = ferror(stream) || lost;
    if (!lost || stream == reported) {
        return lost ? EXIT_DATA : 0;
    }
    reported = stream;
    int e = errno;
    fprintf(stderr, "meshstats: error: %s: write failed: %s\n", what,
            e != 0 ? strerror(e) : "I/O error");
    return EXIT_DATA;
}

/* Write with fn into path ("-": stdout), checked; what names it. */
static int
write_to(const char *path, const char *what,
         int (*fn)(const struct ms_stats *, FILE *),
         const struct ms_stats *stats)
{
    bool to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "meshstats: error: %s: cannot write the %s: %s\n",
                path, what, strerror(errno));
        return EXIT_DATA;
    }
    char name[4200];
    snprintf(name, sizeof(name), "%s (the %s)",
             to_stdout ? "standard output" : path, what);
    errno = 0;
    fn(stats, f);
    int status = output_check(f, name);
    if (!to_stdout && fclose(f) != 0 && status == 0) {
        fprintf(stderr, "meshstats: error: %s: write failed: %s\n", name,
                strerror(errno));
        status = EXIT_DATA;
    }
    return status;
}

int
output_table(const struct ms_settings *s, const struct ms_stats *stats)
{
    if (s->quiet || (s->json != NULL && strcmp(s->json, "-") == 0)) {
        return 0;
    }
    return write_to("-", "table", ms_stats_write_table, stats);
}

int
output_json(const struct ms_settings *s, const struct ms_stats *stats)
{
    return s->json != NULL
               ? write_to(s->json, "JSON", ms_stats_write_json, stats)
               : 0;
}

/* Name the top most outlying samples on stderr. */
static void
print_top(const struct ms_stats *stats, size_t top)
{
    fprintf(stderr, "meshstats: the %zu most outlying samples (|sample mean "
                    "- dataset mean| / dataset std, worst feature):\n",
            top);
    bool *shown = calloc(stats->nreports, sizeof(*shown));
    for (size_t n = 0; shown != NULL && n < top; n++) {
        size_t best = 0;
        double best_z = -1;
        for (size_t i = 0; i < stats->nreports; i++) {
            enum ms_group_kind g;
            size_t k;
            double z = ms_stats_outlier_score(stats, i, &g, &k);
            if (!shown[i] && z > best_z) {
                best = i;
                best_z = z;
            }
        }
        shown[best] = true;
        enum ms_group_kind g;
        size_t k;
        char name[32];
        double z = ms_stats_outlier_score(stats, best, &g, &k);
        ms_stats_feature_name(stats, g, k, name, sizeof(name));
        fprintf(stderr, "  sample %lld: %.2f std (%s %s)\n",
                (long long)stats->reports[best].id, z, ms_group_name(g),
                name);
    }
    free(shown);
}

int
output_reports(const struct ms_settings *s, const struct ms_stats *stats)
{
    int status = 0;
    if (s->per_sample != NULL) {
        status = write_to(s->per_sample, "per-sample report",
                          ms_stats_write_per_sample_csv, stats);
    }
    size_t top = s->top < stats->nreports ? s->top : stats->nreports;
    if (top > 0) {
        print_top(stats, top);
        if (output_check(stderr, "standard error") != 0) {
            status = EXIT_DATA;
        }
    }
    return status;
}
