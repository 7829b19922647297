/*
 * args.h: the command line of the main command and of demo (see args.c).
 */
#ifndef MESHSTATS_CLI_ARGS_H
#define MESHSTATS_CLI_ARGS_H

#include "meshstats.h"

#include <stdio.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2

/* What the command line and the config file asked for. */
struct cli {
    struct ms_settings settings;
    const char *config;
    bool config_explicit;
    const char *json;
    bool quiet;
    const char *dataset;
    const char *samples;     /* --samples (overrides stats_samples) */
    const char *sample_list; /* --sample-list FILE or - */
    const char *split;       /* --split NAME */
    const char *per_sample;  /* --per-sample FILE.csv */
    unsigned top;            /* --top K */
    bool print_config;       /* --print-config / meshstats config */
};

/* Print every effective setting with where it came from. */
void cli_print_config(const struct cli *c, FILE *out);

extern const char cli_usage_text[];

/*
 * Parse argv (the main command's, or demo's when demo is set) into c,
 * whose settings the caller has initialised: defaults, then the config file
 * (-c FILE, or ./config.txt if present), then the options.  Returns 0, or
 * the exit status after printing why to stderr; *done is set when --help or
 * --version was answered.  Uses getopt_long's global state.
 */
int cli_parse(struct cli *c, int argc, char **argv, bool demo, bool *done);

/* Print "meshstats: error: ..." and the help hint; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print that option's value is bad; returns EXIT_USAGE. */
int cli_bad_value(const char *option, const char *value, const char *expected);

#endif
