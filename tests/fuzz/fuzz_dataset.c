/*
 * fuzz_dataset.c: libFuzzer target for everything that reads a dataset:
 * opening, listing and checking samples, planning, the pipeline, edge
 * validation and features.  The input is the bytes of an HDF5 file; the
 * seed corpus holds small valid ones for the mutations to start from.
 */
#include "pass/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

/* The file goes with the process; one killed while running an input
 * leaves it in TMPDIR, which .ci/fuzz points at a folder it makes and
 * removes (run by hand, TMPDIR must exist, or every input aborts). */
static void
remove_file(void)
{
    unlink(path);
}

static void
ignore(void *userdata, int64_t id, const char *message)
{
    (void)userdata;
    (void)id;
    (void)message;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(path, sizeof(path), "%s/meshstats-fuzz-%d.h5",
                     tmp != NULL && *tmp != '\0' ? tmp : "/tmp", (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(path)) {
        abort(); /* (a TMPDIR too long for a path) */
    }
    atexit(remove_file);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size) {
        abort();
    }
    fclose(f);
    struct ms_options o;
    ms_options_init(&o);
    o.workers = 2;
    o.prefetch = 3;
    o.memory_limit = 1 << 20;
    o.on_warning = ignore;
    for (unsigned mode = 0; mode < 2; mode++) {
        o.max_timesteps = mode ? 2 : 0;
        o.skip_nonfinite = mode == 1;
        struct ms_stats *s = NULL;
        if (ms_stats_compute(path, &o, &s, NULL) == 0) {
            ms_stats_destroy(s);
        }
    }
    unlink(path); /* (an input that crashes libhdf5 leaves its file) */
    return 0;
}
