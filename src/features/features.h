/*
 * features/features.h: the computation of the statistics, from rows of
 * values to mergeable moments: the kernels, the moments, the features of
 * one timestep, and (models.h) the models' tables.  No I/O, no locks.
 */
#ifndef MESHSTATS_FEATURES_H
#define MESHSTATS_FEATURES_H

#include "internal.h"


/* A row of values as read: float32 data stays float (f), anything wider is
 * double (d); exactly one is set.  Widening a float to double is exact, so
 * computing from either gives the same bits. */
struct ms_row {
    const float *f;
    const double *d;
};

static inline double
ms_row_at(struct ms_row r, size_t i)
{
    return r.f != NULL ? (double)r.f[i] : r.d[i];
}

#include "features/kernels.h"

/* ------------------------------------------------------------------ */
/* moments.c: mergeable moments (no I/O, no locks).
 *
 * The mean is kept as an unevaluated sum mean + mean_lo (a double-double), so
 * that folding thousands of partials around a large offset does not round the
 * mean once per merge: with values near 1e7 and a std near 10, a single double
 * ulp of the mean is already 1e-10 of the std. */

struct ms_moments {
    uint64_t count;
    double mean;    /* high part of the mean */
    double mean_lo; /* low part: the mean is mean + mean_lo */
    double m2;      /* sum of squared deviations from the mean */
    double min;
    double max;
};

/* The kernels this processor runs (kernels.c): AVX2's if it has them. */
const struct ms_kernels *ms__kernels(void);
void ms__moments_init(struct ms_moments *m);
/* Moments of n doubles (corrected two-pass); n may be 0. */
void ms__moments_of(struct ms_moments *m, const double *x, size_t n);
/* Moments of the x[i] whose keep[i] is set (x is compacted in place): a
 * group's values over its rows that are finite in every feature. */
void ms__moments_of_kept(struct ms_moments *m, double *x,
                         const unsigned char *keep, size_t n);
/* Moments of n values (x[i], y[i] - x[i] or y[i] - 2 x[i] + z[i]) of
 * rows, without storing them; of one row; of the differences. */
void ms__moments_of_values(struct ms_moments *m, const struct ms_values *v,
                           size_t n);
void ms__moments_of_row(struct ms_moments *m, struct ms_row x, size_t n);
void ms__moments_of_difference(struct ms_moments *m, struct ms_row x,
                               struct ms_row y, size_t n);
/* The cancellation factor above which shifted sums are recomputed around
 * the mean: m2 = s2 - s1^2/n loses about log2(s2 / m2) bits, so 1024 keeps
 * the error below 1e-12 relative whatever the data. */
#define MS_MAX_CANCELLATION 1024.0
/* Whether shifted sums s1, s2 over n values cancel too much to be used,
 * or overflowed where sums around the mean may not (s1 finite, s2 inf). */
bool ms__moments_cancels(uint64_t n, double s1, double s2);
/* Finish a block from the two-pass sums: shift (the provisional mean), the
 * sum and the sum of squares of (x - shift), min and max over n values. */
void ms__moments_from_sums(struct ms_moments *m, uint64_t n, double shift,
                          double sum_d, double sum_d2, double min,
                          double max);
/* Chan et al. pairwise merge: a becomes a (+) b.  b may alias a. */
void ms__moments_merge(struct ms_moments *a, const struct ms_moments *b);
/* The moments of the values together with their negations: count doubles,
 * the mean is exactly 0, min = -max. */
void ms__moments_symmetrize(struct ms_moments *m);
double ms__moments_mean(const struct ms_moments *m);
/* Population std; 0 for count 0. */
double ms__moments_std(const struct ms_moments *m);
bool ms__moments_finite(const struct ms_moments *m);

/* ------------------------------------------------------------------ */
/* The features of one timestep (features.c).  Pure computation: the caller
 * hands in the rows it read. */

/* The data a unit holds: rows 0..nrows-1 of nodal_data for nslots
 * timesteps of N nodes, at [(row * nslots + slot) * stride + n] of f or d
 * (stride >= N: a block may view part of the nodes a unit read). */
struct ms_block {
    const float *f;
    const double *d;
    size_t nrows;
    size_t nslots;
    size_t N;
    size_t stride;
};

static inline struct ms_row
ms_block_row(const struct ms_block *b, size_t row, size_t slot)
{
    size_t at = (row * b->nslots + slot) * b->stride;
    return b->f != NULL ? (struct ms_row){b->f + at, NULL}
                        : (struct ms_row){NULL, b->d + at};
}

/* Where a non-finite value was found, for the error message: a feature
 * row of the block, or (row MS_SITE_POSITION + c) coordinate c of a
 * node's deformed position, whose rows another unit may have read. */
struct ms_nonfinite_site {
    size_t row;
    size_t slot;
    size_t node;
    double value;
};

#define MS_SITE_POSITION ((size_t)1 << 20)

/* With quantiles, a mesh of at most this many edges has its r and |r|
 * counted from the columns the moments' pass leaves (features.c), not
 * gathered again: 32 bytes an edge and feature set in each unit. */
#define MS_COLUMN_EDGES 16384

/* Scratch a feature computation needs.  Owned by the caller. */
struct ms_feature_scratch {
    double *pos; /* 3 * N deformed positions, x, y, z per node */
    double *values; /* max(N, E), for the skip path and the sketches */
    unsigned char *mask; /* max(N, E) */
    double *edge_cols; /* with quantiles: a column of cols_edges values an
                        * edge feature, or NULL */
    size_t cols_edges;
    /* With quantiles: each group's sketches, one a feature, that the
     * values computed are counted into (NULL: not counted). */
    struct ms_sketch *sketch[MS_GROUP_COUNT];
};

/* Each returns 0, or MS_ENONFINITE with *site filled when skip is false and
 * a used value is not finite (MS_EOVERFLOW if the values are finite but
 * their moments overflow).  With skip, non-finite rows are left out and
 * counted in *skipped. */
int ms__node_features(const struct ms_block *b, size_t slot, unsigned nvar,
                      bool skip, struct ms_feature_scratch *scratch,
                      struct ms_moments *out, uint64_t *skipped,
                      struct ms_nonfinite_site *site);
/* A unit's node record of nfeat moments: ms__node_features' nvar input
 * columns (with zeros, as for a sample of one timestep, whose inputs the
 * training code feeds as 0: nvar columns of b->N zeros), then the
 * positional columns, left empty (their moments come once a sample). */
int ms__node_record(const struct ms_block *b, size_t slot, bool zeros,
                    unsigned nvar, size_t nfeat, bool skip,
                    struct ms_feature_scratch *scratch,
                    struct ms_moments *out, uint64_t *skipped,
                    struct ms_nonfinite_site *site);
/* positions.c: the deformed positions (rows 0..2 + rows 3..5), or with
 * reference the reference positions (rows 0..2), of the block's nodes at
 * slot, into pos[3n + c] for n < b->N. */
void ms__positions(const struct ms_block *b, size_t slot, bool reference,
                   double *pos);
/* The same values, written around the cache (non-temporal stores, in a
 * build for SSE2, as every x86-64 one is, without a sanitizer, which
 * would not see them; plain stores where pos is not 16-byte aligned): for
 * a buffer far larger than the cache, which other units read only after
 * the whole of it is written. */
void ms__positions_streamed(const struct ms_block *b, size_t slot,
                            bool reference, double *pos);
/* The same, node n to pos[3 place[n] + c]: a renumbered mesh's nodes
 * (edge_order.h). */
void ms__positions_placed(const struct ms_block *b, size_t slot,
                          bool reference, const uint32_t *place,
                          double *pos);
/* The edge features of edges (from[e], to[e]), e < E, both directions,
 * from positions pos (indexed by node): r and |r| into out[0..3], and,
 * when ref is not NULL, the same of the reference positions into
 * out[4..7].  A non-finite position is a site of row MS_SITE_POSITION + c
 * (+ 3 for a reference one). */
int ms__edge_features(const double *pos, const double *ref,
                      const uint32_t *from, const uint32_t *to, size_t E,
                      bool skip, struct ms_feature_scratch *scratch,
                      struct ms_moments *out, uint64_t *skipped,
                      struct ms_nonfinite_site *site);
/* next_slot == SIZE_MAX: the T == 1 rule (the delta is the value itself). */
int ms__delta_features(const struct ms_block *b, size_t slot,
                       size_t next_slot, unsigned nvar, bool skip,
                       struct ms_feature_scratch *scratch,
                       struct ms_moments *out, uint64_t *skipped,
                       struct ms_nonfinite_site *site);

/* positional.c: the positional node features of a mesh (docs/spec.md
 * section 2.1), P of them (1..MS_MAX_POSITIONAL), from the reference
 * positions pos (3 a node) and the E stored edges, into out[p * N + n];
 * scratch holds ms__positional_bytes(N, E) bytes. */
size_t ms__positional_bytes(size_t N, size_t E);
void ms__positional_features(const double *pos, size_t N,
                             const uint32_t *from, const uint32_t *to,
                             size_t E, unsigned P, void *scratch,
                             double *out);
/* The name of positional feature p: centroid_dist, mean_edge_len,
 * rwpe_2, rwpe_4, ... */
void ms__positional_name(size_t p, char *buf, size_t size);

#include "features/models.h"
#include "features/edge_order.h"
#include "features/sketch.h"

#endif /* MESHSTATS_FEATURES_H */
