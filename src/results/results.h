/*
 * results/results.h: the result of a pass: the accumulators partials fold
 * into, the result object and what each sample became.  The outputs drawn
 * from it (table, JSON, per-sample CSV, write-back, progress line) are the
 * public header's.
 */
#ifndef MESHSTATS_RESULTS_H
#define MESHSTATS_RESULTS_H

#include "features/features.h"

/* ------------------------------------------------------------------ */
/* stats.c: the result object. */

/* Per-group accumulators of one sample or of the whole dataset. */
struct ms_accumulator {
    size_t nfeat[MS_GROUP_COUNT];
    struct ms_moments *feat[MS_GROUP_COUNT];
    uint64_t skipped[MS_GROUP_COUNT];
    /* With quantiles (ms__accumulator_sketch): a sketch a feature. */
    struct ms_sketch *sketch[MS_GROUP_COUNT];
};

int ms__accumulator_init(struct ms_accumulator *acc,
                         const size_t nfeat[MS_GROUP_COUNT]);
void ms__accumulator_finish(struct ms_accumulator *acc);
void ms__accumulator_reset(struct ms_accumulator *acc);
/* acc: a new empty accumulator of like's shape, with sketches if it has
 * them.  0 or MS_ENOMEM. */
int ms__accumulator_init_like(struct ms_accumulator *acc,
                              const struct ms_accumulator *like);
/* Give acc a sketch of `bits` a feature (empty): 0 or MS_ENOMEM. */
int ms__accumulator_sketch(struct ms_accumulator *acc, unsigned bits);
/* The sketches of every group, one a feature (nfeat[g]), in new arrays
 * (sk[g]; free with ms__sketches_free): 0 or MS_ENOMEM. */
int ms__sketches_new(struct ms_sketch *sk[MS_GROUP_COUNT],
                     const size_t nfeat[MS_GROUP_COUNT], unsigned bits);
void ms__sketches_free(struct ms_sketch *sk[MS_GROUP_COUNT],
                       const size_t nfeat[MS_GROUP_COUNT]);
/* acc's sketches (+)= sk (a unit's): 0 or MS_ENOMEM. */
int ms__accumulator_count(struct ms_accumulator *acc,
                          struct ms_sketch *const sk[MS_GROUP_COUNT]);
/* Fold nrecords records of group's partials (its nfeat moments each), in
 * order, into acc, and skipped rows into its count. */
void ms__accumulator_fold(struct ms_accumulator *acc, int group,
                          const struct ms_moments *records, size_t nrecords,
                          uint64_t skipped);
/* acc (+)= other, group by group, feature by feature, sketches too
 * when both have them: 0 or MS_ENOMEM. */
int ms__accumulator_merge(struct ms_accumulator *acc,
                          const struct ms_accumulator *other);
/* dst: a new accumulator with src's moments (not its sketches).  0 or
 * MS_ENOMEM. */
int ms__accumulator_copy(struct ms_accumulator *dst,
                         const struct ms_accumulator *src);

/* A result object with empty groups of nfeat features, for model and
 * opts; filled at the end of the pass by ms__stats_fill, which refuses
 * moments that overflowed (MS_EOVERFLOW, naming the feature) and then
 * fills nothing. */
int ms__stats_create(const char *path, const struct ms_options *opts,
                     const struct ms_model *model,
                     const size_t nfeat[MS_GROUP_COUNT],
                     struct ms_stats **out);
int ms__stats_fill(struct ms_stats *s, const struct ms_accumulator *acc,
                   struct ms_error *err);
/* diagnostics.c: the result's warnings from its statistics (quantiles
 * and per-sample reports where it has them): 0 or MS_ENOMEM. */
int ms__stats_diagnose(struct ms_stats *s);

/* What a writer of the result (fn: JSON, table, CSV, trace, page) writes
 * to out, with the calling thread in the C locale for it (c_locale.c):
 * the public ms_stats_write_* functions. */
int ms__stats_write_in_c(int (*fn)(const struct ms_stats *, FILE *),
                         const struct ms_stats *s, FILE *out);

/* The distributions a result keeps (ms_stats.sketches; stats.c frees
 * them with the result). */
struct ms_stats_sketches {
    size_t nfeat[MS_GROUP_COUNT];
    struct ms_sketch *sketch[MS_GROUP_COUNT];
};
/* quantiles.c: with quantiles, the result's quantiles from acc's
 * sketches, which the result then keeps (acc's are left empty): 0 or
 * MS_ENOMEM. */
int ms__stats_keep_sketches(struct ms_stats *s, struct ms_accumulator *acc,
                            double accuracy);
int ms__stats_add_skipped(struct ms_stats *s, int64_t id, const char *reason);
/* Keep one sample's statistics (in fold order, so id order): its id, N,
 * E and node timesteps used. */
int ms__stats_add_report(struct ms_stats *s, int64_t id, size_t N, size_t E,
                         size_t timesteps, const struct ms_accumulator *acc);

/* What became of each sample this process handled, in order: kept when
 * the samples are combined with other processes (mpi.c). */
struct ms_outcome {
    size_t sample;               /* plan index */
    bool used;
    struct ms_accumulator acc;   /* when used */
    char *reason;                /* when skipped */
};

struct ms_outcomes {
    struct ms_outcome *items;
    size_t count, cap;
};

/* Append sample's outcome: a copy of acc when it was used, else (acc
 * NULL) a copy of the reason it was skipped.  0 or MS_ENOMEM. */
int ms__outcomes_add(struct ms_outcomes *o, size_t sample,
                     const struct ms_accumulator *acc, const char *reason);
void ms__outcomes_finish(struct ms_outcomes *o);
/* trace.c: append an event to the result's timeline: 0 or MS_ENOMEM. */
int ms__trace_add(struct ms_stats *s, const struct ms_trace_event *e);

/* writeback_keep.c: close id (an hid_t) with close; where rc says the
 * work before failed, HDF5's error stack is kept (closing clears it) for
 * the message to quote.  Returns rc, or -1 if a close failed. */
int ms__close_keeping(int rc, int (*close)(int64_t), int64_t id);
/* What the old group (the path group in file) holds besides meshstats'
 * own names, into the new group params: an object only it links to
 * copied, one shared with the rest of the file linked again, links and
 * attributes as they are.  0, or < 0 with HDF5's error stack. */
int ms__keep_others(int64_t file, const char *group, int64_t params);

/* writeback_file.c: a file access property list (an hid_t) whose driver
 * reads and writes as sec2 does, except that the first failed write sets
 * *failed to its errno and drops every later one (reported to HDF5 as
 * done), so that the file keeps the writes before it.  -1 on failure.
 * Not direct: writes held until a flush and written then in an order
 * that leaves a good file after each, and made durable (a write-back);
 * direct: each written at once (a new file, generate/). */
int64_t ms__writeback_fapl(int *failed, bool direct);

/* writeback_swap.c: the link name in the group whose object header is
 * at group_addr, now naming old_addr, made to name new_addr instead by
 * one write (new_addr: a version 1 header counted once, unlinked); file
 * offsets are base + address.  For the classic format (version 0/1
 * superblock, 8-byte addresses, symbol-table groups, v1 object headers). */
struct ms_swap {
    uint64_t base, group_addr, old_addr, new_addr;
    uint64_t btree, heap; /* found from group_addr */
    const char *name;
};
int ms__swap_link(const char *path, const struct ms_swap *sw,
                  struct ms_error *err);

#endif /* MESHSTATS_RESULTS_H */
