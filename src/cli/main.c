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

#define EXIT_DATA 1
#define EXIT_USAGE 2
#define DEFAULT_CONFIG "config.txt"

static const char usage_text[] =
    "Usage: meshstats [OPTIONS] [DATASET.h5]\n"
    "       meshstats generate OUT.h5 [--samples S] [--timesteps T] "
    "[--nodes N]\n"
    "                 [--features F] [--seed X] [--chunked] [--gzip]\n"
    "       meshstats demo [OPTIONS]\n"
    "\n"
    "Compute the normalization statistics (count, mean, std, min, max) of\n"
    "the node, edge and delta features of an HDF5 mesh dataset.\n"
    "\n"
    "Features:\n"
    "      --input-var N         node features per node (4)\n"
    "      --output-var N        delta features per node (4)\n"
    "  -s, --sample-timesteps M  at most M timesteps per sample, as the seed\n"
    "                            did with 50 (0: every timestep; default)\n"
    "      --skip-nonfinite      leave out rows with NaN/Inf instead of "
    "failing\n"
    "Resources:\n"
    "  -j, --workers N|auto      worker threads (auto: the online cores)\n"
    "      --prefetch N|auto     work units read ahead (auto)\n"
    "      --memory-limit SIZE   bound on buffered data, e.g. 256M, 1G "
    "(256M)\n"
    "      --throttle MBPS       slow each read to MBPS MB/s (benchmarks)\n"
    "Output:\n"
    "      --json FILE           write the result as JSON ('-': stdout)\n"
    "      --write-back          store the result in the dataset\n"
    "      --no-write-back       do not, whatever the config says\n"
    "      --progress WHEN       auto, always or never (auto)\n"
    "  -q, --quiet               no table on stdout\n"
    "Behaviour:\n"
    "  -c, --config FILE         config file (./config.txt if present)\n"
    "      --strict              a bad sample fails the run\n"
    "  -h, --help                this help\n"
    "  -V, --version             versions of meshstats, HDF5 and libuv\n"
    "\n"
    "Exit status: 0 success, 1 the data could not be processed, 2 usage or\n"
    "configuration error.  See docs/cli.md and docs/config.md.\n";

enum long_only {
    OPT_INPUT_VAR = 256,
    OPT_OUTPUT_VAR,
    OPT_PREFETCH,
    OPT_MEMORY_LIMIT,
    OPT_JSON,
    OPT_WRITE_BACK,
    OPT_NO_WRITE_BACK,
    OPT_PROGRESS,
    OPT_STRICT,
    OPT_SKIP_NONFINITE,
    OPT_THROTTLE,
};

static const char short_options[] = ":c:s:j:qhV";
static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"input-var", required_argument, NULL, OPT_INPUT_VAR},
    {"output-var", required_argument, NULL, OPT_OUTPUT_VAR},
    {"sample-timesteps", required_argument, NULL, 's'},
    {"workers", required_argument, NULL, 'j'},
    {"prefetch", required_argument, NULL, OPT_PREFETCH},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"json", required_argument, NULL, OPT_JSON},
    {"write-back", no_argument, NULL, OPT_WRITE_BACK},
    {"no-write-back", no_argument, NULL, OPT_NO_WRITE_BACK},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"skip-nonfinite", no_argument, NULL, OPT_SKIP_NONFINITE},
    {"throttle", required_argument, NULL, OPT_THROTTLE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

struct cli {
    struct ms_settings settings;
    const char *config;
    bool config_explicit;
    const char *json;
    bool quiet;
    const char *dataset;
};

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "meshstats: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'meshstats --help'.\n");
    va_end(ap);
    return EXIT_USAGE;
}

static int
bad_value(const char *option, const char *value, const char *expected)
{
    fprintf(stderr,
            "meshstats: error: %s: '%s' is not valid; expected %s\n"
            "Try 'meshstats --help'.\n",
            option, value, expected);
    return EXIT_USAGE;
}

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

static void
print_version(void)
{
    char deps[128];
    ms_version_dependencies(deps, sizeof(deps));
    printf("meshstats %s (%s)\n", ms_version(), deps);
}

/* One option of the second pass: apply it on top of the config. */
static int
apply_option(struct cli *c, int opt, const char *arg)
{
    struct ms_options *o = &c->settings.options;
    switch (opt) {
    case OPT_INPUT_VAR:
        return ms_parse_uint(arg, 1, 1024, &o->input_var)
                   ? bad_value("--input-var", arg, "an integer 1..1024")
                   : 0;
    case OPT_OUTPUT_VAR:
        return ms_parse_uint(arg, 1, 1024, &o->output_var)
                   ? bad_value("--output-var", arg, "an integer 1..1024")
                   : 0;
    case 's':
        return ms_parse_uint(arg, 0, 1000000000u, &o->max_timesteps)
                   ? bad_value("--sample-timesteps", arg, "an integer >= 0")
                   : 0;
    case 'j':
        if (ms_parse_count_or_auto(arg, 1024, &o->workers)) {
            return bad_value("--workers", arg, "auto or an integer 1..1024");
        }
        c->settings.workers_set = o->workers != 0;
        return 0;
    case OPT_PREFETCH:
        return ms_parse_count_or_auto(arg, 4096, &o->prefetch)
                   ? bad_value("--prefetch", arg, "auto or an integer 1..4096")
                   : 0;
    case OPT_MEMORY_LIMIT:
        return ms_parse_size(arg, &o->memory_limit)
                   ? bad_value("--memory-limit", arg,
                               "a size such as 256M, 1G or 65536")
                   : 0;
    case OPT_PROGRESS:
        return ms_parse_progress(arg, &c->settings.progress)
                   ? bad_value("--progress", arg, "auto, always or never")
                   : 0;
    case OPT_JSON:
        c->json = arg;
        return 0;
    case OPT_WRITE_BACK:
    case OPT_NO_WRITE_BACK:
        c->settings.write_back = opt == OPT_WRITE_BACK;
        return 0;
    case OPT_STRICT:
        o->strict = true;
        return 0;
    case OPT_SKIP_NONFINITE:
        o->skip_nonfinite = true;
        return 0;
    case OPT_THROTTLE: {
        unsigned mbps;
        if (ms_parse_uint(arg, 1, 1000000, &mbps) != 0) {
            return bad_value("--throttle", arg, "MB/s, an integer 1..1000000");
        }
        o->read_throttle = (uint64_t)mbps * 1000000u;
        return 0;
    }
    case 'q':
        c->quiet = true;
        return 0;
    default:
        return 0; /* -c, -h and -V were handled in the first pass */
    }
}

/* First pass: --help, --version, the config path and option errors. */
static int
first_pass(struct cli *c, int argc, char **argv, bool *done)
{
    int opt;
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, short_options, long_options,
                              NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            *done = true;
            return 0;
        }
        if (opt == 'V') {
            print_version();
            *done = true;
            return 0;
        }
        if (opt == 'c') {
            c->config = optarg;
            c->config_explicit = true;
        } else if (opt == '?') {
            return usage_error("unknown option '%s'", argv[optind - 1]);
        } else if (opt == ':') {
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        }
    }
    return 0;
}

static int
load_config(struct cli *c)
{
    struct ms_error err;
    const char *path = c->config ? c->config : DEFAULT_CONFIG;
    if (!c->config_explicit && access(path, F_OK) != 0) {
        return 0; /* no ./config.txt: defaults and the command line only */
    }
    if (ms_settings_load_config(&c->settings, path, &err) != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return EXIT_USAGE;
    }
    return 0;
}

/* Parse the command line of the main command and of demo into c. */
static int
parse_main(struct cli *c, int argc, char **argv, bool demo, bool *done)
{
    int rc = first_pass(c, argc, argv, done);
    if (rc != 0 || *done) {
        return rc;
    }
    rc = load_config(c);
    if (rc != 0) {
        return rc;
    }
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, short_options, long_options,
                              NULL)) != -1) {
        rc = apply_option(c, opt, optarg);
        if (rc != 0) {
            return rc;
        }
    }
    if (optind < argc) {
        if (demo || argc - optind > 1) {
            return usage_error("unexpected argument '%s'",
                               argv[demo ? optind : optind + 1]);
        }
        c->dataset = argv[optind];
    } else if (!demo) {
        c->dataset = c->settings.dataset;
        if (c->dataset == NULL) {
            return usage_error("no dataset given (as an argument or as "
                               "dataset_dir in the config file)");
        }
    }
    return 0;
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
    int rc = parse_main(&c, argc, argv, false, &done);
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
                return bad_value(argv[optind - 1], optarg,
                                 "a positive integer");
            }
        } else if (opt == 'x') {
            if (ms_parse_uint(optarg, 0, UINT_MAX, &seed) != 0) {
                return bad_value("--seed", optarg, "an integer >= 0");
            }
            o.seed = seed;
        } else if (opt == 'k' || opt == 'z') {
            o.chunked = true;
            o.gzip = o.gzip || opt == 'z';
        } else if (opt == 'q') {
            quiet = true;
        } else if (opt == 'h') {
            fputs(usage_text, stdout);
            return 0;
        } else {
            return usage_error("generate: bad option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        return usage_error("generate needs exactly one output file");
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
    int rc = parse_main(&c, argc, argv, true, &done);
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
