/*
 * pipeline_bench.c: how well the pipeline overlaps reading and computing.
 *
 *   pipeline_bench [--data FILE] [--throttle MBPS] [--csv FILE]
 *                  [--samples S --timesteps T --nodes N] [--mode M]
 *
 * Runs one full pass per setting, workers 1 and 2 x prefetch 1, 2, 4, 8, 16,
 * each in a child process (the threadpool size is fixed per process), and
 * reports wall time, time spent reading and computing (summed over the
 * workers), the overlap (read + compute - wall) / min(read, compute),
 * throughput and the child's peak RSS, as a table and a CSV.  --throttle
 * slows every read to MBPS per worker, emulating slow storage so that the
 * overlap shows.  FILE is generated if it does not exist and read once
 * first, so every setting finds it in the page cache.  Never run by meson
 * test.
 */
#include "meshstats.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct result {
    int rc;
    double wall, read, compute;
    unsigned long long bytes;
};

struct config {
    const char *data;
    const char *csv;
    unsigned throttle_mbps;
    unsigned mode;
    struct ms_generate_options gen;
};

/* In the child: one pass, the result written to fd. */
static void
child_pass(const struct config *c, unsigned workers, unsigned prefetch,
           int fd)
{
    struct ms_options o;
    ms_options_init(&o);
    o.workers = workers;
    o.prefetch = prefetch;
    o.max_timesteps = c->mode;
    o.read_throttle = (uint64_t)c->throttle_mbps * 1000000u;
    struct ms_stats *s = NULL;
    struct ms_error err;
    struct result r = {0};
    r.rc = ms_stats_compute(c->data, &o, &s, &err);
    if (r.rc == 0) {
        r.wall = s->info.wall_seconds;
        r.read = s->info.read_seconds;
        r.compute = s->info.compute_seconds;
        r.bytes = s->info.bytes_read;
        ms_stats_destroy(s);
    } else {
        fprintf(stderr, "pipeline_bench: %s\n", err.message);
    }
    ssize_t n = write(fd, &r, sizeof(r));
    _exit(n == (ssize_t)sizeof(r) ? 0 : 1);
}

static int
measure(const struct config *c, unsigned workers, unsigned prefetch,
        struct result *r, long *rss_kib)
{
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_pass(c, workers, prefetch, fds[1]);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], r, sizeof(*r));
    close(fds[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || n != (ssize_t)sizeof(*r)) {
        return -1;
    }
    *rss_kib = ru.ru_maxrss;
    return r->rc;
}

/* Read the file once so that every setting finds it in the page cache. */
static void
warm_page_cache(const char *path)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 20];
    while (f != NULL && fread(buf, 1, sizeof(buf), f) == sizeof(buf)) {
    }
    if (f != NULL) {
        fclose(f);
    }
}

static void
parse(int argc, char **argv, struct config *c)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"throttle", required_argument, NULL, 't'},
        {"csv", required_argument, NULL, 'c'},
        {"samples", required_argument, NULL, 'S'},
        {"timesteps", required_argument, NULL, 'T'},
        {"nodes", required_argument, NULL, 'N'},
        {"mode", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    ms_generate_options_init(&c->gen);
    c->gen.samples = 20;
    c->gen.timesteps = 200;
    c->gen.nodes = 5000;
    c->data = "bench/out/pipeline.h5";
    c->csv = "bench/out/pipeline.csv";
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        unsigned *u = opt == 't'   ? &c->throttle_mbps
                      : opt == 'S' ? &c->gen.samples
                      : opt == 'T' ? &c->gen.timesteps
                      : opt == 'N' ? &c->gen.nodes
                      : opt == 'm' ? &c->mode
                                   : NULL;
        char *end;
        unsigned long v = u != NULL ? strtoul(optarg, &end, 10) : 0;
        if (u != NULL && *optarg != '\0' && *end == '\0' && v <= 1000000000u) {
            *u = (unsigned)v;
            continue;
        }
        if (opt == 'd') {
            c->data = optarg;
        } else if (opt == 'c') {
            c->csv = optarg;
        } else {
            fprintf(stderr, "usage: pipeline_bench [--data FILE] "
                            "[--throttle MBPS] [--csv FILE] [--samples S "
                            "--timesteps T --nodes N] [--mode M]\n");
            exit(2);
        }
    }
}

int
main(int argc, char **argv)
{
    struct config c = {0};
    parse(argc, argv, &c);
    struct stat st;
    if (stat(c.data, &st) != 0) {
        struct ms_error err;
        fprintf(stderr, "generating %s (%u x %u x %u)...\n", c.data,
                c.gen.samples, c.gen.timesteps, c.gen.nodes);
        if (ms_generate(c.data, &c.gen, &err) != 0) {
            fprintf(stderr, "pipeline_bench: %s\n", err.message);
            return 1;
        }
    }
    warm_page_cache(c.data);
    FILE *csv = fopen(c.csv, "w");
    if (csv == NULL) {
        fprintf(stderr, "pipeline_bench: %s: %s\n", c.csv, strerror(errno));
        return 1;
    }
    fprintf(csv, "workers,prefetch,wall_s,read_s,compute_s,overlap,mb_s,"
                 "peak_rss_kib,throttle_mbps\n");
    printf("pipeline bench: %s, throttle %s%u MB/s per read, -s %u\n",
           c.data, c.throttle_mbps ? "" : "off ", c.throttle_mbps, c.mode);
    printf("%7s %8s %8s %8s %9s %8s %8s %12s\n", "workers", "prefetch",
           "wall s", "read s", "compute s", "overlap", "MB/s",
           "peak RSS MiB");
    static const unsigned depths[] = {1, 2, 4, 8, 16};
    for (unsigned workers = 1; workers <= 2; workers++) {
        for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
            struct result r;
            long rss = 0;
            if (measure(&c, workers, depths[d], &r, &rss) != 0) {
                fprintf(stderr, "pipeline_bench: the pass failed\n");
                return 1;
            }
            double lo = r.read < r.compute ? r.read : r.compute;
            double overlap = lo > 0 ? (r.read + r.compute - r.wall) / lo : 0;
            double mbs = (double)r.bytes / 1e6 / r.wall;
            printf("%7u %8u %8.2f %8.2f %9.2f %7.0f%% %8.0f %12.1f\n",
                   workers, depths[d], r.wall, r.read, r.compute,
                   100 * overlap, mbs, rss / 1024.0);
            fprintf(csv, "%u,%u,%.4f,%.4f,%.4f,%.4f,%.1f,%ld,%u\n", workers,
                    depths[d], r.wall, r.read, r.compute, overlap, mbs, rss,
                    c.throttle_mbps);
        }
    }
    fclose(csv);
    printf("CSV: %s\n", c.csv);
    return 0;
}
