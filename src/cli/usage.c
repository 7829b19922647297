/*
 * usage.c: the meshstats command's options as a user reads them.
 *
 * The settings of a run come from the library's settings table
 * (ms_setting_info); the command's own few options (-c, --print-config,
 * --help, --version) from the table below.  --help, the man page's option
 * list and config keys (written at build time by gen_docs.c) and the bash
 * completion's words are all printed from these two tables, so an option
 * is described once.  Prints only to the stream it is handed.
 */
#include "usage.h"

#include <ctype.h>
#include <string.h>

const struct cli_option cli_own_options[CLI_OWN_COUNT] = {
    [CLI_CONFIG] = {"config", 'c', "FILE", "Behaviour",
                    "config file to read (./config.txt if present)"},
    [CLI_PRINT_CONFIG] = {"print-config", 0, NULL, "Behaviour",
                          "print every setting and where it came from"},
    [CLI_HELP] = {"help", 'h', NULL, "Behaviour", "this help"},
    [CLI_VERSION] = {"version", 'V', NULL, "Behaviour",
                     "versions of meshstats, HDF5 and libuv"},
};

static const char *const groups[] = {"Features", "Resources", "Samples",
                                     "Output", "Behaviour"};

static const char usage_lines[] =
    "Usage: meshstats [OPTIONS] [DATASET.h5]\n"
    "       meshstats generate OUT.h5 [--samples S] [--timesteps T] "
    "[--nodes N]\n"
    "                 [--features F] [--seed X] [--chunked] [--gzip] [-q]\n"
    "                 [--model nodal|cloth|cfd|plate]\n"
    "       meshstats demo [OPTIONS]\n"
    "       meshstats config [OPTIONS]   (every setting and its origin)\n"
    "\n"
    "Compute the normalization statistics (count, mean, std, min, max) of\n"
    "the node, edge and delta features of an HDF5 mesh dataset.\n";

static const char exit_lines[] =
    "\nExit status: 0 success, 1 the data could not be processed, 2 usage "
    "or\nconfiguration error; 130/143 interrupted.  See meshstats(1).\n";

/* The default a setting shows in --help, or "" for none worth showing
 * (a command-line-only option is off until given). */
static void
default_text(enum ms_setting setting, char *buf, size_t size)
{
    const struct ms_setting_info *in = ms_setting_info(setting);
    buf[0] = '\0';
    bool shown = in->type == MS_VALUE_UINT || in->type == MS_VALUE_COUNT ||
                 in->type == MS_VALUE_SIZE || in->type == MS_VALUE_PROGRESS ||
                 in->type == MS_VALUE_MODEL ||
                 in->type == MS_VALUE_ENCODING ||
                 in->type == MS_VALUE_ACCURACY;
    if (in->key != NULL && shown) {
        struct ms_settings defaults;
        ms_settings_init(&defaults);
        ms_setting_value(&defaults, setting, buf, size);
        ms_settings_finish(&defaults);
    }
}

#define HELP_COLUMN 28
#define HELP_WIDTH 79

/* One --help entry: "  -s, --name ARG" padded, then the help (and the
 * default), wrapped at word boundaries under the help column. */
static void
help_line(FILE *out, char short_option, const char *option, const char *arg,
          const char *help, const char *deflt)
{
    char left[64], text[512];
    snprintf(left, sizeof(left), "  %c%c%s--%s%s%s",
             short_option ? '-' : ' ', short_option ? short_option : ' ',
             short_option ? ", " : "  ", option, arg ? " " : "",
             arg ? arg : "");
    snprintf(text, sizeof(text), "%s%s%s%s", help, *deflt ? " (" : "",
             deflt, *deflt ? ")" : "");
    int column = fprintf(out, "%-*s", HELP_COLUMN, left);
    if (column > HELP_COLUMN) {
        column = fprintf(out, "\n%*s", HELP_COLUMN, "") - 1;
    }
    for (const char *w = text; *w;) {
        size_t len = strcspn(w, " ");
        if (column > HELP_COLUMN && column + 1 + (int)len > HELP_WIDTH) {
            column = fprintf(out, "\n%*s", HELP_COLUMN, "") - 1;
        } else if (column > HELP_COLUMN) {
            column += fprintf(out, " ");
        }
        column += fprintf(out, "%.*s", (int)len, w);
        w += len + (w[len] == ' ');
    }
    fputc('\n', out);
}

void
usage_print(FILE *out)
{
    fputs(usage_lines, out);
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        fprintf(out, "\n%s:\n", groups[g]);
        for (int k = 0; k < MS_SET_COUNT; k++) {
            const struct ms_setting_info *in = ms_setting_info(k);
            if (in->option == NULL || strcmp(in->group, groups[g]) != 0) {
                continue;
            }
            char deflt[64];
            default_text(k, deflt, sizeof(deflt));
            help_line(out, in->short_option, in->option, in->arg, in->help,
                      deflt);
            if (in->no_option != NULL) {
                help_line(out, 0, in->no_option, NULL,
                          "do not, whatever the config file says", "");
            }
        }
        for (int k = 0; k < CLI_OWN_COUNT; k++) {
            const struct cli_option *o = &cli_own_options[k];
            if (strcmp(o->group, groups[g]) == 0) {
                help_line(out, o->short_option, o->option, o->arg, o->help,
                          "");
            }
        }
    }
    fputs(exit_lines, out);
}

/* text for roff: '-' as \-, the first letter capitalised. */
static void
roff(FILE *out, const char *text, bool capital)
{
    for (const char *p = text; *p; p++) {
        if (*p == '-') {
            fputs("\\-", out);
        } else if (*p == '\\') {
            fputs("\\e", out);
        } else {
            fputc(p == text && capital ? toupper((unsigned char)*p) : *p,
                  out);
        }
    }
}

/* ".TP" and the tag line of one option. */
static void
man_tag(FILE *out, char short_option, const char *option, const char *arg,
        const char *no_option)
{
    fputs(".TP\n", out);
    if (short_option) {
        fprintf(out, "\\fB\\-%c\\fR, ", short_option);
    }
    fputs("\\fB\\-\\-", out);
    roff(out, option, false);
    fputs("\\fR", out);
    if (arg != NULL) {
        fputs(" \\fI", out);
        roff(out, arg, false);
        fputs("\\fR", out);
    }
    if (no_option != NULL) {
        fputs(", \\fB\\-\\-", out);
        roff(out, no_option, false);
        fputs("\\fR", out);
    }
    fputc('\n', out);
}

static void
man_setting(FILE *out, enum ms_setting k)
{
    const struct ms_setting_info *in = ms_setting_info(k);
    man_tag(out, in->short_option, in->option, in->arg, in->no_option);
    roff(out, in->help, true);
    char deflt[64];
    default_text(k, deflt, sizeof(deflt));
    if (*deflt) {
        fputs(". Default ", out);
        roff(out, deflt, false);
    }
    if (in->key != NULL) {
        fputs("; config key \\fB", out);
        roff(out, in->key, false);
        fputs("\\fR", out);
    }
    fputs(".\n", out);
}

void
usage_print_man_options(FILE *out)
{
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        fprintf(out, ".SS %s\n", groups[g]);
        for (int k = 0; k < MS_SET_COUNT; k++) {
            const struct ms_setting_info *in = ms_setting_info(k);
            if (in->option != NULL && strcmp(in->group, groups[g]) == 0) {
                man_setting(out, k);
            }
        }
        for (int k = 0; k < CLI_OWN_COUNT; k++) {
            const struct cli_option *o = &cli_own_options[k];
            if (strcmp(o->group, groups[g]) == 0) {
                man_tag(out, o->short_option, o->option, o->arg, NULL);
                roff(out, o->help, true);
                fputs(".\n", out);
            }
        }
    }
}

void
usage_print_man_keys(FILE *out)
{
    for (int k = 0; k < MS_SET_COUNT; k++) {
        const struct ms_setting_info *in = ms_setting_info(k);
        if (in->key == NULL) {
            continue;
        }
        fputs(".TP\n\\fB", out);
        roff(out, in->key, false);
        fputs("\\fR\n", out);
        if (in->option != NULL) {
            fputs("As \\fB\\-\\-", out);
            roff(out, in->option, false);
            fputs("\\fR", out);
            fputs(in->type == MS_VALUE_BOOL ? " (True or False).\n" : ".\n",
                  out);
        } else {
            roff(out, in->help, true);
            fputs(".\n", out);
        }
    }
}

void
usage_print_completion_words(FILE *out)
{
    const char *sep = "";
    for (int k = 0; k < MS_SET_COUNT; k++) {
        const struct ms_setting_info *in = ms_setting_info(k);
        if (in->option != NULL) {
            fprintf(out, "%s--%s", sep, in->option);
            sep = " ";
        }
        if (in->no_option != NULL) {
            fprintf(out, " --%s", in->no_option);
        }
    }
    for (int k = 0; k < CLI_OWN_COUNT; k++) {
        fprintf(out, " --%s", cli_own_options[k].option);
    }
}
