/*
 * fuzz_args.c: libFuzzer target for the command-line parser.
 * The input is argv: NUL-separated arguments after the program name.  It
 * runs in an empty folder, so no ./config.txt is found and -c paths fail.
 */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];

/* The working folder goes with the process (parsing writes nothing). */
static void
remove_dir(void)
{
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* In TMPDIR, which .ci/fuzz points at a folder it removes: a job
     * killed when the time is up cannot remove its own. */
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, sizeof(dir), "%s/meshstats-fuzz-args-XXXXXX",
                     tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= sizeof(dir) || mkdtemp(dir) == NULL ||
        chdir(dir) != 0) {
        abort();
    }
    atexit(remove_dir);
    return 0; /* run with -close_fd_mask=3: the messages are not tested */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2] = {"meshstats"};
    int argc = 1;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; argc++) {
        argv[argc] = text + i;
        i += strlen(text + i) + 1;
        if (i > size) {
            argc++;
            break;
        }
    }
    argv[argc] = NULL;
    struct cli c = {0};
    bool done = false;
    ms_settings_init(&c.settings);
    cli_parse(&c, argc, argv, size > 0 && data[0] == 'd', &done);
    ms_settings_finish(&c.settings);
    free(text);
    return 0;
}
