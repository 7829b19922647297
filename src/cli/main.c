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
#include "crash.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The selection the command line or config asks for; *have is false when
 * every sample is used.  Returns 0 or the exit status. */
static int
resolve_selection(const struct cli *c, struct ms_selection *sel, bool *have)
{
    const char *samples = c->samples ? c->samples : c->settings.samples;
    int given = (samples != NULL) + (c->sample_list != NULL) +
                (c->split != NULL);
    *have = given > 0;
    if (given > 1) {
        return cli_usage_error("--samples (or stats_samples), --sample-list "
                               "and --split choose samples each in their own "
                               "way: give one");
    }
    if (given == 0) {
        return 0;
    }
    struct ms_error err;
    int rc = samples        ? ms_selection_parse(sel, samples, &err)
             : c->split     ? ms_selection_from_split(sel, c->dataset,
                                                      c->split, &err)
                            : ms_selection_read_list(sel, c->sample_list,
                                                     &err);
    if (rc != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return rc == MS_EIO || rc == MS_ENOMEM || rc == MS_ENOTHDF5
                   ? EXIT_DATA
                   : EXIT_USAGE;
    }
    return 0;
}

/* --per-sample FILE.csv and --top K. */
static int
write_reports(const struct cli *c, const struct ms_stats *stats)
{
    int status = 0;
    if (c->per_sample != NULL) {
        FILE *f = fopen(c->per_sample, "w");
        if (f == NULL || ms_stats_write_per_sample_csv(stats, f) != 0 ||
            fclose(f) != 0) {
            fprintf(stderr, "meshstats: error: %s: cannot write the "
                            "per-sample report: %s\n",
                    c->per_sample, strerror(errno));
            status = EXIT_DATA;
        }
    }
    size_t top = c->top < stats->nreports ? c->top : stats->nreports;
    if (top == 0) {
        return status;
    }
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
        ms_feature_name(g, k, name, sizeof(name));
        fprintf(stderr, "  sample %lld: %.2f std (%s %s)\n",
                (long long)stats->reports[best].id, z, ms_group_name(g),
                name);
    }
    free(shown);
    return status;
}

/* Compute, report, write back: the main job. */
static int
run_stats(struct cli *c)
{
    struct ms_options opts = c->settings.options;
    struct ms_selection sel = {0};
    bool selected;
    int rc = resolve_selection(c, &sel, &selected);
    if (rc != 0) {
        return rc;
    }
    opts.selection = selected ? &sel : NULL;
    opts.per_sample = c->per_sample != NULL || c->top > 0;
    struct bar bar;
    enum ms_progress_mode mode = c->settings.progress;
    bar_init(&bar, c->quiet && mode == MS_PROGRESS_AUTO ? MS_PROGRESS_NEVER
                                                        : mode);
    opts.workers = ms_settings_workers(&c->settings);
    opts.handle_signals = true;
    opts.on_warning = print_warning;
    opts.on_progress = bar_update;
    opts.userdata = &bar;
    bool leader = ms_parallel_rank() == 0;
    if (!leader) {
        /* Under MPI only rank 0 reports, writes JSON and writes back. */
        opts.on_warning = NULL;
        opts.on_progress = NULL;
    }
    struct ms_stats *stats;
    struct ms_error err;
    crash_guard_arm(c->dataset);
    rc = ms_stats_compute(c->dataset, &opts, &stats, &err);
    crash_guard_disarm();
    ms_selection_finish(&sel);
    bar_clear(&bar);
    if (rc == MS_ECANCELED && err.signal != 0) {
        fprintf(stderr, "meshstats: %s\n", err.message);
        return 128 + err.signal; /* 130 for SIGINT, 143 for SIGTERM */
    }
    if (rc != 0 && !leader) {
        return rc == MS_EINVAL || rc == MS_ENOTFOUND ? EXIT_USAGE : EXIT_DATA;
    }
    if (rc != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return rc == MS_EINVAL || rc == MS_ENOTFOUND ? EXIT_USAGE
                                                     : EXIT_DATA;
    }
    if (!leader) {
        ms_stats_destroy(stats);
        return 0;
    }
    int status = write_reports(c, stats);
    if (!c->quiet && !(c->json && strcmp(c->json, "-") == 0)) {
        ms_stats_write_table(stats, stdout);
    }
    if (c->json != NULL && write_json(stats, c->json) != 0) {
        status = EXIT_DATA;
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
    if (rc == 0 && !done && c.print_config) {
        cli_print_config(&c, stdout);
    } else if (rc == 0 && !done) {
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

static int dispatch(int argc, char **argv);

int
main(int argc, char **argv)
{
    /* Under mpirun or srun, every rank runs the same command on its share
     * of the samples; otherwise this does nothing. */
    ms_parallel_init(&argc, &argv);
    int rc = dispatch(argc, argv);
    ms_parallel_finish();
    return rc;
}

static int
dispatch(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "generate") == 0) {
        return cmd_generate(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "demo") == 0) {
        return cmd_demo(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "config") == 0) {
        /* meshstats config [OPTIONS]: the same as --print-config. */
        char **args = calloc((size_t)argc + 1, sizeof(*args));
        if (args == NULL) {
            return EXIT_DATA;
        }
        args[0] = argv[0];
        args[1] = "--print-config";
        for (int i = 2; i < argc; i++) {
            args[i] = argv[i];
        }
        int rc = cmd_main(argc, args);
        free(args);
        return rc;
    }
    return cmd_main(argc, argv);
}
