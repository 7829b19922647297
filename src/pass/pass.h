/*
 * pass/pass.h: one pass over a dataset: which timesteps, the plan of work
 * units and the memory limit shared out, what a worker does for a unit,
 * the event loop, and the ranks of MPI.  Over every other folder.
 */
#ifndef MESHSTATS_PASS_H
#define MESHSTATS_PASS_H

#include "read/read.h"
#include "results/results.h"
#include "settings/settings.h"

/* ------------------------------------------------------------------ */
/* timesteps.c: which timesteps are used (docs/spec.md section 3). */

/* The k-th of count integer timesteps numpy.linspace(0, last, count,
 * dtype=int) gives. */
size_t ms__linspace_at(size_t last, size_t count, size_t k);

/* A selection of timesteps: the k-th (k < count) is
 * ms__linspace_at(last, count, k); non-decreasing in k. */
struct ms_timesteps {
    size_t count;
    size_t last;
    size_t first; /* added to each: a trajectory's frames start at 1 */
};

size_t ms__timesteps_at(const struct ms_timesteps *sel, size_t k);
/* The node timesteps of a sample with T timesteps; max_timesteps 0 means
 * all of them. */
void ms__node_timesteps(size_t T, unsigned max_timesteps,
                        struct ms_timesteps *out);
/* The delta timesteps: each t is taken between t and t + 1, except when
 * T == 1, where the single delta timestep 0 is d[0] itself. */
void ms__delta_timesteps(size_t T, unsigned max_timesteps,
                         struct ms_timesteps *out);
/* The frames of a trajectory of T >= 3 frames a model uses: 1 .. T-2
 * (each has a frame before and after), or max_timesteps of them evenly
 * spaced (numpy.linspace over the usable frames). */
void ms__trajectory_frames(size_t T, unsigned max_timesteps,
                           struct ms_timesteps *out);

/* ------------------------------------------------------------------ */
/* plan.c: the dataset cut into work units. */

/* A mesh larger than one block (more nodes or edges than these) is
 * processed in blocks of this many nodes and edges (cut.c).  Constants,
 * never drawn from the memory limit: they decide the order in which
 * partials are merged, so the result does not depend on the limit. */
#define MS_NODE_BLOCK 16384
#define MS_EDGE_BLOCK 262144
/* A blocked sample's edge order (edge_order_start.c) reads the list by
 * blocks of this many edges, and sorts a segment through a buffer of this
 * size (a constant: the order never depends on the limit). */
#define MS_ORDER_READ_BLOCK 65536
#define MS_ORDER_SORT_BYTES (MS_EDGE_BLOCK * 2 * sizeof(uint32_t))

struct ms_plan_sample {
    struct ms_sample_name name;
    struct ms_sample_shape shape;
    struct ms_timesteps node_ts;
    struct ms_timesteps delta_ts;
    size_t first_unit; /* units [first_unit, first_unit + nunits) */
    size_t nunits;
    bool blocked;      /* a mesh larger than one block */
    bool placed;       /* blocked: its edges placed in order, */
    bool renumbered;   /* its nodes first renumbered (edge_order.h) */
    bool bad;          /* failed validation: no units */
    bool elsewhere;    /* another MPI rank processes it */
    char *reason;      /* why it is bad, owned */
};

enum ms_unit_kind {
    MS_UNIT_WHOLE, /* a run of timesteps: every node and edge (one block) */
    MS_UNIT_NODES, /* one timestep, a block of nodes: node and delta
                    * partials, and the block's positions */
    MS_UNIT_EDGES, /* one timestep, a block of edges, from the positions */
};

/* A work unit: one sample and the node and delta timesteps it owns, which
 * are index ranges [begin, end) of the sample's two selections.  It reads
 * nslots distinct timesteps: the ones it owns and, for deltas, their
 * successors (none for EDGES units), for nodes (NODES: edges)
 * [first, first + count).  A blocked sample's NODES unit covers nblocks
 * node blocks, and keeps its partials per block; it writes the positions
 * of its nodes into the pipeline's buffer pos, which its EDGES units
 * read. */
struct ms_unit {
    enum ms_unit_kind kind;
    size_t sample;
    size_t node_begin, node_end;
    size_t delta_begin, delta_end;
    size_t nslots;
    size_t first, count;
    size_t nblocks; /* NODES: blocks of MS_NODE_BLOCK nodes; else 1 */
    unsigned pos;
};

struct ms_plan {
    const struct ms_model *model; /* never AUTO: resolved from the file */
    size_t nfeat[MS_GROUP_COUNT]; /* the features of each group */
    size_t nrows;         /* rows a unit reads a slot: nodal_data's
                           * max(6, 3 + max(iv, ov)), or the model's
                           * dynamic components */
    unsigned prefetch;    /* units in flight at most */
    uint64_t share;       /* bytes each unit in flight may hold */
    size_t max_slots;     /* the largest nslots of any unit */
    size_t max_data_bytes; /* the largest rows x slots x nodes of a unit */
    size_t max_node_records;  /* the most node timesteps x blocks of a unit */
    size_t max_delta_records; /* the most delta timesteps x blocks */
    size_t node_blocks;   /* node blocks a blocked sample's NODES unit reads */
    size_t max_rows;      /* the most nodes or edges a unit computes over */
    size_t max_pos_nodes; /* the largest mesh of a WHOLE unit */
    size_t max_chunk_bytes; /* the largest chunk the workers decode */
    unsigned positional;  /* positional node features (the last node
                           * columns), computed at each sample's start */
    /* Blocked samples: npos position buffers of pos_nodes nodes each;
     * their edge lists kept in their order (edge_order.h), or, stored in
     * order, read by blocks by each EDGES unit. */
    unsigned npos;
    size_t pos_nodes;
    bool keep_edges;
    size_t nfound;        /* sample groups in the file, before selection */
    size_t nsamples;      /* the selected ones, planned here */
    struct ms_plan_sample *samples;
    bool borrowed;        /* a segment's: samples belong to the whole */
    size_t unit_base;     /* a segment's: the units of those before it */
    bool stop_at_blocked; /* the check stops at a mesh of more than one
                           * block (before deciding its edge order) */
    size_t checked;       /* the samples the check got through */
    /* Asked before every sample's check (cheap: planner.c's flag), beside
     * opts->should_stop every 100 ms; NULL: not asked. */
    bool (*stop)(void *data);
    void *stop_data;
    size_t nunits;
    struct ms_unit *units;
};

/* Process r's block of n samples split between ranks, [*lo, *hi): the
 * same for the plan's checks (ms_plan_part) and the pass (mpi.c). */
static inline void
ms__rank_block(size_t n, size_t r, size_t ranks, size_t *lo, size_t *hi)
{
    *lo = n * r / ranks;
    *hi = n * (r + 1) / ranks;
}

/* A plan made by several processes (mpi.c), each checking a part of a
 * nodal file's samples: this one samples [n rank / ranks, n (rank + 1) /
 * ranks), the range the pass then gives it (ms__mpi_restrict).  exchange
 * is called once by every process, whatever failed before (rc; plan NULL
 * if there is none), and returns the first failure of any, or gives each
 * the others' samples (their shapes, timesteps, whether bad, blocked,
 * placed and renumbered), so that every process shares the memory limit
 * out alike. */
struct ms_plan_part {
    size_t rank, ranks;
    int (*exchange)(struct ms_plan *plan, bool split, size_t lo, size_t hi,
                    int rc, struct ms_error *err);
};

/* plan_model.c: the model of the pass (the options', or auto's from the
 * file), plan->model, nfeat, nrows and positional set; 0 or MS_EINVAL
 * naming what the file holds and which model reads it. */
int ms__plan_model(struct ms_plan *plan, struct ms_file *f,
                   const struct ms_options *opts, struct ms_error *err);

/* Build the plan: list and check every sample (part: those of this
 * process, the others' exchanged), choose its timesteps, share the memory
 * limit out and cut each sample into units.  Bad samples are marked (and
 * reported through opts->on_warning) or, under strict, fail the call
 * with MS_EBADSAMPLE. */
int ms__plan_create(struct ms_file *f, const struct ms_options *opts,
                    const struct ms_plan_part *part, struct ms_plan **out,
                    struct ms_error *err);
/* The same in steps, for a pass in segments (stream.c): the model and
 * every sample listed, none checked; a plan of the samples [lo, hi) of
 * such a plan (*out NULL and MS_ENOMEM if out of memory; it borrows
 * them: destroy it before the whole); its samples checked, as
 * ms__plan_create does (it touches only them, so another thread may run
 * another segment meanwhile; with stop_at_blocked it stops at a large
 * mesh, plan->checked saying where); then its memory limit shared out, or
 * as like shared it (a plan over more samples: its prefetch, share,
 * position buffers and edge keeping), and its samples cut into units
 * (cut.c). */
int ms__plan_list(struct ms_file *f, const struct ms_options *opts,
                  struct ms_plan **out, struct ms_error *err);
int ms__plan_segment(const struct ms_plan *whole, size_t lo, size_t hi,
                     struct ms_plan **out);
int ms__plan_check(struct ms_plan *plan, struct ms_file *f,
                   const struct ms_options *opts, struct ms_error *err);
int ms__plan_cut(struct ms_plan *plan, const struct ms_plan *like,
                 const struct ms_options *opts, const char *path,
                 struct ms_error *err);
void ms__plan_destroy(struct ms_plan *plan);

/* budget.c: the memory limit shared out. */

/* The bytes a WHOLE unit of nslots timesteps of N nodes buffers (as
 * doubles: float data takes half). */
int ms__plan_unit_bytes(size_t nrows, size_t nslots, size_t N,
                        size_t *out);
/* The bytes a sample's edge list takes. */
int ms__plan_edge_bytes(size_t E, size_t *out);
/* The nodes a position buffer holds for a blocked mesh of N: rounded up
 * to even, so that the reference positions after the deformed ones start
 * 16-byte aligned, for unit.c's stores around the cache. */
static inline size_t
ms__pos_buffer_nodes(size_t N)
{
    return N + N % 2;
}
/* The most a trajectory's first task holds for its statics: mesh_pos and
 * node types as read and as kept, and its cells as read and as sorted
 * vertex pairs while they become edges. */
int ms__budget_statics_bytes(const struct ms_sample_shape *sh, size_t *out);
/* Leave chunk decoding to H5Dread when the chunks are large next to the
 * memory limit. */
void ms__budget_limit_chunks(struct ms_sample_shape *sh,
                             uint64_t memory_limit);
/* Choose the position buffers, whether edge lists are kept, the prefetch
 * depth and each unit's share; MS_ETOOBIG names what does not fit. */
int ms__budget_share(struct ms_plan *plan, const struct ms_options *opts,
                     const char *path, struct ms_error *err);
/* The bytes of an EDGES unit's block of edges (of E), read or taken from
 * an order; of a blocked sample's first tasks' blocks (edges, reference
 * positions: edge_order_start.c); of the part of the placing task's
 * buffer its segments are sorted through (never more than its list needs,
 * so the same order; never more than ms__unit_edge_bytes). */
size_t ms__unit_edge_bytes(size_t E);
size_t ms__order_task_bytes(void);
/* The bytes the task computing P positional features of a sample of N
 * nodes and E edges holds (0 if they overflow). */
size_t ms__positional_task_bytes(size_t N, size_t E, unsigned P);
size_t ms__order_sort_bytes(size_t E);
/* The memory limit at which the plan's blocked samples keep their edge
 * order (edge_order_start.c), with --prefetch units in flight (1 if
 * automatic). */
uint64_t ms__budget_kept_need(const struct ms_plan *plan,
                              const struct ms_options *opts);
/* The most slots a WHOLE unit of this sample may read within its share. */
size_t ms__budget_max_slots(const struct ms_plan *plan,
                            const struct ms_plan_sample *ps,
                            const struct ms_options *opts);

/* cut.c: a sample cut into units. */

/* Append sample s's units (WHOLE units of at most max_slots slots, or a
 * blocked sample's NODES and EDGES units). */
int ms__cut_sample(struct ms_plan *plan, size_t s, size_t max_slots,
                   size_t *cap);
/* The stored bytes of nodal_data a unit covers (its rows x slots x
 * nodes): what progress and throughput count. */
size_t ms__unit_stored_bytes(const struct ms_plan *plan,
                             const struct ms_unit *u);
/* Fill slots (nslots entries) with the timesteps the unit reads, and full
 * with whether each needs every row (a node timestep) or only the
 * displacement rows 3..3+output_var (a delta timestep or its successor). */
void ms__unit_slots(const struct ms_plan *plan, const struct ms_unit *u,
                    size_t *slots, unsigned char *full);

/* ------------------------------------------------------------------ */
/* unit.c: what a worker does for one unit: read, then compute. */

/* A unit's buffers, reused from unit to unit. */
struct ms_unit_buffers {
    size_t *slots;
    unsigned char *slot_full;
    void *data; /* the rows read: max_data_bytes, float or double */
    struct ms_feature_scratch scratch;
    /* Partials per block and timestep, block by block, each in timestep
     * order: node (nblocks x nnode x input_var), edge (nnode x 4), delta
     * (nblocks x ndelta x output_var). */
    struct ms_moments *node;
    struct ms_moments *edge;
    struct ms_moments *delta;
    uint64_t skipped[MS_GROUP_COUNT];
    const size_t *nfeat; /* with quantiles: the plan's (scratch.sketch) */
    struct ms_read_scratch read;
    /* What the last ms__unit_run cost: nanoseconds reading and computing,
     * and stored bytes read. */
    uint64_t read_ns, compute_ns, bytes;
};

/* unit_buffers.c: a ring slot's buffers for the plan's largest unit;
 * its sketches emptied (with quantiles). */
int ms__unit_buffers_init(struct ms_unit_buffers *b, const struct ms_plan *p,
                          const struct ms_options *opts);
void ms__unit_buffers_finish(struct ms_unit_buffers *b);
void ms__unit_sketches_clear(struct ms_unit_buffers *b);

/* What a unit shares with the other units of its sample, owned by the
 * pipeline: the sample's edge list (2 * E: the i's then the j's; NULL
 * when a blocked sample's list is not kept), and a blocked sample's
 * position buffer for the unit's timestep (pos[3n + c]). */
struct ms_unit_shared {
    uint32_t *edges;
    struct ms_edge_order *order; /* a blocked sample's */
    double *pos;
    struct ms_trajectory_statics *statics; /* a trajectory's */
};

/* What one of a blocked sample's placing tasks does (edge_order_start.c)
 * with part `part` of its list (MS_ORDER_PART stored edges: [first,
 * first + count)): read a list kept as stored; or, for a list that is
 * placed, count it, put it (once every part is counted), sort the part's
 * share of the segments (once every part is put).  Before those, for a
 * renumbered mesh: map the order's memory (beside the first task), then
 * the renumbering's sort in its own parts of nodes, its first step in
 * every part, then its second (renumber_sort.c). */
enum ms_place_step { MS_PLACE_KEEP, MS_PLACE_TOUCH, MS_PLACE_RENUMBER_0,
                     MS_PLACE_RENUMBER_1, MS_PLACE_COUNT, MS_PLACE_PUT,
                     MS_PLACE_SORT };
struct ms_place_part {
    enum ms_place_step step;
    size_t part, first, count;
};

/* A sample's first task: read and check its edge list (into
 * shared->edges), or a trajectory's statics into shared->statics (with
 * what is computed from them once); a blocked sample's first and next
 * (placing: not NULL) make its order (edge_order_start.c).  Runs on a
 * worker. */
int ms__unit_sample_start(struct ms_file *f, const struct ms_plan *plan,
                          size_t sample, const struct ms_place_part *placing,
                          const struct ms_unit_shared *shared,
                          const struct ms_options *opts,
                          struct ms_unit_buffers *b, struct ms_error *err);

/* Read the unit's slots and compute its per-timestep partials into b.
 * Failure fills err naming the sample and dataset.  Runs on a worker. */
int ms__unit_run(struct ms_file *f, const struct ms_plan *plan,
                 const struct ms_unit *u, const struct ms_unit_shared *shared,
                 const struct ms_options *opts, struct ms_unit_buffers *b,
                 struct ms_error *err);
/* Fold a unit's per-timestep partials (in b) into acc, in timestep
 * order, and its sketches' counts; or (u NULL) what a sample's first task
 * computed (its positional features' moments and counts, when the plan
 * has them), before its units: 0 or MS_ENOMEM. */
struct ms_accumulator;
int ms__unit_fold(struct ms_accumulator *acc, const struct ms_plan *plan,
                  const struct ms_unit *u, const struct ms_unit_buffers *b);
/* pass_record.c: the run's figures into s->info (added up over a pass in
 * segments: units, bytes and times; the most units in flight; the wall
 * time since the pass's start), and (ms_options.trace) the timeline's
 * spans: a task a worker ran, from t0 to t1 (uv_hrtime
 * clock; origin: the pass's start), and a fold of the loop's. */
struct ms_task_times {
    uint64_t t0, t1;
    unsigned worker;
    bool unit;     /* a unit, else a sample's first task */
    size_t sample; /* plan index */
    size_t index;  /* the unit's, or the step's part */
    enum ms_trace_step step; /* a sample's first task's, or a placing
                              * one's */
};
void ms__record_info(struct ms_stats *s, unsigned workers,
                     const struct ms_plan *plan, uint64_t bytes,
                     uint64_t wall_ns, uint64_t read_ns,
                     uint64_t compute_ns);
int ms__record_task(struct ms_stats *s, const struct ms_plan *plan,
                    uint64_t origin, const struct ms_task_times *tt,
                    const struct ms_unit_buffers *b);
int ms__record_fold(struct ms_stats *s, uint64_t origin, uint64_t t0,
                    uint64_t t1);
/* A segment's check, from t0 to t1, of count samples from the one of id
 * first (stream.c), on the lane after the workers'. */
int ms__record_check(struct ms_stats *s, unsigned workers, uint64_t origin,
                     uint64_t t0, uint64_t t1, int64_t first, size_t count);

/* edge_order_start.c: a blocked sample's edge order: decided by the plan
 * from the first edges (ps->placed, ps->renumbered; 0 or a read error,
 * in err), made by its first task (renumbering the nodes) and its next
 * ones, a part each (reading and checking the list, placing it; or
 * reading a list kept as stored into shared->edges); each 0 or the
 * sample's failure. */
int ms__edge_order_decide(struct ms_file *f, struct ms_plan_sample *ps,
                          struct ms_error *err);
int ms__edge_order_start(struct ms_file *f, const struct ms_plan *plan,
                         size_t sample, struct ms_edge_order *o,
                         const struct ms_options *opts,
                         struct ms_unit_buffers *b, struct ms_error *err);
int ms__edge_order_place(struct ms_file *f, const struct ms_plan *plan,
                         size_t sample, const struct ms_place_part *part,
                         const struct ms_unit_shared *shared,
                         struct ms_unit_buffers *b, struct ms_error *err);

/* positional_start.c: compute sample's positional features (its first
 * task, after its edges were checked) and leave their moments in b->node
 * (nfeat[MS_GROUP_NODE] records, the input columns empty): 0 or the
 * sample's failure.  from and to: its whole edge list when the task has
 * just read it, else NULL (then it is read here). */
int ms__positional_start(struct ms_file *f, const struct ms_plan *plan,
                         size_t sample, const uint32_t *from,
                         const uint32_t *to, const struct ms_options *opts,
                         struct ms_unit_buffers *b, struct ms_error *err);
/* Keep the per-sample report of plan sample ps (ms__stats_add_report). */
int ms__unit_report(struct ms_stats *stats, const struct ms_plan_sample *ps,
                    const struct ms_accumulator *acc);

/* ------------------------------------------------------------------ */
/* pipeline.c: the event loop. */

/* Where a pipeline run reports besides the result object: the dataset
 * accumulator (initialised by the caller, so that more samples can be
 * folded after), each sample's outcome when collect is not NULL, and the
 * progress reports (progress may be NULL), all on the loop thread. */
struct ms_workers;
struct ms_pass_sinks {
    struct ms_accumulator *total;
    struct ms_outcomes *collect;
    void (*progress)(void *data, const struct ms_progress *p);
    void *progress_data;
    uint64_t origin_ns; /* the pass's start (uv_hrtime), 0: now */
    /* Called once the workers have started, before any work (stream.c
     * starts its check then, and holds one worker back while it runs),
     * with progress_data; or NULL. */
    void (*started)(void *data, struct ms_workers *workers);
};

/* Run every unit of plan on opts->workers threads of the pass's own (at
 * most plan->prefetch units in flight) and fold the partials in order into
 * stats and sinks.  Called on, and returns on, the calling thread, which
 * runs the event loop; the threads are joined before it returns. */
int ms__pipeline_run(struct ms_file *file, const struct ms_plan *plan,
                     const struct ms_options *opts, struct ms_stats *stats,
                     const struct ms_pass_sinks *sinks, struct ms_error *err);

/* stream.c: the pass of a plan listed by ms__plan_list (none of its
 * samples checked), in segments, each checked on a thread of its own
 * while the one before runs through ms__pipeline_run: the same result,
 * warnings and failures as one plan run whole, in id order.  Progress
 * through sinks counts over the whole pass. */
int ms__stream_run(struct ms_file *f, const struct ms_plan *whole,
                   const struct ms_options *opts, struct ms_stats *stats,
                   const struct ms_pass_sinks *sinks, struct ms_error *err);

/* ------------------------------------------------------------------ */
/* mpi.c: one pass split across MPI ranks; nothing unless MPI is running
 * with more than one rank.  Only the calling thread of a pass calls MPI,
 * and one pass at a time runs under MPI (the header says so). */

bool ms__mpi_active(void);

/* One pass's state of the ranks' exchange, caller-owned storage. */
struct ms_mpi_pass {
    const struct ms_plan *plan;     /* NULL if this rank failed before */
    const struct ms_options *opts;
    uint64_t (*others)[3];          /* rank 0: every rank's latest counts */
    int finals;                     /* rank 0: ranks whose last count came */
    bool final_sent;                /* ranks > 0: the last count is out */
};

void ms__mpi_pass_init(struct ms_mpi_pass *mp, const struct ms_options *opts);
/* If any rank failed (rc), every rank returns the first failure, named
 * "rank R of N: ..." (once).  A collective: every rank calls it. */
int ms__mpi_agree(int rc, struct ms_error *err);
/* mpi_plan.c: this rank's part of the plan (struct ms_plan_part, its
 * exchange). */
void ms__mpi_plan_part(struct ms_plan_part *part);
/* Keep only this rank's contiguous block of the plan's samples (the others
 * are marked elsewhere), and remember the plan for the progress totals. */
void ms__mpi_restrict(struct ms_mpi_pass *mp, struct ms_plan *plan);
/* The pipeline's progress sink under MPI (data: the ms_mpi_pass): ranks > 0
 * send their counts to rank 0; rank 0 adds the others' to its own and
 * passes the whole to opts->on_progress.  The finished report is drawn by
 * ms__mpi_combine, once every rank is done. */
void ms__mpi_progress(void *data, const struct ms_progress *p);
/* Every rank calls this once per pass, whatever failed before (rc: this
 * rank's outcome so far): if any rank failed, every rank returns the first
 * failure, named with its rank; otherwise rank 0 folds every other rank's
 * outcomes, in sample order, into total and stats.  Releases mp. */
int ms__mpi_combine(struct ms_mpi_pass *mp, struct ms_stats *stats,
                    struct ms_accumulator *total,
                    const struct ms_outcomes *mine, int rc,
                    struct ms_error *err);

#endif /* MESHSTATS_PASS_H */
