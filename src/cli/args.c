/*
 * args.c: the command line of the meshstats command.
 *
 * Two passes of getopt_long over an option table made from the settings
 * table (ms_setting_info) and the command's own options (usage.c): the
 * first answers --help and --version and finds -c, so that the config file
 * can be loaded before the second pass applies every other option on top
 * of it through ms_settings_set, which checks each value and words the
 * error.  Errors are printed here and turned into exit status 2.  Uses
 * only the public header; no I/O but the config file and stderr/stdout.
 */
#include "args.h"

#include "usage.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "config.txt"

/* getopt values: a setting is OPT_SETTING + its index, its negation
 * OPT_NEGATION + its index, an own option OPT_OWN + its index. */
enum {
    OPT_SETTING = 256,
    OPT_NEGATION = OPT_SETTING + MS_SET_COUNT,
    OPT_OWN = OPT_NEGATION + MS_SET_COUNT,
};

#define MAX_OPTIONS (2 * MS_SET_COUNT + CLI_OWN_COUNT + 1)

struct option_table {
    struct option longs[MAX_OPTIONS];
    char shorts[2 * MAX_OPTIONS + 2];
};

static void
add_short(struct option_table *t, char c, bool arg)
{
    size_t n = strlen(t->shorts);
    t->shorts[n++] = c;
    if (arg) {
        t->shorts[n++] = ':';
    }
    t->shorts[n] = '\0';
}

static void
add_long(struct option_table *t, size_t *n, const char *name, bool arg,
         int val)
{
    t->longs[(*n)++] = (struct option){name, arg ? required_argument
                                                 : no_argument,
                                       NULL, val};
}

static void
build_options(struct option_table *t)
{
    memset(t, 0, sizeof(*t));
    t->shorts[0] = ':'; /* report a missing value as ':' */
    size_t n = 0;
    for (int k = 0; k < MS_SET_COUNT; k++) {
        const struct ms_setting_info *in = ms_setting_info(k);
        bool arg = in->type != MS_VALUE_BOOL;
        if (in->option != NULL) {
            add_long(t, &n, in->option, arg, OPT_SETTING + k);
        }
        if (in->no_option != NULL) {
            add_long(t, &n, in->no_option, false, OPT_NEGATION + k);
        }
        if (in->short_option) {
            add_short(t, in->short_option, arg);
        }
    }
    for (int k = 0; k < CLI_OWN_COUNT; k++) {
        const struct cli_option *o = &cli_own_options[k];
        add_long(t, &n, o->option, o->arg != NULL, OPT_OWN + k);
        if (o->short_option) {
            add_short(t, o->short_option, o->arg != NULL);
        }
    }
}

/* The getopt value of a short option. */
static int
value_of_short(int opt)
{
    for (int k = 0; k < MS_SET_COUNT; k++) {
        if (ms_setting_info(k)->short_option == opt) {
            return OPT_SETTING + k;
        }
    }
    for (int k = 0; k < CLI_OWN_COUNT; k++) {
        if (cli_own_options[k].short_option == opt) {
            return OPT_OWN + k;
        }
    }
    return opt;
}

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
cli_status_of(int code)
{
    return code == MS_EINVAL || code == MS_ENOTFOUND ? EXIT_USAGE
                                                     : EXIT_DATA;
}

/* One option of the second pass: a setting, on top of the config. */
static int
apply_option(struct cli *c, int val, const char *arg)
{
    if (val >= OPT_OWN) {
        c->print_config |= val == OPT_OWN + CLI_PRINT_CONFIG;
        return 0; /* -c, -h and -V were handled in the first pass */
    }
    bool negation = val >= OPT_NEGATION;
    enum ms_setting k = val - (negation ? OPT_NEGATION : OPT_SETTING);
    const struct ms_setting_info *in = ms_setting_info(k);
    const char *value = in->type != MS_VALUE_BOOL ? arg
                        : negation                ? "False"
                                                  : "True";
    char where[64];
    snprintf(where, sizeof(where), "--%s",
             negation ? in->no_option : in->option);
    struct ms_error err;
    if (ms_settings_set(&c->settings, k, value,
                        (struct ms_origin){MS_ORIGIN_COMMAND_LINE, 0}, where,
                        &err) != 0) {
        return cli_usage_error("%s", err.message);
    }
    return 0;
}

static void
print_version(void)
{
    char deps[128];
    ms_version_dependencies(deps, sizeof(deps));
    printf("meshstats %s (%s)\n", ms_version(), deps);
}

/* First pass: --help, --version, the config path and option errors. */
static int
first_pass(struct cli *c, const struct option_table *t, int argc,
           char **argv, bool *done)
{
    int opt;
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, t->shorts, t->longs, NULL)) != -1) {
        int val = value_of_short(opt);
        if (val == OPT_OWN + CLI_HELP || val == OPT_OWN + CLI_VERSION) {
            if (val == OPT_OWN + CLI_HELP) {
                usage_print(stdout);
            } else {
                print_version();
            }
            *done = true;
            return 0;
        }
        if (val == OPT_OWN + CLI_CONFIG) {
            c->config = optarg;
            c->config_explicit = true;
        } else if (opt == '?') {
            return cli_usage_error("unknown option '%s'", argv[optind - 1]);
        } else if (opt == ':') {
            return cli_usage_error("option '%s' needs a value",
                                   argv[optind - 1]);
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

/* The dataset: the one argument (none for demo), else dataset_dir. */
static int
take_dataset(struct cli *c, int argc, char **argv, bool demo)
{
    int extra = argc - optind;
    if (extra > (demo ? 0 : 1)) {
        return cli_usage_error("unexpected argument '%s'",
                               argv[demo ? optind : optind + 1]);
    }
    if (extra == 1) {
        struct ms_error err;
        if (ms_settings_set(&c->settings, MS_SET_DATASET, argv[optind],
                            (struct ms_origin){MS_ORIGIN_COMMAND_LINE, 0},
                            "DATASET", &err) != 0) {
            return cli_usage_error("%s", err.message);
        }
    }
    c->dataset = c->settings.dataset;
    if (c->dataset == NULL && !demo && !c->print_config) {
        return cli_usage_error("no dataset given (as an argument or as "
                               "dataset_dir in the config file)");
    }
    return 0;
}

/* At most one output on standard output ("-"): two would interleave. */
static int
one_on_stdout(const struct ms_settings *s)
{
    const char *outputs[] = {s->json, s->per_sample, s->trace, s->report};
    const char *names[] = {"--json", "--per-sample", "--trace", "--report"};
    const char *first = NULL;
    for (size_t i = 0; i < 4; i++) {
        if (outputs[i] != NULL && strcmp(outputs[i], "-") == 0) {
            if (first != NULL) {
                return cli_usage_error("%s - and %s - would both write to "
                                       "standard output; send one to a file",
                                       first, names[i]);
            }
            first = names[i];
        }
    }
    return 0;
}

int
cli_parse(struct cli *c, int argc, char **argv, bool demo, bool *done)
{
    struct option_table t;
    build_options(&t);
    int rc = first_pass(c, &t, argc, argv, done);
    if (rc != 0 || *done) {
        return rc;
    }
    rc = load_config(c);
    if (rc != 0) {
        return rc;
    }
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, t.shorts, t.longs, NULL)) != -1) {
        rc = apply_option(c, value_of_short(opt), optarg);
        if (rc != 0) {
            return rc;
        }
    }
    rc = one_on_stdout(&c->settings);
    return rc != 0 ? rc : take_dataset(c, argc, argv, demo);
}

void
cli_print_config(const struct cli *c, FILE *out)
{
    const struct ms_settings *s = &c->settings;
    for (int k = 0; k < MS_SET_COUNT; k++) {
        const struct ms_setting_info *in = ms_setting_info(k);
        struct ms_origin o = s->origin[k];
        char value[512], from[300], name[64];
        ms_setting_value(s, k, value, sizeof(value));
        const char *note = "";
        if (k == MS_SET_WORKERS && ms_settings_workers(s) == 1 &&
            s->options.workers == 0) {
            snprintf(value, sizeof(value), "1");
            note = "  (use_parallel_stats False)";
        }
        if (o.kind == MS_ORIGIN_FILE) {
            snprintf(from, sizeof(from), "file:%s:%u",
                     s->config_path ? s->config_path : "?", o.line);
        } else {
            snprintf(from, sizeof(from), "%s",
                     o.kind == MS_ORIGIN_COMMAND_LINE ? "command line"
                                                      : "default");
        }
        snprintf(name, sizeof(name), "%s%s", in->key ? "" : "--",
                 in->key ? in->key : in->option);
        fprintf(out, "%-24s %-28s %s%s\n", from, name,
                *value ? value : "-", note);
    }
    /* The file's other keys configure training, not the statistics. */
    const char *k = s->ignored_keys;
    while (k != NULL && *k != '\0') {
        size_t n = strcspn(k, " ");
        const char *colon = memchr(k, ':', n);
        if (colon != NULL) {
            fprintf(out, "ignored: %s:%.*s %.*s (not about statistics)\n",
                    s->config_path ? s->config_path : "?",
                    (int)(n - (size_t)(colon + 1 - k)), colon + 1,
                    (int)(colon - k), k);
        }
        k += n + (k[n] == ' ');
    }
}
