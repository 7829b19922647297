/*
 * main.c: the meshstats command.
 *
 *   meshstats [OPTIONS] [DATASET.h5]      compute and report
 *   meshstats generate OUT.h5 [OPTIONS]   write a synthetic dataset
 *   meshstats demo [OPTIONS]              generate a small one and run on it
 *   meshstats config [OPTIONS]            every setting and its origin
 *
 * It owns stdout, stderr and the exit status (0 success, 1 the data could
 * not be processed or an output could not be written, 2 usage or
 * configuration error) and uses only the public header.  Settings come
 * from the defaults, then the config file, then the command line, each
 * overriding the one before.
 */
#include "meshstats.h"

#include "args.h"
#include "bar.h"
#include "commands.h"
#include "crash.h"
#include "output.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
print_warning(void *userdata, int64_t id, const char *message)
{
    (void)id;
    bar_warn(userdata, message);
}

/* The first report comes as reading starts (at 0%): from then on an abort
 * inside HDF5 is no longer taken for a damaged file (see crash.c). */
static void
on_progress(void *userdata, const struct ms_progress *p)
{
    crash_guard_reading_data();
    bar_update(userdata, p);
}

/* The selection the settings ask for; *have is false when every sample is
 * used.  Returns 0 or the exit status. */
static int
resolve_selection(const struct cli *c, struct ms_selection *sel, bool *have)
{
    const struct ms_settings *s = &c->settings;
    int given = (s->samples != NULL) + (s->sample_list != NULL) +
                (s->split != NULL);
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
    int rc = s->samples ? ms_selection_parse(sel, s->samples, &err)
             : s->split ? ms_selection_from_split(sel, c->dataset, s->split,
                                                  &err)
                        : ms_selection_read_list(sel, s->sample_list, &err);
    if (rc != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return cli_status_of(rc);
    }
    return 0;
}

/* The pass itself, with the bar and the crash guard; *stats on success.
 * Returns 0 or the exit status. */
static int
compute(struct cli *c, struct bar *bar, struct ms_stats **stats)
{
    struct ms_options opts = c->settings.options;
    struct ms_selection sel = {0};
    bool selected;
    int rc = resolve_selection(c, &sel, &selected);
    if (rc != 0) {
        return rc;
    }
    opts.selection = selected ? &sel : NULL;
    opts.per_sample = c->settings.per_sample != NULL || c->settings.top > 0 ||
                      c->settings.report != NULL;
    opts.trace = c->settings.trace != NULL || c->settings.report != NULL;
    opts.quantiles = opts.quantiles || c->settings.histograms;
    opts.workers = ms_settings_workers(&c->settings);
    opts.handle_signals = true;
    bool leader = ms_parallel_rank() == 0;
    /* Under MPI only rank 0 reports, writes JSON and writes back. */
    opts.on_warning = leader ? print_warning : NULL;
    opts.on_progress = leader ? on_progress : NULL;
    opts.userdata = bar;
    struct ms_error err;
    crash_guard_arm(c->dataset);
    rc = ms_stats_compute(c->dataset, &opts, stats, &err);
    crash_guard_disarm();
    ms_selection_finish(&sel);
    bar_clear(bar);
    if (rc == MS_ECANCELED && err.signal != 0) {
        fprintf(stderr, "meshstats: %s\n", err.message);
        return 128 + err.signal; /* 130 for SIGINT, 143 for SIGTERM */
    }
    if (rc != 0 && leader) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
    }
    return rc != 0 ? cli_status_of(rc) : 0;
}

/* Reports, table, JSON and write-back, each checked. */
static int
write_outputs(const struct cli *c, const struct ms_stats *stats)
{
    const struct ms_settings *s = &c->settings;
    /* The data's advice comes with the table (-q leaves it to the JSON). */
    for (size_t i = 0; !s->quiet && i < stats->nwarnings; i++) {
        fprintf(stderr, "meshstats: warning: %s\n", stats->warnings[i]);
    }
    for (size_t i = 0; !s->quiet && s->per_sample &&
                       i < stats->nsample_warnings;
         i++) {
        fprintf(stderr, "meshstats: warning: %s\n",
                stats->sample_warnings[i]);
    }
    int status = output_reports(s, stats);
    status = output_table(s, stats) ? EXIT_DATA : status;
    status = output_json(s, stats) ? EXIT_DATA : status;
    if (s->write_back) {
        struct ms_error err;
        if (ms_stats_write_back(stats, c->dataset, &err) != 0) {
            fprintf(stderr, "meshstats: error: %s\n", err.message);
            status = EXIT_DATA;
        } else if (!s->quiet) {
            fprintf(stderr,
                    "meshstats: wrote metadata/normalization_params to %s\n",
                    c->dataset);
        }
    }
    return status;
}

/* Compute, report, write back: the main job. */
static int
run_stats(struct cli *c)
{
    int status = output_spares_dataset(&c->settings, c->dataset);
    status = status != 0 ? status
                         : output_writable(&c->settings, ms_parallel_rank());
    /* (under MPI every rank stops if one must: none waits for it) */
    status = ms_parallel_agree(status);
    if (status != 0) {
        return status;
    }
    struct bar bar;
    enum ms_progress_mode mode = c->settings.progress;
    bar_init(&bar, c->settings.quiet && mode == MS_PROGRESS_AUTO
                       ? MS_PROGRESS_NEVER
                       : mode);
    struct ms_stats *stats = NULL;
    status = compute(c, &bar, &stats);
    if (status == 0 && ms_parallel_rank() == 0) {
        status = write_outputs(c, stats);
    } else if (status == 0 && c->settings.trace != NULL) {
        /* Under MPI each other rank writes its own timeline beside it. */
        status = output_rank_trace(&c->settings, stats, ms_parallel_rank());
    }
    ms_stats_destroy(stats);
    if (bar.failed && status == 0) {
        /* stderr failed: this may not be seen, but the status says it. */
        fprintf(stderr, "meshstats: error: standard error: write failed\n");
        status = EXIT_DATA;
    }
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

/* meshstats demo: a small generated dataset in a temporary folder. */
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
    rc = output_writable(&c.settings, ms_parallel_rank()); /* (first) */
    if (rc != 0) {
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

/* meshstats config [OPTIONS]: the same as --print-config. */
static int
cmd_config(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 2, sizeof(*args));
    if (args == NULL) {
        return EXIT_DATA;
    }
    args[0] = argv[0];
    args[1] = "--print-config";
    for (int i = 1; i < argc; i++) {
        args[i + 1] = argv[i];
    }
    int rc = cmd_main(argc + 1, args);
    free(args);
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
        return cmd_config(argc - 1, argv + 1);
    }
    return cmd_main(argc, argv);
}

int
main(int argc, char **argv)
{
    /* A closed pipe is a write error to report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    /* Under mpirun or srun, every rank runs the same command on its share
     * of the samples; otherwise this does nothing. */
    ms_parallel_init(&argc, &argv);
    int rc = dispatch(argc, argv);
    ms_parallel_finish();
    /* Whatever went to stdout (--help, the config, the table) got there. */
    if (output_check(stdout, "standard output") != 0 && rc == 0) {
        rc = EXIT_DATA;
    }
    return rc;
}
