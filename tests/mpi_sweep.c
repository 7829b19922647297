/*
 * mpi_sweep.c: the allocation-failure sweep over a pass split across MPI
 * ranks, the combine included.  test_mpi.py runs it under mpirun.
 *
 *   mpi_sweep DATASET.h5
 *
 * For each rank F and N = 1, 2, ... rank F fails its N-th allocation and
 * every later one (the others fail none) while every rank runs the same
 * pass.  Every rank must return 0 or MS_ENOMEM, every rank must come back
 * (a rank left waiting in a collective hangs the test, which its timeout
 * turns into a failure), and when rank 0 succeeds its JSON must be the
 * fault-free one.  The sweep for F ends when F's pass succeeds.  Rank 0
 * prints "rank F: N passes, every failure MS_ENOMEM" per F, or what went
 * wrong; the exit status is 1 on any wrong outcome.
 */
#include "pass/pass.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
json_of(const struct ms_stats *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ms_stats_write_json(s, m);
    ms_stats_write_per_sample_csv(s, m);
    fclose(m);
    return buf;
}

/* One pass; the JSON in *json when this rank holds a result. */
static int
pass(const char *path, char **json)
{
    struct ms_options o;
    ms_options_init(&o);
    o.workers = 2;
    /* several units per sample, beside the quantile sketches' 1.2 MB */
    o.memory_limit = (64 << 10) + (2 << 20);
    o.per_sample = true;
    o.quantiles = true; /* the sketches cross ranks too */
    struct ms_stats *s = NULL;
    struct ms_error err;
    int rc = ms_stats_compute(path, &o, &s, &err);
    *json = rc == 0 ? json_of(s) : NULL;
    ms_stats_destroy(s);
    return rc;
}

/* Sweep the faults of rank F; returns the number of wrong outcomes here. */
static int
sweep(const char *path, int F, int rank, const char *reference)
{
    int wrong = 0;
    unsigned long n;
    for (n = 1;; n++) {
        ms__alloc_fail_after(rank == F ? n : 0);
        char *json;
        int rc = pass(path, &json);
        ms__alloc_fail_after(0);
        if (rc != 0 && rc != MS_ENOMEM) {
            fprintf(stderr, "rank %d (fault on rank %d at %lu): %s\n", rank,
                    F, n, ms_err_name(rc));
            wrong++;
        }
        if (rank == 0 && json != NULL && strcmp(json, reference) != 0) {
            fprintf(stderr, "rank 0 (fault on rank %d at %lu): the result "
                            "differs from the fault-free one\n", F, n);
            wrong++;
        }
        free(json);
        int done = rank == F && rc == 0;
        MPI_Bcast(&done, 1, MPI_INT, F, MPI_COMM_WORLD);
        if (done || n > 100000) {
            break;
        }
    }
    int all = 0;
    MPI_Reduce(&wrong, &all, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("rank %d: %lu passes, %s\n", F, n,
               all == 0 ? "every failure MS_ENOMEM" : "WRONG OUTCOMES");
    }
    return wrong;
}

int
main(int argc, char **argv)
{
    ms_parallel_init(&argc, &argv);
    int rank = ms_parallel_rank(), size = ms_parallel_size();
    if (argc != 2 || size < 2) {
        fprintf(stderr, "usage: mpirun -n 2 mpi_sweep DATASET.h5\n");
        ms_parallel_finish();
        return 2;
    }
    char *reference;
    if (pass(argv[1], &reference) != 0) {
        fprintf(stderr, "rank %d: the fault-free pass failed\n", rank);
        ms_parallel_finish();
        return 1;
    }
    int wrong = 0;
    for (int F = 0; F < size; F++) {
        wrong += sweep(argv[1], F, rank, reference);
    }
    free(reference);
    ms_parallel_finish();
    return wrong != 0;
}
