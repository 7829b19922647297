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
#include "pass/pass.h"

#include <stdlib.h>
#include <stdio.h>
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

int
ms_parallel_agree(int status)
{
    int most = status;
    if (started && ranks > 1) {
        MPI_Allreduce(&status, &most, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    }
    return most;
}

bool
ms__mpi_active(void)
{
    return started && ranks > 1;
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
    if (n > b->cap - b->size) {
        size_t cap;
        if (ms__size_add(b->size, n, &cap) != 0 ||
            ms__size_mul(cap, 2, &cap) != 0) {
            return MS_ENOMEM;
        }
        void *grown = ms__reallocarray(b->data, cap, 1);
        if (grown == NULL) {
            return MS_ENOMEM;
        }
        b->data = grown;
        b->cap = cap;
    }
    if (p != NULL) { /* (NULL: room the caller fills) */
        memcpy(b->data + b->size, p, n);
    }
    b->size += n;
    return 0;
}

/* A rank's total's sketches (with quantiles), after its outcomes: their
 * counts add, in any order. */
static int
serialize_sketches(const struct ms_accumulator *total, struct blob *b)
{
    for (int g = 0; total->sketch[0] != NULL && g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < total->nfeat[g]; k++) {
            const struct ms_sketch *sk = &total->sketch[g][k];
            size_t n = ms__sketch_encoded_size(sk);
            if (put(b, NULL, n) != 0) {
                return MS_ENOMEM;
            }
            ms__sketch_encode(sk, b->data + b->size - n);
        }
    }
    return 0;
}

static int
merge_sketches(const unsigned char *p, size_t size,
               struct ms_accumulator *total)
{
    for (int g = 0; total->sketch[0] != NULL && g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < total->nfeat[g]; k++) {
            size_t used;
            int rc = ms__sketch_merge_encoded(&total->sketch[g][k], p, size,
                                              &used);
            if (rc != 0) {
                return rc;
            }
            p += used;
            size -= used;
        }
    }
    return size == 0 ? 0 : MS_EIO;
}

/* [outcomes' size (8 bytes)][outcomes][the total's sketches] */
static int
serialize(const struct ms_outcomes *o, const struct ms_accumulator *total,
          struct blob *b)
{
    uint64_t head = 0;
    int rc = put(b, &head, sizeof(head));
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
            uint64_t len = strlen(x->reason);
            rc = put(b, &len, sizeof(len)) || put(b, x->reason, len);
        }
    }
    if (rc == 0) {
        head = b->size - sizeof(head);
        memcpy(b->data, &head, sizeof(head));
        rc = serialize_sketches(total, b);
    }
    return rc ? MS_ENOMEM : 0;
}

/* Take n bytes at *p into out, if they are there. */
static bool
take(const unsigned char **p, const unsigned char *end, void *out, size_t n)
{
    if ((size_t)(end - *p) < n) {
        return false;
    }
    memcpy(out, *p, n);
    *p += n;
    return true;
}

/* Fold one sample skipped on another rank. */
static int
fold_skipped(const unsigned char **p, const unsigned char *end,
             const struct ms_plan_sample *ps, const struct ms_options *opts,
             struct ms_stats *stats)
{
    uint64_t len;
    char reason[sizeof(((struct ms_error *)0)->message) + 64];
    if (!take(p, end, &len, sizeof(len)) || len >= sizeof(reason) ||
        !take(p, end, reason, (size_t)len)) {
        return MS_EIO;
    }
    reason[len] = '\0';
    /* Samples bad in rank 0's checks were warned about while planning;
     * those of another rank's (bad, with no reason here) now. */
    if ((!ps->bad || ps->reason == NULL) && opts->on_warning != NULL) {
        opts->on_warning(opts->userdata, ps->name.id, reason);
    }
    return ms__stats_add_skipped(stats, ps->name.id, reason);
}

/* Fold one rank's outcomes (after rank 0's own) into the result; acc is
 * scratch of the accumulator's shape. */
static int
fold_blob(const unsigned char *p, size_t size, struct ms_mpi_pass *mp,
          struct ms_stats *stats, struct ms_accumulator *total,
          struct ms_accumulator *acc)
{
    const unsigned char *end = p + size;
    while (p < end) {
        uint64_t sample;
        uint8_t used;
        if (!take(&p, end, &sample, sizeof(sample)) ||
            sample >= mp->plan->nsamples || !take(&p, end, &used, 1)) {
            return MS_EIO;
        }
        const struct ms_plan_sample *ps = &mp->plan->samples[sample];
        if (!used) {
            int rc = fold_skipped(&p, end, ps, mp->opts, stats);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        for (int g = 0; g < MS_GROUP_COUNT; g++) {
            if (!take(&p, end, acc->feat[g],
                      acc->nfeat[g] * sizeof(struct ms_moments)) ||
                !take(&p, end, &acc->skipped[g], sizeof(uint64_t))) {
                return MS_EIO;
            }
        }
        ms__accumulator_merge(total, acc);
        stats->samples_used++;
        if (mp->opts->per_sample && ms__unit_report(stats, ps, acc)) {
            return MS_ENOMEM;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Progress across ranks.  Ranks > 0 send {bytes, units, samples} done with
 * TAG_TICK from their timer and TAG_FINAL when their pipeline ends; rank 0
 * keeps the latest of each. */

enum { TAG_TICK = 11, TAG_FINAL = 12, TAG_SIZE = 13, TAG_GO = 14,
       TAG_DATA = 15 };

void
ms__mpi_pass_init(struct ms_mpi_pass *mp, const struct ms_options *opts)
{
    memset(mp, 0, sizeof(*mp));
    mp->opts = opts;
}

void
ms__mpi_restrict(struct ms_mpi_pass *mp, struct ms_plan *plan)
{
    size_t n = plan->nsamples;
    size_t lo, hi;
    ms__rank_block(n, (size_t)rank_id, (size_t)ranks, &lo, &hi);
    for (size_t s = 0; s < n; s++) {
        plan->samples[s].elsewhere = s < lo || s >= hi;
    }
    mp->plan = plan;
}

static void
receive_ticks(struct ms_mpi_pass *mp, bool wait_for_finals)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (wait_for_finals && mp->finals < ranks - 1) {
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
        if (mp->others != NULL) {
            memcpy(mp->others[st.MPI_SOURCE], counts, sizeof(counts));
        }
        mp->finals += st.MPI_TAG == TAG_FINAL;
    }
}

/* p (+)= every other rank's latest counts, and the whole plan's totals. */
static void
add_others(const struct ms_mpi_pass *mp, struct ms_progress *p)
{
    for (int r = 1; mp->others != NULL && r < ranks; r++) {
        p->bytes_done += mp->others[r][0];
        p->units_done += mp->others[r][1];
        p->samples_done += mp->others[r][2];
    }
    p->bytes_total = 0;
    for (size_t u = 0; mp->plan != NULL && u < mp->plan->nunits; u++) {
        p->bytes_total += ms__unit_stored_bytes(mp->plan, &mp->plan->units[u]);
    }
    p->units_total = mp->plan != NULL ? mp->plan->nunits : 0;
    p->samples_total = mp->plan != NULL ? mp->plan->nsamples : 0;
}

void
ms__mpi_progress(void *data, const struct ms_progress *p)
{
    struct ms_mpi_pass *mp = data;
    if (rank_id != 0) {
        uint64_t counts[3] = {p->bytes_done, p->units_done, p->samples_done};
        MPI_Send(counts, 3, MPI_UINT64_T, 0,
                 p->finished ? TAG_FINAL : TAG_TICK, MPI_COMM_WORLD);
        mp->final_sent = mp->final_sent || p->finished;
        return;
    }
    if (mp->others == NULL) {
        /* Best effort: without it the bar shows rank 0's share. */
        mp->others = ms__calloc((size_t)ranks, sizeof(*mp->others));
    }
    receive_ticks(mp, false);
    if (p->finished || mp->opts->on_progress == NULL) {
        return; /* the finished bar comes once every rank is done */
    }
    struct ms_progress shown = *p;
    add_others(mp, &shown);
    mp->opts->on_progress(mp->opts->userdata, &shown);
}

/* Rank 0: wait for every rank's last count, draw the finished bar.  Ranks
 * whose pipeline never ran (an early failure) send an empty last count,
 * for rank 0 waits for it. */
static void
final_progress(struct ms_mpi_pass *mp, const struct ms_stats *stats)
{
    if (rank_id != 0) {
        if (!mp->final_sent) {
            uint64_t none[3] = {0, 0, 0};
            MPI_Send(none, 3, MPI_UINT64_T, 0, TAG_FINAL, MPI_COMM_WORLD);
        }
        return;
    }
    receive_ticks(mp, true);
    if (mp->opts->on_progress == NULL || mp->plan == NULL) {
        return;
    }
    struct ms_progress p = {0};
    add_others(mp, &p);
    p.bytes_done = p.bytes_total;
    p.units_done = p.units_total;
    p.samples_done = p.samples_total;
    p.elapsed = stats != NULL ? stats->info.wall_seconds : 0;
    p.finished = true;
    mp->opts->on_progress(mp->opts->userdata, &p);
}

int
ms__mpi_agree(int rc, struct ms_error *err)
{
    /* The lowest rank that failed, and its code. */
    int mine[2] = {rc != 0 ? rank_id : ranks, rc}, first[2];
    MPI_Allreduce(mine, first, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD);
    if (first[0] >= ranks) {
        return 0;
    }
    char message[sizeof(err->message)];
    snprintf(message, sizeof(message), "%s", rc != 0 ? err->message : "");
    MPI_Bcast(message, (int)sizeof(message), MPI_CHAR, first[0],
              MPI_COMM_WORLD);
    /* A failure agreed on before (the plan's) is named already. */
    int r, n, at = 0;
    if (sscanf(message, "rank %d of %d: %n", &r, &n, &at) == 2 && at > 0) {
        return ms__error_set(err, first[1], "%s", message);
    }
    return ms__error_set(err, first[1], "rank %d of %d: %s", first[0], ranks,
                         message);
}

/* Move size bytes between ranks in pieces an int can count. */
#define PIECE ((size_t)1 << 30)

static void
send_bytes(const unsigned char *p, size_t size)
{
    for (size_t at = 0; at < size; at += PIECE) {
        size_t n = size - at < PIECE ? size - at : PIECE;
        MPI_Send(p + at, (int)n, MPI_BYTE, 0, TAG_DATA, MPI_COMM_WORLD);
    }
}

static void
receive_bytes(unsigned char *p, size_t size, int from)
{
    for (size_t at = 0; at < size; at += PIECE) {
        size_t n = size - at < PIECE ? size - at : PIECE;
        MPI_Recv(p + at, (int)n, MPI_BYTE, from, TAG_DATA, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    }
}

/* Ranks > 0: offer the blob's size, send it if rank 0 says go. */
static void
send_outcomes(const struct blob *b)
{
    uint64_t size = b->size;
    int go = 0;
    MPI_Send(&size, 1, MPI_UINT64_T, 0, TAG_SIZE, MPI_COMM_WORLD);
    MPI_Recv(&go, 1, MPI_INT, 0, TAG_GO, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (go) {
        send_bytes(b->data, b->size);
    }
}

/* Rank 0: receive and fold every other rank's outcomes in rank order.  A
 * failure stops the folding, but every rank still gets its answer (no go),
 * so none waits for ever. */
static int
receive_outcomes(struct ms_mpi_pass *mp, struct ms_stats *stats,
                 struct ms_accumulator *total)
{
    struct ms_accumulator acc;
    int rc = ms__accumulator_init(&acc, total->nfeat);
    for (int r = 1; r < ranks; r++) {
        uint64_t size;
        MPI_Recv(&size, 1, MPI_UINT64_T, r, TAG_SIZE, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        unsigned char *data = NULL;
        if (rc == 0 && size <= SIZE_MAX) {
            data = ms__malloc((size_t)size);
            rc = data != NULL ? 0 : MS_ENOMEM;
        }
        int go = data != NULL;
        MPI_Send(&go, 1, MPI_INT, r, TAG_GO, MPI_COMM_WORLD);
        if (go) {
            receive_bytes(data, (size_t)size, r);
            uint64_t head = UINT64_MAX;
            if (size >= sizeof(head)) {
                memcpy(&head, data, sizeof(head));
            }
            rc = size < sizeof(head) || head > size - sizeof(head)
                     ? MS_EIO
                     : fold_blob(data + sizeof(head), (size_t)head, mp,
                                 stats, total, &acc);
            rc = rc != 0 ? rc
                         : merge_sketches(data + sizeof(head) + head,
                                          (size_t)(size - sizeof(head) - head),
                                          total);
        }
        ms__free(data);
    }
    ms__accumulator_finish(&acc);
    return rc;
}

int
ms__mpi_combine(struct ms_mpi_pass *mp, struct ms_stats *stats,
                struct ms_accumulator *total, const struct ms_outcomes *mine,
                int rc, struct ms_error *err)
{
    struct blob b = {0};
    final_progress(mp, stats);
    ms__free(mp->others);
    mp->others = NULL;
    if (rc == 0 && rank_id != 0 && serialize(mine, total, &b) != 0) {
        rc = ms__error_set(err, MS_ENOMEM, "out of memory");
    }
    rc = ms__mpi_agree(rc, err);
    if (rc == 0 && rank_id != 0) {
        send_outcomes(&b);
    } else if (rc == 0) {
        rc = receive_outcomes(mp, stats, total);
        if (rc != 0) {
            rc = ms__error_set(err, rc, "%s",
                               rc == MS_ENOMEM
                                   ? "out of memory"
                                   : "internal error: another rank's "
                                     "outcomes do not parse; please report "
                                     "it");
        }
    }
    ms__free(b.data);
    return rc;
}

#else /* no MPI */

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

int
ms_parallel_agree(int status)
{
    return status;
}

bool
ms__mpi_active(void)
{
    return false;
}

void
ms__mpi_pass_init(struct ms_mpi_pass *mp, const struct ms_options *opts)
{
    memset(mp, 0, sizeof(*mp));
    mp->opts = opts;
}

void
ms__mpi_restrict(struct ms_mpi_pass *mp, struct ms_plan *plan)
{
    mp->plan = plan;
}

void
ms__mpi_progress(void *data, const struct ms_progress *p)
{
    (void)data;
    (void)p;
}

int
ms__mpi_combine(struct ms_mpi_pass *mp, struct ms_stats *stats,
                struct ms_accumulator *total, const struct ms_outcomes *mine,
                int rc, struct ms_error *err)
{
    (void)mp;
    (void)stats;
    (void)total;
    (void)mine;
    (void)err;
    return rc;
}

#endif
