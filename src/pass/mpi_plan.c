/*
 * mpi_plan.c: the plan's checks split between MPI ranks.  Each rank checks
 * its block of a nodal file's samples (the block the pass then gives it:
 * mpi.c), then every rank gets the others' (what the budget reads: their
 * shapes, timesteps, whether bad, blocked, placed, renumbered), so that
 * all share the memory limit out alike and cut the same units.  The
 * metadata work of checking thousands of samples, one HDF5 per process,
 * is so spread over the processes (docs/performance.md, "Many samples").
 * Every rank reaches the exchange once, whatever failed before it: no
 * rank waits in a collective for one that has left.
 */
#include "pass/pass.h"

#include <string.h>

#ifdef MS_HAVE_MPI
#include <mpi.h>

/* ------------------------------------------------------------------ */
/* The plan's checks split between ranks: each checks its block of a nodal
 * file's samples, then every rank gets the others' (what the budget
 * reads), so that all share the memory limit out alike. */

struct checked {
    struct ms_sample_shape shape; /* field NULL, descriptors -1 */
    struct ms_timesteps node_ts, delta_ts;
    uint8_t bad, blocked, placed, renumbered;
};

static void
pack_checked(const struct ms_plan_sample *ps, struct checked *c)
{
    memset(c, 0, sizeof(*c));
    c->shape = ps->shape;
    c->shape.field = NULL;
    c->shape.direct_fd = c->shape.edge_fd = -1;
    c->node_ts = ps->node_ts;
    c->delta_ts = ps->delta_ts;
    c->bad = ps->bad;
    c->blocked = ps->blocked;
    c->placed = ps->placed;
    c->renumbered = ps->renumbered;
}

static void
unpack_checked(const struct checked *c, struct ms_plan_sample *ps)
{
    ps->shape = c->shape;
    ps->node_ts = c->node_ts;
    ps->delta_ts = c->delta_ts;
    ps->bad = c->bad; /* (its reason comes with the outcomes) */
    ps->blocked = c->blocked;
    ps->placed = c->placed;
    ps->renumbered = c->renumbered;
}

static int
exchange_checked(struct ms_plan *plan, bool split, size_t lo, size_t hi,
                 int rc, struct ms_error *err)
{
    /* Every rank comes here once, whatever failed before: the room first,
     * so that no rank fails after the others agreed. */
    size_t n = plan != NULL ? plan->nsamples : 0, size = sizeof(struct checked);
    struct checked *all = ms__calloc(n ? n : 1, size);
    int ranks = ms_parallel_size();
    int *counts = ms__calloc((size_t)ranks, 2 * sizeof(int));
    if (rc == 0 && (all == NULL || counts == NULL)) {
        rc = ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    if (rc == 0 && n * size > INT32_MAX) {
        rc = ms__error_set(err, MS_ENOMEM, "%zu samples are more than the "
                           "ranks can exchange", n);
    }
    rc = ms__mpi_agree(rc, err);
    if (rc == 0 && split) { /* (all alike: the same file, all succeeded) */
        for (int r = 0; r < ranks; r++) {
            size_t a, b;
            ms__rank_block(n, (size_t)r, (size_t)ranks, &a, &b);
            counts[r] = (int)((b - a) * size);
            counts[ranks + r] = (int)(a * size);
        }
        for (size_t s = lo; s < hi; s++) {
            pack_checked(&plan->samples[s], &all[s]);
        }
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts,
                       counts + ranks, MPI_BYTE, MPI_COMM_WORLD);
        for (size_t s = 0; s < n; s++) {
            if (s < lo || s >= hi) {
                unpack_checked(&all[s], &plan->samples[s]);
            }
        }
    }
    ms__free(counts);
    ms__free(all);
    return rc;
}

void
ms__mpi_plan_part(struct ms_plan_part *part)
{
    *part = (struct ms_plan_part){(size_t)ms_parallel_rank(), (size_t)ms_parallel_size(),
                                  exchange_checked};
}

#else /* no MPI */

void
ms__mpi_plan_part(struct ms_plan_part *part)
{
    *part = (struct ms_plan_part){0, 1, NULL};
}

#endif
