/*
 * mpi.c: one pass split across processes with MPI, with the result
 * byte-identical to one process.
 *
 * Every rank opens the file read-only with the serial HDF5 library, plans
 * the whole dataset (metadata only), and processes a contiguous block of
 * the samples in id order with its own libuv pipeline and threads.  Each
 * sample's accumulator is folded within the sample exactly as one process
 * folds it; rank 0, which holds the first block, then folds the other
 * ranks' per-sample accumulators in rank order, which is sample order.
 * The sequence of merges is therefore the single-process one, and the
 * JSON is the same to the last byte.  A failure on any rank fails every
 * rank, named by rank 0.  Only the calling (loop) thread calls MPI.
 *
 * Without MPI (or when not launched by mpirun/srun) these are no-ops.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#ifdef MS_HAVE_MPI
#include <mpi.h>

static bool started;
static int rank_id, ranks = 1;

/* Launched by a process manager: Open MPI, MPICH/PMI, PMIx or Slurm. */
static bool
launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                       "PMIX_RANK", "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < MS_ARRAY_SIZE(vars); i++) {
        if (getenv(vars[i]) != NULL) {
            return true;
        }
    }
    return false;
}

int
ms_parallel_init(int *argc, char ***argv)
{
    if (started || !launched()) {
        return rank_id;
    }
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) !=
        MPI_SUCCESS) {
        return 0;
    }
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_id);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    return rank_id;
}

void
ms_parallel_finish(void)
{
    if (started) {
        MPI_Finalize();
        started = false;
    }
}

int
ms_parallel_rank(void)
{
    return rank_id;
}

int
ms_parallel_size(void)
{
    return ranks;
}

bool
ms__mpi_active(void)
{
    return started && ranks > 1;
}

void
ms__mpi_restrict(struct ms_plan *plan)
{
    size_t n = plan->nsamples;
    size_t lo = n * (size_t)rank_id / (size_t)ranks;
    size_t hi = n * (size_t)(rank_id + 1) / (size_t)ranks;
    for (size_t s = 0; s < n; s++) {
        plan->samples[s].elsewhere = s < lo || s >= hi;
    }
}

/* ------------------------------------------------------------------ */
/* Outcomes as bytes: for each sample, its plan index, whether it was used,
 * then the raw moments of every feature (the same build on every rank, so
 * the same layout) or the reason it was skipped. */

struct blob {
    unsigned char *data;
    size_t size, cap;
};

static int
put(struct blob *b, const void *p, size_t n)
{
    if (b->size + n > b->cap) {
        size_t cap = (b->size + n) * 2;
        void *grown = ms__reallocarray(b->data, cap, 1);
        if (grown == NULL) {
            return MS_ENOMEM;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->size, p, n);
    b->size += n;
    return 0;
}

static int
serialize(const struct ms_outcomes *o, struct blob *b)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < o->count; i++) {
        const struct ms_outcome *x = &o->items[i];
        uint64_t sample = x->sample;
        uint8_t used = x->used;
        rc = put(b, &sample, sizeof(sample)) || put(b, &used, 1);
        if (rc == 0 && used) {
            for (int g = 0; rc == 0 && g < MS_GROUP_COUNT; g++) {
                rc = put(b, x->acc.feat[g],
                         x->acc.nfeat[g] * sizeof(struct ms_moments)) ||
                     put(b, &x->acc.skipped[g], sizeof(uint64_t));
            }
        } else if (rc == 0) {
            uint32_t len = (uint32_t)strlen(x->reason);
            rc = put(b, &len, sizeof(len)) || put(b, x->reason, len);
        }
    }
    return rc ? MS_ENOMEM : 0;
}

/* Fold one rank's outcomes (after rank 0's own) into the result. */
static int
fold_blob(const unsigned char *p, size_t size, const struct ms_plan *plan,
          const struct ms_options *opts, struct ms_stats *stats,
          struct ms_accumulator *total, struct ms_accumulator *acc)
{
    const unsigned char *end = p + size;
    while (p < end) {
        uint64_t sample;
        memcpy(&sample, p, sizeof(sample));
        p += sizeof(sample);
        uint8_t used = *p++;
        const struct ms_plan_sample *ps = &plan->samples[sample];
        if (used) {
            for (int g = 0; g < MS_GROUP_COUNT; g++) {
                size_t bytes = acc->nfeat[g] * sizeof(struct ms_moments);
                memcpy(acc->feat[g], p, bytes);
                p += bytes;
                memcpy(&acc->skipped[g], p, sizeof(uint64_t));
                p += sizeof(uint64_t);
            }
            ms__accumulator_merge(total, acc);
            stats->samples_used++;
            if (opts->per_sample &&
                ms__stats_add_report(stats, ps, acc) != 0) {
                return MS_ENOMEM;
            }
        } else {
            uint32_t len;
            memcpy(&len, p, sizeof(len));
            p += sizeof(len);
            char reason[1100];
            len = len < sizeof(reason) - 1 ? len : sizeof(reason) - 1;
            memcpy(reason, p, len);
            reason[len] = '\0';
            p += len;
            /* Samples bad in the plan were warned about while planning. */
            if (!ps->bad && opts->on_warning != NULL) {
                opts->on_warning(opts->userdata, ps->name.id, reason);
            }
            if (ms__stats_add_skipped(stats, ps->name.id, reason) != 0) {
                return MS_ENOMEM;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Progress across ranks.  Ranks > 0 send {bytes, units, samples} done with
 * TAG_TICK from their timer and TAG_FINAL when their pipeline ends; rank 0
 * keeps the latest of each. */

enum { TAG_TICK = 11, TAG_FINAL = 12 };

static uint64_t (*others)[3]; /* rank 0: latest counts of every rank */
static int finals;
static bool final_sent; /* ranks > 0: TAG_FINAL is out */

static void
receive_ticks(bool wait_for_finals)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (wait_for_finals && finals < ranks - 1) {
            MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
            flag = 1;
        } else {
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag,
                       &st);
        }
        if (!flag || (st.MPI_TAG != TAG_TICK && st.MPI_TAG != TAG_FINAL)) {
            return;
        }
        uint64_t counts[3];
        MPI_Recv(counts, 3, MPI_UINT64_T, st.MPI_SOURCE, st.MPI_TAG,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (others != NULL) {
            memcpy(others[st.MPI_SOURCE], counts, sizeof(counts));
        }
        finals += st.MPI_TAG == TAG_FINAL;
    }
}

static void
plan_totals(const struct ms_plan *plan, struct ms_progress *p)
{
    p->bytes_total = 0;
    for (size_t u = 0; u < plan->nunits; u++) {
        p->bytes_total += ms__unit_stored_bytes(plan, &plan->units[u]);
    }
    p->units_total = plan->nunits;
}

void
ms__mpi_progress(const struct ms_plan *plan, struct ms_progress *p)
{
    if (rank_id != 0) {
        uint64_t counts[3] = {p->bytes_done, p->units_done, p->samples_done};
        MPI_Send(counts, 3, MPI_UINT64_T, 0,
                 p->finished ? TAG_FINAL : TAG_TICK, MPI_COMM_WORLD);
        final_sent = final_sent || p->finished;
        return;
    }
    if (others == NULL) {
        others = calloc((size_t)ranks, sizeof(*others));
    }
    receive_ticks(false);
    for (int r = 1; others != NULL && r < ranks; r++) {
        p->bytes_done += others[r][0];
        p->units_done += others[r][1];
        p->samples_done += others[r][2];
    }
    plan_totals(plan, p);
}

/* Rank 0: wait for every rank's last count, draw the finished bar. */
static void
final_progress(const struct ms_plan *plan, const struct ms_options *opts,
               const struct ms_stats *stats)
{
    if (rank_id != 0) {
        if (!final_sent) {
            /* The pipeline ended before it could report (an early
             * failure): rank 0 still waits for this. */
            uint64_t none[3] = {0, 0, 0};
            MPI_Send(none, 3, MPI_UINT64_T, 0, TAG_FINAL, MPI_COMM_WORLD);
        }
        final_sent = false;
        return;
    }
    receive_ticks(true);
    struct ms_progress p = {0};
    p.samples_total = plan->nsamples;
    for (int r = 1; others != NULL && r < ranks; r++) {
        p.bytes_done += others[r][0];
        p.units_done += others[r][1];
        p.samples_done += others[r][2];
    }
    free(others);
    others = NULL;
    finals = 0;
    if (opts->on_progress != NULL) {
        struct ms_progress mine = p;
        plan_totals(plan, &mine);
        mine.bytes_done = mine.bytes_total;
        mine.units_done = mine.units_total;
        mine.samples_done = plan->nsamples;
        mine.elapsed = stats->info.wall_seconds;
        mine.finished = true;
        opts->on_progress(opts->userdata, &mine);
    }
}

/* If any rank failed, every rank returns the first failure, named. */
static int
agree_on_failure(int rc, struct ms_error *err)
{
    int *all = calloc((size_t)ranks, sizeof(*all));
    if (all == NULL) {
        return ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    MPI_Allgather(&rc, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    int failed = -1;
    for (int r = 0; r < ranks && failed < 0; r++) {
        failed = all[r] != 0 ? r : -1;
    }
    int code = failed >= 0 ? all[failed] : 0;
    free(all);
    if (failed < 0) {
        return 0;
    }
    char message[sizeof(err->message)];
    snprintf(message, sizeof(message), "%s", err->message);
    MPI_Bcast(message, (int)sizeof(message), MPI_CHAR, failed,
              MPI_COMM_WORLD);
    return ms__error_set(err, code, "rank %d of %d: %s", failed, ranks,
                         message);
}

int
ms__mpi_combine(const struct ms_plan *plan, const struct ms_options *opts,
                struct ms_stats *stats, struct ms_accumulator *total,
                const struct ms_outcomes *mine, int rc, struct ms_error *err)
{
    struct blob b = {0};
    final_progress(plan, opts, stats);
    if (rc == 0 && rank_id != 0 && serialize(mine, &b) != 0) {
        rc = ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    rc = agree_on_failure(rc, err);
    if (rc != 0) {
        ms__free(b.data);
        return rc;
    }
    long long size = (long long)b.size;
    long long *sizes = rank_id == 0 ? calloc((size_t)ranks, sizeof(*sizes))
                                    : NULL;
    MPI_Gather(&size, 1, MPI_LONG_LONG, sizes, 1, MPI_LONG_LONG, 0,
               MPI_COMM_WORLD);
    int *counts = NULL, *displs = NULL;
    unsigned char *all = NULL;
    if (rank_id == 0) {
        counts = calloc((size_t)ranks, sizeof(*counts));
        displs = calloc((size_t)ranks, sizeof(*displs));
        long long total_bytes = 0;
        for (int r = 0; counts && displs && r < ranks; r++) {
            counts[r] = (int)sizes[r];
            displs[r] = (int)total_bytes;
            total_bytes += sizes[r];
        }
        all = malloc(total_bytes ? (size_t)total_bytes : 1);
    }
    MPI_Gatherv(b.data, (int)b.size, MPI_BYTE, all, counts, displs, MPI_BYTE,
                0, MPI_COMM_WORLD);
    if (rank_id == 0) {
        struct ms_accumulator acc;
        rc = all && counts && displs
                 ? ms__accumulator_init(&acc, opts->input_var,
                                        opts->output_var)
                 : MS_ENOMEM;
        for (int r = 1; rc == 0 && r < ranks; r++) {
            rc = fold_blob(all + displs[r], (size_t)counts[r], plan, opts,
                           stats, total, &acc);
        }
        if (rc == 0 || rc == MS_ENOMEM) {
            ms__accumulator_finish(&acc);
        }
        if (rc != 0) {
            rc = ms__error_set(err, rc, "out of memory");
        }
    }
    free(sizes);
    free(counts);
    free(displs);
    free(all);
    ms__free(b.data);
    return rc;
}

#else /* no MPI */

void
ms__mpi_progress(const struct ms_plan *plan, struct ms_progress *p)
{
    (void)plan;
    (void)p;
}

int
ms_parallel_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

void
ms_parallel_finish(void)
{
}

int
ms_parallel_rank(void)
{
    return 0;
}

int
ms_parallel_size(void)
{
    return 1;
}

bool
ms__mpi_active(void)
{
    return false;
}

void
ms__mpi_restrict(struct ms_plan *plan)
{
    (void)plan;
}

int
ms__mpi_combine(const struct ms_plan *plan, const struct ms_options *opts,
                struct ms_stats *stats, struct ms_accumulator *total,
                const struct ms_outcomes *mine, int rc, struct ms_error *err)
{
    (void)plan;
    (void)opts;
    (void)stats;
    (void)total;
    (void)mine;
    (void)err;
    return rc;
}

#endif
