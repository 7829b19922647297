/*
 * generate_cmd.c: meshstats generate OUT.h5 [OPTIONS], a synthetic dataset
 * for demos, tests and benchmarks (ms_generate does the writing).
 */
#include "commands.h"

#include "args.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum gen_kind { GEN_COUNT, GEN_SEED, GEN_MODEL, GEN_FLAG };

/* Its options: a count sets the unsigned at offset in struct
 * ms_generate_options (a positive integer). */
static const struct {
    const char *name;
    enum gen_kind kind;
    size_t offset;
} gen_options[] = {
    {"samples", GEN_COUNT, offsetof(struct ms_generate_options, samples)},
    {"timesteps", GEN_COUNT,
     offsetof(struct ms_generate_options, timesteps)},
    {"nodes", GEN_COUNT, offsetof(struct ms_generate_options, nodes)},
    {"features", GEN_COUNT, offsetof(struct ms_generate_options, features)},
    {"seed", GEN_SEED, 0},
    {"model", GEN_MODEL, 0},
    {"chunked", GEN_FLAG, 0},
    {"gzip", GEN_FLAG, 0},
    {"quiet", GEN_FLAG, 0},
    {"help", GEN_FLAG, 0},
};

#define NGEN (sizeof(gen_options) / sizeof(gen_options[0]))

/* A decimal unsigned in [min, UINT_MAX]. */
static bool
parse_unsigned(const char *text, unsigned min, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
        v < min || v > UINT_MAX) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* Apply option i with value arg; returns 0 or the exit status. */
static int
apply(struct ms_generate_options *o, size_t i, const char *arg, bool *quiet,
      bool *help)
{
    const char *name = gen_options[i].name;
    unsigned v;
    switch (gen_options[i].kind) {
    case GEN_COUNT:
        if (!parse_unsigned(arg, 1, &v)) {
            return cli_usage_error("generate: --%s: '%s' is not valid; "
                                   "expected a positive integer",
                                   name, arg);
        }
        *(unsigned *)((char *)o + gen_options[i].offset) = v;
        return 0;
    case GEN_SEED:
        if (!parse_unsigned(arg, 0, &v)) {
            return cli_usage_error("generate: --seed: '%s' is not valid; "
                                   "expected an integer >= 0",
                                   arg);
        }
        o->seed = v;
        return 0;
    case GEN_MODEL:
        for (int m = MS_MODEL_NODAL; m < MS_MODEL_COUNT; m++) {
            if (strcmp(arg, ms_model_name((enum ms_model_kind)m)) == 0) {
                o->model = (enum ms_model_kind)m;
                return 0;
            }
        }
        return cli_usage_error("generate: --model: '%s' is not valid; "
                               "expected nodal, cloth, cfd or plate",
                               arg);
    case GEN_FLAG:
        o->gzip |= strcmp(name, "gzip") == 0;
        o->chunked |= strcmp(name, "chunked") == 0 || o->gzip;
        *quiet |= strcmp(name, "quiet") == 0;
        *help |= strcmp(name, "help") == 0;
        return 0;
    }
    return 0;
}

int
cmd_generate(int argc, char **argv)
{
    struct option longs[NGEN + 1] = {{0}};
    for (size_t i = 0; i < NGEN; i++) {
        bool arg = gen_options[i].kind != GEN_FLAG;
        longs[i] = (struct option){gen_options[i].name,
                                   arg ? required_argument : no_argument,
                                   NULL, (int)i + 256};
    }
    struct ms_generate_options o;
    ms_generate_options_init(&o);
    bool quiet = false, help = false;
    int opt;
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":qh", longs, NULL)) != -1) {
        size_t i = opt == 'q' ? NGEN - 2 : opt == 'h' ? NGEN - 1
                                                      : (size_t)opt - 256;
        if (opt == '?' || opt == ':' || i >= NGEN) {
            return cli_usage_error("generate: bad option '%s'",
                                   argv[optind - 1]);
        }
        int rc = apply(&o, i, optarg, &quiet, &help);
        if (rc != 0) {
            return rc;
        }
    }
    if (help) {
        usage_print(stdout);
        return 0;
    }
    if (argc - optind != 1) {
        return cli_usage_error("generate needs exactly one output file");
    }
    struct ms_error err;
    if (ms_generate(argv[optind], &o, &err) != 0) {
        fprintf(stderr, "meshstats: error: %s\n", err.message);
        return cli_status_of(err.code);
    }
    const char *packing = o.gzip      ? ", gzip+shuffle chunks"
                          : o.chunked ? ", chunked"
                                      : "";
    if (!quiet && o.model > MS_MODEL_NODAL) {
        fprintf(stderr,
                "meshstats: wrote %s: %u %s trajectories x %u frames, about "
                "%u nodes each%s\n",
                argv[optind], o.samples, ms_model_name(o.model), o.timesteps,
                o.nodes, packing);
    } else if (!quiet) {
        fprintf(stderr,
                "meshstats: wrote %s: %u samples x %u timesteps x %u nodes, "
                "%u feature rows%s\n",
                argv[optind], o.samples, o.timesteps, o.nodes, o.features,
                packing);
    }
    return 0;
}
