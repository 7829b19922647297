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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Write len bytes of data to fd: 0 or errno. */
static int
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? errno : EIO;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The folder path names a file in: up to its last '/', or ".". */
static void
folder_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    snprintf(dir, size, "%.*s", slash ? (int)(slash - path) + 1 : 1,
             slash ? path : ".");
}

/* path's temporary sibling: .NAME.meshstats.PID.tmp in the same folder,
 * this process's own, so that two runs writing the same output at once
 * never share one (each installs its whole file; the last rename wins). */
static void
temp_name(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(out, size, "%.*s.%s.meshstats.%ld.tmp", (int)dir, path,
             path + dir, (long)getpid());
}

/* data into the regular file path, whole or not at all: written to a
 * temporary file beside it, made durable, then renamed over it, so that a
 * reader never sees half a file and a failure (a full disk, a kill)
 * leaves the previous file as it was.  0, errno, or -errno when the
 * temporary file cannot be created. */
static int
replace_file(const char *path, const char *data, size_t len)
{
    char temp[4200];
    temp_name(path, temp, sizeof(temp));
    struct stat st;
    mode_t mode = 0666;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode &= ~mask;
    }
    unlink(temp); /* (a leftover of a killed run that had this pid; never
                   * follow a link there) */
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
    if (fd < 0) {
        return -errno; /* nothing was written */
    }
    int e = write_all(fd, data, len);
    if (e == 0 && fsync(fd) != 0) {
        e = errno;
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e == 0 && rename(temp, path) != 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(temp);
    }
    return e;
}

/* Whether path is written whole through replace_file: a regular file of
 * one link that is not a symbolic link (or none yet), writable, in a
 * folder this process may write to.  Anything else (/dev/stdout and
 * other links, devices, pipes, a file shared by hard links, a read-only
 * one) is written in place as before. */
static bool
replaceable(const char *path)
{
    struct stat st;
    char dir[4200];
    folder_of(path, dir, sizeof(dir));
    if (strlen(path) > 200 || access(dir, W_OK) != 0) {
        return false; /* (a long name leaves no room for the suffix) */
    }
    if (lstat(path, &st) != 0) {
        return errno == ENOENT;
    }
    return S_ISREG(st.st_mode) && st.st_nlink == 1 &&
           access(path, W_OK) == 0;
}

/* Write with fn into a regular file path, whole or not at all. */
static int
write_whole(const char *path, const char *what,
            int (*fn)(const struct ms_stats *, FILE *),
            const struct ms_stats *stats)
{
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    int e = mem == NULL ? errno : 0;
    if (mem != NULL) {
        fn(stats, mem);
        e = ferror(mem) ? ENOMEM : 0;
        if (fclose(mem) != 0 && e == 0) {
            e = ENOMEM;
        }
    }
    if (e == 0) {
        e = replace_file(path, data, len);
    }
    free(data);
    if (e < 0) {
        fprintf(stderr, "meshstats: error: %s: cannot write the %s: %s\n",
                path, what, strerror(-e));
        return EXIT_DATA;
    }
    if (e != 0) {
        fprintf(stderr, "meshstats: error: %s (the %s): write failed: %s; "
                "the previous file, if any, is unchanged\n",
                path, what, strerror(e));
        return EXIT_DATA;
    }
    return 0;
}

/* Write with fn into path ("-": stdout), checked; what names it. */
static int
write_to(const char *path, const char *what,
         int (*fn)(const struct ms_stats *, FILE *),
         const struct ms_stats *stats)
{
    bool to_stdout = strcmp(path, "-") == 0;
    if (!to_stdout && replaceable(path)) {
        return write_whole(path, what, fn, stats);
    }
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
output_spares_dataset(const struct ms_settings *s, const char *dataset)
{
    const char *outputs[] = {s->json, s->per_sample, s->trace, s->report};
    const char *option[] = {"--json", "--per-sample", "--trace", "--report"};
    struct stat data, out;
    if (dataset == NULL || stat(dataset, &data) != 0) {
        return 0; /* (the pass says what is wrong with it) */
    }
    for (size_t i = 0; i < 4; i++) {
        if (outputs[i] != NULL && strcmp(outputs[i], "-") != 0 &&
            stat(outputs[i], &out) == 0 && out.st_dev == data.st_dev &&
            out.st_ino == data.st_ino) {
            return cli_usage_error("%s %s is the dataset itself (%s): writing "
                               "it would destroy the data; name another "
                               "file",
                               option[i], outputs[i], dataset);
        }
    }
    return 0;
}

/* 0 if path can be written as far as can be told without writing it:
 * an existing file other than a folder that this process may write, or
 * a new name in a folder it may write to; else errno. */
static int
writable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        return S_ISDIR(st.st_mode)         ? EISDIR
               : access(path, W_OK) != 0 ? errno
                                           : 0;
    }
    if (errno != ENOENT) {
        return errno;
    }
    char dir[4200];
    folder_of(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0) {
        return errno;
    }
    return !S_ISDIR(st.st_mode)                 ? ENOTDIR
           : access(dir, W_OK | X_OK) != 0 ? errno
                                             : 0;
}

int
output_writable(const struct ms_settings *s, int rank)
{
    const char *outputs[] = {s->json, s->per_sample, s->trace, s->report};
    const char *what[] = {"JSON", "per-sample report", "trace", "report"};
    /* (under MPI the other ranks write only their own timelines, in the
     * trace's folder) */
    for (size_t i = rank == 0 ? 0 : 2; i < (rank == 0 ? 4u : 3u); i++) {
        int e = outputs[i] != NULL && strcmp(outputs[i], "-") != 0
                    ? writable(outputs[i])
                    : 0;
        if (e != 0) {
            fprintf(stderr,
                    "meshstats: error: %s: cannot write the %s: %s "
                    "(checked before the pass: nothing was read)\n",
                    outputs[i], what[i], strerror(e));
            return EXIT_DATA;
        }
    }
    return 0;
}

int
output_table(const struct ms_settings *s, const struct ms_stats *stats)
{
    /* An output on standard output takes it alone. */
    const char *outputs[] = {s->json, s->per_sample, s->trace, s->report};
    for (size_t i = 0; i < 4; i++) {
        if (outputs[i] != NULL && strcmp(outputs[i], "-") == 0) {
            return 0;
        }
    }
    if (s->quiet) {
        return 0;
    }
    int status = write_to("-", "table", ms_stats_write_table, stats);
    if (status == 0 && s->histograms) {
        status = write_to("-", "histograms", ms_stats_write_histograms,
                          stats);
    }
    return status;
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
output_rank_trace(const struct ms_settings *s, const struct ms_stats *stats,
                  int rank)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s.rank%d", s->trace, rank);
    return write_to(path, "trace", ms_stats_write_trace, stats);
}

int
output_reports(const struct ms_settings *s, const struct ms_stats *stats)
{
    int status = 0;
    if (s->per_sample != NULL) {
        status = write_to(s->per_sample, "per-sample report",
                          ms_stats_write_per_sample_csv, stats);
    }
    if (s->trace != NULL &&
        write_to(s->trace, "trace", ms_stats_write_trace, stats) != 0) {
        status = EXIT_DATA;
    }
    if (s->report != NULL &&
        write_to(s->report, "report", ms_stats_write_report, stats) != 0) {
        status = EXIT_DATA;
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
