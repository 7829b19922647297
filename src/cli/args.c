/*
 * args.c: the command line of the meshstats command.
 *
 * Two passes of getopt_long: the first answers --help and --version and
 * finds -c, so that the config file can be loaded before the second pass
 * applies every other option on top of it.  Errors are printed here and
 * turned into exit status 2.  Uses only the public header; no I/O but the
 * config file and stderr/stdout.
 */
#include "args.h"

#include <getopt.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "config.txt"

const char cli_usage_text[] =
    "Usage: meshstats [OPTIONS] [DATASET.h5]\n"
    "       meshstats generate OUT.h5 [--samples S] [--timesteps T] "
    "[--nodes N]\n"
    "                 [--features F] [--seed X] [--chunked] [--gzip]\n"
    "       meshstats demo [OPTIONS]\n"
    "       meshstats config [OPTIONS]   (every setting and its origin)\n"
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
    "Samples:\n"
    "      --samples LIST        only these ids, e.g. 1-80,85,90-99\n"
    "      --sample-list FILE    only the ids in FILE, one a line ('-': "
    "stdin)\n"
    "      --split NAME          only the ids at metadata/splits/NAME\n"
    "Output:\n"
    "      --json FILE           write the result as JSON ('-': stdout)\n"
    "      --write-back          store the result in the dataset\n"
    "      --no-write-back       do not, whatever the config says\n"
    "      --progress WHEN       auto, always or never (auto)\n"
    "      --per-sample FILE     one CSV row of statistics per sample\n"
    "      --top K               name the K most outlying samples on "
    "stderr\n"
    "  -q, --quiet               no table on stdout\n"
    "Behaviour:\n"
    "  -c, --config FILE         config file (./config.txt if present)\n"
    "      --strict              a bad sample fails the run\n"
    "      --print-config        print every setting and where it came "
    "from\n"
    "  -h, --help                this help\n"
    "  -V, --version             versions of meshstats, HDF5 and libuv\n"
    "\n"
    "Exit status: 0 success, 1 the data could not be processed, 2 usage or\n"
    "configuration error; 130/143 interrupted.  See meshstats(1).\n";

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
    OPT_SAMPLES,
    OPT_SAMPLE_LIST,
    OPT_SPLIT,
    OPT_PER_SAMPLE,
    OPT_TOP,
    OPT_PRINT_CONFIG,
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
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"sample-list", required_argument, NULL, OPT_SAMPLE_LIST},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"per-sample", required_argument, NULL, OPT_PER_SAMPLE},
    {"top", required_argument, NULL, OPT_TOP},
    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int
cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "meshstats: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'meshstats --help'.\n");
    va_end(ap);
    return EXIT_USAGE;
}

int
cli_bad_value(const char *option, const char *value, const char *expected)
{
    fprintf(stderr,
            "meshstats: error: %s: '%s' is not valid; expected %s\n"
            "Try 'meshstats --help'.\n",
            option, value, expected);
    return EXIT_USAGE;
}

static void
print_version(void)
{
    char deps[128];
    ms_version_dependencies(deps, sizeof(deps));
    printf("meshstats %s (%s)\n", ms_version(), deps);
}

/* The setting an option sets, or MS_SET_COUNT for none. */
static enum ms_setting
setting_of(int opt)
{
    switch (opt) {
    case OPT_INPUT_VAR:
        return MS_SET_INPUT_VAR;
    case OPT_OUTPUT_VAR:
        return MS_SET_OUTPUT_VAR;
    case 's':
        return MS_SET_MAX_TIMESTEPS;
    case 'j':
        return MS_SET_WORKERS;
    case OPT_PREFETCH:
        return MS_SET_PREFETCH;
    case OPT_MEMORY_LIMIT:
        return MS_SET_MEMORY_LIMIT;
    case OPT_PROGRESS:
        return MS_SET_PROGRESS;
    case OPT_WRITE_BACK:
    case OPT_NO_WRITE_BACK:
        return MS_SET_WRITE_BACK;
    case OPT_SKIP_NONFINITE:
        return MS_SET_SKIP_NONFINITE;
    case OPT_SAMPLES:
        return MS_SET_SAMPLES;
    default:
        return MS_SET_COUNT;
    }
}

static int apply_option_value(struct cli *c, int opt, const char *arg);

/* One option of the second pass: apply it on top of the config. */
static int
apply_option(struct cli *c, int opt, const char *arg)
{
    int rc = apply_option_value(c, opt, arg);
    enum ms_setting set = setting_of(opt);
    if (rc == 0 && set != MS_SET_COUNT) {
        c->settings.origin[set] =
            (struct ms_origin){MS_ORIGIN_COMMAND_LINE, 0};
    }
    return rc;
}

static int
apply_option_value(struct cli *c, int opt, const char *arg)
{
    struct ms_options *o = &c->settings.options;
    switch (opt) {
    case OPT_INPUT_VAR:
        return ms_parse_uint(arg, 1, MS_MAX_VARS, &o->input_var)
                   ? cli_bad_value("--input-var", arg, "an integer 1..1024")
                   : 0;
    case OPT_OUTPUT_VAR:
        return ms_parse_uint(arg, 1, MS_MAX_VARS, &o->output_var)
                   ? cli_bad_value("--output-var", arg, "an integer 1..1024")
                   : 0;
    case 's':
        return ms_parse_uint(arg, 0, 1000000000u, &o->max_timesteps)
                   ? cli_bad_value("--sample-timesteps", arg, "an integer >= 0")
                   : 0;
    case 'j':
        if (ms_parse_count_or_auto(arg, 1024, &o->workers)) {
            return cli_bad_value("--workers", arg, "auto or an integer 1..1024");
        }
        c->settings.workers_set = o->workers != 0;
        return 0;
    case OPT_PREFETCH:
        return ms_parse_count_or_auto(arg, 4096, &o->prefetch)
                   ? cli_bad_value("--prefetch", arg, "auto or an integer 1..4096")
                   : 0;
    case OPT_MEMORY_LIMIT:
        return ms_parse_size(arg, &o->memory_limit)
                   ? cli_bad_value("--memory-limit", arg,
                               "a size such as 256M, 1G or 65536")
                   : 0;
    case OPT_PROGRESS:
        return ms_parse_progress(arg, &c->settings.progress)
                   ? cli_bad_value("--progress", arg, "auto, always or never")
                   : 0;
    case OPT_JSON:
        c->json = arg;
        return 0;
    case OPT_SAMPLES:
        c->samples = arg;
        return 0;
    case OPT_PRINT_CONFIG:
        c->print_config = true;
        return 0;
    case OPT_SAMPLE_LIST:
        c->sample_list = arg;
        return 0;
    case OPT_SPLIT:
        c->split = arg;
        return 0;
    case OPT_PER_SAMPLE:
        c->per_sample = arg;
        return 0;
    case OPT_TOP:
        return ms_parse_uint(arg, 1, 1000000, &c->top)
                   ? cli_bad_value("--top", arg, "an integer >= 1")
                   : 0;
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
            return cli_bad_value("--throttle", arg, "MB/s, an integer 1..1000000");
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
            fputs(cli_usage_text, stdout);
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
            return cli_usage_error("unknown option '%s'", argv[optind - 1]);
        } else if (opt == ':') {
            return cli_usage_error("option '%s' needs a value", argv[optind - 1]);
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

int
cli_parse(struct cli *c, int argc, char **argv, bool demo, bool *done)
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
    if (optind < argc && !demo && argc - optind == 1) {
        c->settings.origin[MS_SET_DATASET] =
            (struct ms_origin){MS_ORIGIN_COMMAND_LINE, 0};
    }
    if (c->print_config) {
        c->dataset = optind < argc ? argv[optind] : c->settings.dataset;
        return 0;
    }
    if (optind < argc) {
        if (demo || argc - optind > 1) {
            return cli_usage_error("unexpected argument '%s'",
                               argv[demo ? optind : optind + 1]);
        }
        c->dataset = argv[optind];
    } else if (!demo) {
        c->dataset = c->settings.dataset;
        if (c->dataset == NULL) {
            return cli_usage_error("no dataset given (as an argument or as "
                               "dataset_dir in the config file)");
        }
    }
    return 0;
}


void
cli_print_config(const struct cli *c, FILE *out)
{
    const struct ms_settings *s = &c->settings;
    for (int k = 0; k < MS_SET_COUNT; k++) {
        struct ms_origin o = s->origin[k];
        char value[512], from[300];
        ms_setting_value(s, (enum ms_setting)k, value, sizeof(value));
        const char *note = "";
        if (k == MS_SET_DATASET && o.kind == MS_ORIGIN_COMMAND_LINE) {
            snprintf(value, sizeof(value), "%s", c->dataset);
        }
        if (k == MS_SET_SAMPLES && c->samples != NULL) {
            snprintf(value, sizeof(value), "%s", c->samples);
        }
        if (k == MS_SET_WORKERS && ms_settings_workers(s) == 1 &&
            s->options.workers == 0) {
            o = s->origin[MS_SET_PARALLEL];
            snprintf(value, sizeof(value), "1");
            note = "  (use_parallel_stats False)";
        } else if (k == MS_SET_WORKERS && s->options.workers == 0 &&
                   getenv("UV_THREADPOOL_SIZE") != NULL) {
            o.kind = MS_ORIGIN_ENVIRONMENT;
            snprintf(value, sizeof(value), "%s",
                     getenv("UV_THREADPOOL_SIZE"));
            note = "  (UV_THREADPOOL_SIZE)";
        }
        switch (o.kind) {
        case MS_ORIGIN_FILE:
            snprintf(from, sizeof(from), "file:%s:%u",
                     s->config_path ? s->config_path : "?", o.line);
            break;
        case MS_ORIGIN_COMMAND_LINE:
            snprintf(from, sizeof(from), "command line");
            break;
        case MS_ORIGIN_ENVIRONMENT:
            snprintf(from, sizeof(from), "environment");
            break;
        default:
            snprintf(from, sizeof(from), "default");
        }
        fprintf(out, "%-24s %-28s %s%s\n", from,
                ms_setting_key((enum ms_setting)k), value, note);
    }
}
