/*
 * args.h: the command line of the main command and of demo (see args.c).
 */
#ifndef MESHSTATS_CLI_ARGS_H
#define MESHSTATS_CLI_ARGS_H

#include "meshstats.h"

#include <stdio.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2

/* What the config file and the command line asked for. */
struct cli {
    struct ms_settings settings;
    const char *config;       /* -c FILE */
    bool config_explicit;
    bool print_config;        /* --print-config / meshstats config */
    const char *dataset;      /* the argument, or dataset_dir */
};

/*
 * Parse argv (the main command's, or demo's when demo is set) into c,
 * whose settings the caller has initialised: defaults, then the config file
 * (-c FILE, or ./config.txt if present), then the options.  Returns 0, or
 * the exit status after printing why to stderr; *done is set when --help or
 * --version was answered.  Uses getopt_long's global state.
 */
int cli_parse(struct cli *c, int argc, char **argv, bool demo, bool *done);

/* Print every effective setting with where it came from. */
void cli_print_config(const struct cli *c, FILE *out);

/* Print "meshstats: error: ..." and the help hint; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The exit status of a failure with library error code: 2 for a value the
 * user gave that cannot work (MS_EINVAL, selected ids the dataset lacks),
 * 1 for everything that could not be read or processed. */
int cli_status_of(int code);

#endif
