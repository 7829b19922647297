/*
 * main.c: the meshstats command.
 *
 *   meshstats [OPTIONS] [DATASET.h5]      compute and report
 *   meshstats generate OUT.h5 [OPTIONS]   write a synthetic dataset
 *   meshstats demo [OPTIONS]              generate a small one and run on it
 *
 * It owns stdout, stderr and the exit status (0 success, 1 the data could
 * not be processed, 2 usage or configuration error) and uses only the
 * public header.  Settings come from the defaults, then the config file,
 * then the command line, each overriding the one before.
 */
#include "meshstats.h"

#include "args.h"
#include "bar.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* userdata is the progress bar (may be NULL), wiped before the warning. */
static void
print_warning(void *userdata, int64_t id, const char *message)
{
    (void)id;
    if (userdata != NULL) {
        bar_clear(userdata);
    }
    fprintf(stderr, "meshstats: warning: %s\n", message);
}

static int
write_json(const struct ms_stats *stats, const char *path)
{
    if (strcmp(path, "-") == 0) {
        ms_stats_write_json(stats, stdout);
        return fflush(stdout) == 0 ? 0 : EXIT_DATA;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "meshstats: error: %s: cannot write JSON: %s\n", path,
                strerror(errno));
        return EXIT_DATA;
    }
    int rc = ms_stats_write_json(stats, f);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "meshstats: error: %s: writing JSON failed\n", path);
        return EXIT_DATA;
    }
    return 0;
}

/* Compute, report, write back: the main job. */
static int
run_stats(struct cli *c)
{
    struct ms_options opts = c->settings.options;
    struct bar bar;
    enum ms_progress_mode mode = c->settings.progress;
    bar_init(&bar, c->quiet && mode == MS_PROGRESS_AUTO ? MS_PROGRESS_NEVER
                                                        : mode);
    opts.workers = ms_settings_workers(&c->settings);
    opts.handle_signals = true;
    opts.on_warning = print_warning;
    opts.on_progress = bar_update;
    opts.userdata = &bar;
    struct ms_stats *stats;
    struct ms_error err;
    int rc = ms_stats_compute(c->dataset, &opts, &stats, &err);
    bar_clear(&bar);
    if (rc == MS_ECANCELED && err.signal != 0) {
        fprintf(stderr, "meshstats: %s\n", err.message);
        return 128 + err.signal; /* 130 for SIGINT, 143 for SIGTERM */
    }
    if (rc != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return rc == MS_EINVAL ? EXIT_USAGE : EXIT_DATA;
    }
    int status = 0;
    if (!c->quiet && !(c->json && strcmp(c->json, "-") == 0)) {
        ms_stats_write_table(stats, stdout);
    }
    if (c->json != NULL) {
        status = write_json(stats, c->json);
    }
    if (c->settings.write_back) {
        if (ms_stats_write_back(stats, c->dataset, &err) != 0) {
            fprintf(stderr, "meshstats: error: %s\n", err.message);
            status = EXIT_DATA;
        } else if (!c->quiet) {
            fprintf(stderr,
                    "meshstats: wrote metadata/normalization_params to %s\n",
                    c->dataset);
        }
    }
    ms_stats_destroy(stats);
    return status;
}

static int
cmd_main(int argc, char **argv)
{
    struct cli c = {0};
    ms_settings_init(&c.settings);
    bool done = false;
    int rc = cli_parse(&c, argc, argv, false, &done);
    if (rc == 0 && !done) {
        rc = run_stats(&c);
    }
    ms_settings_finish(&c.settings);
    return rc;
}

/* ------------------------------------------------------------------ */
/* meshstats generate */

static int
cmd_generate(int argc, char **argv)
{
    static const struct option gen_options[] = {
        {"samples", required_argument, NULL, 'S'},
        {"timesteps", required_argument, NULL, 'T'},
        {"nodes", required_argument, NULL, 'N'},
        {"features", required_argument, NULL, 'F'},
        {"seed", required_argument, NULL, 'x'},
        {"chunked", no_argument, NULL, 'k'},
        {"gzip", no_argument, NULL, 'z'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ms_generate_options o;
    ms_generate_options_init(&o);
    bool quiet = false;
    int opt;
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":qh", gen_options, NULL)) != -1) {
        unsigned *target = opt == 'S'   ? &o.samples
                           : opt == 'T' ? &o.timesteps
                           : opt == 'N' ? &o.nodes
                           : opt == 'F' ? &o.features
                                        : NULL;
        unsigned seed;
        if (target != NULL) {
            if (ms_parse_uint(optarg, 1, 1000000000u, target) != 0) {
                return cli_bad_value(argv[optind - 1], optarg,
                                 "a positive integer");
            }
        } else if (opt == 'x') {
            if (ms_parse_uint(optarg, 0, UINT_MAX, &seed) != 0) {
                return cli_bad_value("--seed", optarg, "an integer >= 0");
            }
            o.seed = seed;
        } else if (opt == 'k' || opt == 'z') {
            o.chunked = true;
            o.gzip = o.gzip || opt == 'z';
        } else if (opt == 'q') {
            quiet = true;
        } else if (opt == 'h') {
            fputs(cli_usage_text, stdout);
            return 0;
        } else {
            return cli_usage_error("generate: bad option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        return cli_usage_error("generate needs exactly one output file");
    }
    struct ms_error err;
    if (ms_generate(argv[optind], &o, &err) != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return err.code == MS_EINVAL ? EXIT_USAGE : EXIT_DATA;
    }
    if (!quiet) {
        fprintf(stderr,
                "meshstats: wrote %s: %u samples x %u timesteps x %u nodes, "
                "%u feature rows%s\n",
                argv[optind], o.samples, o.timesteps, o.nodes, o.features,
                o.gzip ? ", gzip+shuffle chunks" : o.chunked ? ", chunked" : "");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* meshstats demo */

static int
cmd_demo(int argc, char **argv)
{
    struct cli c = {0};
    ms_settings_init(&c.settings);
    bool done = false;
    char dir[PATH_MAX], path[PATH_MAX + 16];
    int rc = cli_parse(&c, argc, argv, true, &done);
    if (rc != 0 || done) {
        goto out;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/meshstats-demo-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "meshstats: error: %s: cannot create: %s\n", dir,
                strerror(errno));
        rc = EXIT_DATA;
        goto out;
    }
    snprintf(path, sizeof(path), "%s/demo.h5", dir);
    struct ms_generate_options g;
    ms_generate_options_init(&g);
    g.samples = 6;
    g.timesteps = 40;
    g.nodes = 600;
    struct ms_error err;
    if (ms_generate(path, &g, &err) != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        rc = EXIT_DATA;
    } else {
        fprintf(stderr,
                "meshstats demo: generated %s (%u samples x %u timesteps x "
                "%u nodes); its statistics:\n\n",
                path, g.samples, g.timesteps, g.nodes);
        c.dataset = path;
        rc = run_stats(&c);
        remove(path);
    }
    rmdir(dir);
out:
    ms_settings_finish(&c.settings);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "generate") == 0) {
        return cmd_generate(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "demo") == 0) {
        return cmd_demo(argc - 1, argv + 1);
    }
    return cmd_main(argc, argv);
}
