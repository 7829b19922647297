/*
 * gen_docs.c: a build-time program, never installed: fills a template
 * (docs/meshstats.1.in, docs/meshstats.bash.in) with what the option
 * tables say, so that the man page and the bash completion follow the
 * same tables as --help.
 *
 *   gen_docs TEMPLATE OUTPUT
 *
 * @OPTIONS@ becomes the man page's option list, @CONFIG_KEYS@ its config
 * keys, @COMPLETION_WORDS@ the options the completion offers; the rest of
 * the template is copied as it is.
 */
#include "usage.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *marker;
    void (*print)(FILE *out);
} markers[] = {
    {"@OPTIONS@", usage_print_man_options},
    {"@CONFIG_KEYS@", usage_print_man_keys},
    {"@COMPLETION_WORDS@", usage_print_completion_words},
};

/* Copy line to out with each marker replaced by what it stands for. */
static void
fill(const char *line, FILE *out)
{
    while (*line) {
        const char *at = NULL;
        size_t which = 0;
        for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
            const char *p = strstr(line, markers[i].marker);
            if (p != NULL && (at == NULL || p < at)) {
                at = p;
                which = i;
            }
        }
        if (at == NULL) {
            fputs(line, out);
            return;
        }
        fwrite(line, 1, (size_t)(at - line), out);
        markers[which].print(out);
        bool alone = at == line;
        line = at + strlen(markers[which].marker);
        if (alone && strcmp(line, "\n") == 0) {
            return; /* a block of lines, which ends with its own newline */
        }
    }
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_docs TEMPLATE OUTPUT\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    FILE *out = in != NULL ? fopen(argv[2], "w") : NULL;
    if (in == NULL || out == NULL) {
        perror(in == NULL ? argv[1] : argv[2]);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof(line), in) != NULL) {
        fill(line, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
