/*
 * usage.h: the options of the meshstats command, and the texts made from
 * them (see usage.c).
 */
#ifndef MESHSTATS_CLI_USAGE_H
#define MESHSTATS_CLI_USAGE_H

#include "meshstats.h"

#include <stdio.h>

/* The command's own options, which are not settings of a run. */
enum cli_own {
    CLI_CONFIG = 0,
    CLI_PRINT_CONFIG,
    CLI_HELP,
    CLI_VERSION,
    CLI_OWN_COUNT
};

struct cli_option {
    const char *option;
    char short_option;
    const char *arg;
    const char *group;
    const char *help;
};

extern const struct cli_option cli_own_options[CLI_OWN_COUNT];

/* --help: the usage lines and every option, settings first, by group. */
void usage_print(FILE *out);

/* The roff of the man page's option list, config keys, and the words the
 * bash completion offers, made from the same tables. */
void usage_print_man_options(FILE *out);
void usage_print_man_keys(FILE *out);
void usage_print_completion_words(FILE *out);

#endif
