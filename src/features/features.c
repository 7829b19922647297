/*
 * features.c: the node, edge and delta features of one timestep of one
 * sample, summarised as moments (docs/spec.md section 2).
 *
 * Pure computation over rows another module read: no I/O, no allocation, no
 * locks; safe to call from any thread on distinct scratch.  The fast path
 * never tests values one by one: a non-finite input makes the block's
 * moments non-finite, and only then is the block scanned, either to name the
 * first bad value or, under skip, to recompute it without the bad rows.
 *
 * Edges: every stored edge counts in both directions.  The direction b->a
 * gives (-r, |r|) where a->b gives (r, |r|), so the moments of both are those
 * of one direction symmetrized (components: mean exactly 0) or merged with
 * themselves (length): exact, and half the gathers.  Edge features are
 * computed from deformed positions stored x, y, z per node (pos[3n + c]),
 * so that the two endpoints of an edge cost two cache lines, not six; the
 * positions are made from the rows by ms__positions (positions.c), by
 * whichever unit holds them (a whole timestep, or a block of nodes of a
 * large mesh).
 */
#include "features/features.h"

#include <math.h>

enum feature_kind { KIND_NODE, KIND_EDGE, KIND_DELTA };

/* What one feature computation looks at. */
struct feature_src {
    enum feature_kind kind;
    const struct ms_block *b;
    size_t slot, next_slot;
    const uint32_t *from, *to; /* edges: endpoint e is (from[e], to[e]) */
    size_t E;
    const double *pos; /* deformed positions, pos[3n + c] (edges only) */
    const double *ref; /* reference positions (edge_var 8), or NULL */
    const double *cols; /* edges: r and |r| of each set as the moments'
                         * pass computed them (cols[(4 set + k) E + e]),
                         * or NULL */
};

static size_t
feature_rows(const struct feature_src *src)
{
    return src->kind == KIND_EDGE ? src->E : src->b->N;
}

/* r = pos[b] - pos[a]: the relative vector of an edge. */
static inline void
relative(const double *pos, uint32_t a, uint32_t b, double r[3])
{
    const double *pa = pos + 3 * (size_t)a, *pb = pos + 3 * (size_t)b;
    r[0] = pb[0] - pa[0];
    r[1] = pb[1] - pa[1];
    r[2] = pb[2] - pa[2];
}

static inline double
edge_length(const double *pos, uint32_t a, uint32_t b)
{
    double r[3];
    relative(pos, a, b, r);
    return sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
}

/* Component k (3: the length) of edge e: of the deformed positions for
 * k < 4, of the reference ones (k - 4) above. */
static inline double
edge_value(const struct feature_src *src, size_t e, unsigned k)
{
    const double *pos = k < MS_EDGE_FEATURES ? src->pos : src->ref;
    k %= MS_EDGE_FEATURES;
    if (k == 3) {
        return edge_length(pos, src->from[e], src->to[e]);
    }
    double r[3];
    relative(pos, src->from[e], src->to[e], r);
    return r[k];
}

/* The values of feature k for every row, into values. */
static void
feature_values(const struct feature_src *src, unsigned k, double *values)
{
    if (src->kind == KIND_EDGE) {
        for (size_t e = 0; e < src->E; e++) {
            values[e] = edge_value(src, e, k);
        }
        return;
    }
    const struct ms_block *b = src->b;
    size_t N = b->N;
    if (src->kind == KIND_NODE) {
        struct ms_row x = ms_block_row(b, MS_ROW_DISPLACEMENT + k, src->slot);
        for (size_t n = 0; n < N; n++) {
            values[n] = ms_row_at(x, n);
        }
    } else if (src->kind == KIND_DELTA) {
        struct ms_row x = ms_block_row(b, MS_ROW_DISPLACEMENT + k, src->slot);
        if (src->next_slot == SIZE_MAX) {
            for (size_t n = 0; n < N; n++) {
                values[n] = ms_row_at(x, n);
            }
        } else {
            struct ms_row y =
                ms_block_row(b, MS_ROW_DISPLACEMENT + k, src->next_slot);
            for (size_t n = 0; n < N; n++) {
                values[n] = ms_row_at(y, n) - ms_row_at(x, n);
            }
        }
    }
}

/* The slow path: moments of each feature over the rows where every feature
 * is finite; the other rows are counted in *skipped. */
static int
moments_skipping(const struct feature_src *src, unsigned nfeat,
                 struct ms_feature_scratch *scratch, struct ms_moments *out,
                 uint64_t *skipped)
{
    size_t rows = feature_rows(src);
    unsigned char *mask = scratch->mask;
    double *values = scratch->values;
    for (size_t r = 0; r < rows; r++) {
        mask[r] = 1;
    }
    for (unsigned k = 0; k < nfeat; k++) {
        feature_values(src, k, values);
        for (size_t r = 0; r < rows; r++) {
            mask[r] &= (unsigned char)(isfinite(values[r]) != 0);
        }
    }
    size_t bad = 0;
    for (size_t r = 0; r < rows; r++) {
        bad += mask[r] == 0;
    }
    *skipped += bad;
    for (unsigned k = 0; k < nfeat; k++) {
        feature_values(src, k, values);
        ms__moments_of_kept(&out[k], values, mask, rows);
        if (!ms__moments_finite(&out[k])) {
            return MS_EOVERFLOW;
        }
    }
    return 0;
}

/* Find the first non-finite value among rows [row0, row1) at slot, over the
 * nodes listed (or all nodes when nodes is NULL). */
static bool
find_nonfinite(const struct ms_block *b, size_t row0, size_t row1, size_t slot,
               const size_t *nodes, size_t nnodes,
               struct ms_nonfinite_site *site)
{
    size_t count = nodes != NULL ? nnodes : b->N;
    for (size_t row = row0; row < row1; row++) {
        struct ms_row x = ms_block_row(b, row, slot);
        for (size_t i = 0; i < count; i++) {
            size_t n = nodes != NULL ? nodes[i] : i;
            double v = ms_row_at(x, n);
            if (!isfinite(v)) {
                *site = (struct ms_nonfinite_site){row, slot, n, v};
                return true;
            }
        }
    }
    return false;
}

/* Name the first non-finite input behind non-finite moments, or report an
 * overflow of finite values. */
static int
locate_nonfinite(const struct feature_src *src, unsigned nfeat,
                 struct ms_nonfinite_site *site)
{
    const struct ms_block *b = src->b;
    size_t lo = MS_ROW_DISPLACEMENT, hi = MS_ROW_DISPLACEMENT + nfeat;
    if (src->kind == KIND_EDGE) {
        /* The first endpoint whose position is not finite: its rows are
         * not at hand (a large mesh's were read by another unit), so the
         * site names the node and the coordinate (3 + c: of the reference
         * positions). */
        for (size_t e = 0; e < src->E; e++) {
            uint32_t ends[2] = {src->from[e], src->to[e]};
            for (size_t set = 0; set < 2; set++) {
                const double *pos = set ? src->ref : src->pos;
                for (int i = 0; pos != NULL && i < 2; i++) {
                    const double *p = pos + 3 * (size_t)ends[i];
                    for (size_t c = 0; c < 3; c++) {
                        if (!isfinite(p[c])) {
                            *site = (struct ms_nonfinite_site){
                                MS_SITE_POSITION + 3 * set + c, src->slot,
                                ends[i], p[c]};
                            return MS_ENONFINITE;
                        }
                    }
                }
            }
        }
        return MS_EOVERFLOW;
    }
    if (find_nonfinite(b, lo, hi, src->slot, NULL, 0, site)) {
        return MS_ENONFINITE;
    }
    if (src->kind == KIND_DELTA && src->next_slot != SIZE_MAX &&
        find_nonfinite(b, lo, hi, src->next_slot, NULL, 0, site)) {
        return MS_ENONFINITE;
    }
    return MS_EOVERFLOW;
}

/* Count n values (a row as it is, or the differences of two rows, as
 * feature_values computes them), without storing them first: the
 * kernel's loop, and the sketch's own for a value outside its window. */
static int
count_into(struct ms_sketch *s, const struct ms_values *v, size_t n)
{
    size_t (*count)(const struct ms_values *, size_t, size_t,
                    struct ms_sketch_cursor *) = ms__kernels()->count;
    struct ms_sketch_cursor c = {.zeros = 0};
    int rc = 0;
    ms__sketch_cursor_load(&c, s);
    for (size_t i = 0; rc == 0 && (i = count(v, i, n, &c)) < n; i++) {
        rc = ms__sketch_cursor_add(&c, s, ms_values_at(v, i));
    }
    ms__sketch_cursor_end(&c, s);
    return rc;
}

/* Count each edge's r and |r| (of the deformed positions, then of the
 * reference ones) once: r stands for itself and its negation (the other
 * direction), |r| for itself twice.  Every edge's: from the columns the
 * moments' pass left; some edges' (mask): with one gather an edge. */
static int
count_edges(const struct feature_src *src, unsigned nfeat,
            const unsigned char *mask, struct ms_sketch *sk)
{
    for (unsigned k = 0; k < nfeat; k++) {
        sk[k].kind = k % MS_EDGE_FEATURES == 3 ? MS_SKETCH_DOUBLED
                                               : MS_SKETCH_MIRRORED;
    }
    int rc = 0;
    if (mask == NULL && src->cols != NULL) {
        for (unsigned k = 0; rc == 0 && k < nfeat; k++) {
            struct ms_values col = {.kind = MS_VALUES_ROW,
                                    .x = {.d = src->cols + k * src->E}};
            rc = count_into(&sk[k], &col, src->E);
        }
        return rc != 0 ? MS_ENOMEM : 0;
    }
    for (unsigned set = 0; set < nfeat / MS_EDGE_FEATURES; set++) {
        const double *pos = set ? src->ref : src->pos;
        const uint32_t *from = src->from, *to = src->to;
        struct ms_sketch *s = sk + set * MS_EDGE_FEATURES;
        struct ms_sketch_cursor c[MS_EDGE_FEATURES] = {{.zeros = 0}};
        for (int k = 0; k < MS_EDGE_FEATURES; k++) {
            ms__sketch_cursor_load(&c[k], &s[k]);
        }
        for (size_t e = 0, E = src->E; rc == 0 && e < E; e++) {
            if (mask != NULL && !mask[e]) {
                continue;
            }
            double r[3];
            relative(pos, from[e], to[e], r);
            double len = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
            rc = ms__sketch_cursor_add(&c[0], &s[0], r[0]) |
                 ms__sketch_cursor_add(&c[1], &s[1], r[1]) |
                 ms__sketch_cursor_add(&c[2], &s[2], r[2]) |
                 ms__sketch_cursor_add(&c[3], &s[3], len);
        }
        for (int k = 0; k < MS_EDGE_FEATURES; k++) {
            ms__sketch_cursor_end(&c[k], &s[k]);
        }
    }
    return rc != 0 ? MS_ENOMEM : 0;
}


/* Count the values of the group's rows (those whose mask is set, when
 * masked) into its sketches. */
static int
count_values(const struct feature_src *src, unsigned nfeat, bool masked,
             struct ms_feature_scratch *scratch)
{
    static const enum ms_group_kind group[] = {MS_GROUP_NODE, MS_GROUP_EDGE,
                                               MS_GROUP_DELTA};
    struct ms_sketch *sk = scratch->sketch[group[src->kind]];
    const unsigned char *mask = masked ? scratch->mask : NULL;
    if (sk == NULL || src->kind == KIND_EDGE) {
        return sk == NULL ? 0 : count_edges(src, nfeat, mask, sk);
    }
    int rc = 0;
    for (unsigned k = 0; rc == 0 && k < nfeat; k++) {
        struct ms_row x =
            ms_block_row(src->b, MS_ROW_DISPLACEMENT + k, src->slot);
        bool diff = src->kind == KIND_DELTA && src->next_slot != SIZE_MAX;
        if (mask == NULL) {
            struct ms_values v = {.kind = diff ? MS_VALUES_DIFF : MS_VALUES_ROW,
                                  .x = x};
            if (diff) {
                v.y = ms_block_row(src->b, MS_ROW_DISPLACEMENT + k,
                                   src->next_slot);
            }
            rc = count_into(&sk[k], &v, src->b->N);
            continue;
        }
        feature_values(src, k, scratch->values);
        rc = ms__sketch_add_values(&sk[k], scratch->values, src->b->N, mask,
                                   1);
    }
    return rc;
}

/* After the fast path: all finite, or the slow path, or an error; then
 * the values counted into the sketches. */
static int
check_finite(const struct feature_src *src, unsigned nfeat, bool skip,
             struct ms_feature_scratch *scratch, struct ms_moments *out,
             uint64_t *skipped, struct ms_nonfinite_site *site)
{
    bool finite = true;
    for (unsigned k = 0; k < nfeat; k++) {
        finite = finite && ms__moments_finite(&out[k]);
    }
    int rc = 0;
    if (!finite) {
        rc = skip ? moments_skipping(src, nfeat, scratch, out, skipped)
                  : locate_nonfinite(src, nfeat, site);
    }
    return rc != 0 ? rc : count_values(src, nfeat, !finite, scratch);
}

int
ms__node_features(const struct ms_block *b, size_t slot, unsigned nvar,
                  bool skip, struct ms_feature_scratch *scratch,
                  struct ms_moments *out, uint64_t *skipped,
                  struct ms_nonfinite_site *site)
{
    for (unsigned k = 0; k < nvar; k++) {
        ms__moments_of_row(
            &out[k], ms_block_row(b, MS_ROW_DISPLACEMENT + k, slot), b->N);
    }
    struct feature_src src = {.kind = KIND_NODE, .b = b, .slot = slot};
    return check_finite(&src, nvar, skip, scratch, out, skipped, site);
}

int
ms__delta_features(const struct ms_block *b, size_t slot, size_t next_slot,
                   unsigned nvar, bool skip, struct ms_feature_scratch *scratch,
                   struct ms_moments *out, uint64_t *skipped,
                   struct ms_nonfinite_site *site)
{
    for (unsigned k = 0; k < nvar; k++) {
        struct ms_row x = ms_block_row(b, MS_ROW_DISPLACEMENT + k, slot);
        if (next_slot == SIZE_MAX) {
            ms__moments_of_row(&out[k], x, b->N);
        } else {
            struct ms_row y =
                ms_block_row(b, MS_ROW_DISPLACEMENT + k, next_slot);
            ms__moments_of_difference(&out[k], x, y, b->N);
        }
    }
    struct feature_src src = {
        .kind = KIND_DELTA, .b = b, .slot = slot, .next_slot = next_slot};
    return check_finite(&src, nvar, skip, scratch, out, skipped, site);
}

/* The edge features of one direction, in the form the both-direction step
 * expects.  Over both directions the mean of each r component is exactly
 * 0, so its exact sum of squared deviations is twice the one-direction sum
 * of squares: no shift needed, reported as moments with mean 0,
 * m2 = sum r^2 and min/max = -/+ max |r| (which the symmetrizing step then
 * doubles).  |r| has a real mean: its sums are shifted by the first edge's
 * length, and if that proves too far from the mean, the edges are passed
 * over again around the mean found (as moments.c does for a block). */
static void
edge_moments_one_direction(const double *pos, const uint32_t *from,
                           const uint32_t *to, size_t E, double *cols,
                           struct ms_moments out[4])
{
    for (int k = 0; k < 4; k++) {
        ms__moments_init(&out[k]);
    }
    if (E == 0) {
        return;
    }
    double first = edge_length(pos, from[0], to[0]), shift = first;
    struct ms_edge_sums (*pass)(const double *, const uint32_t *,
                                const uint32_t *, size_t, double, double,
                                double *) = ms__kernels()->edges;
    struct ms_edge_sums S = pass(pos, from, to, E, shift, first, cols);
    if (ms__moments_cancels(E, S.s1, S.s2)) {
        shift += S.s1 / (double)E;
        S = pass(pos, from, to, E, shift, first, NULL);
    }
    ms__moments_from_sums(&out[3], E, shift, S.s1, S.s2, S.lo, S.hi);
    for (int k = 0; k < 3; k++) {
        out[k].count = E;
        out[k].m2 = S.sq[k];
        out[k].min = -S.big[k];
        out[k].max = S.big[k];
    }
}

/* From one direction's moments to both directions'. */
static void
edge_moments_both_directions(struct ms_moments out[4])
{
    for (int k = 0; k < 3; k++) {
        ms__moments_symmetrize(&out[k]);
    }
    ms__moments_merge(&out[3], &out[3]);
}

int
ms__edge_features(const double *pos, const double *ref, const uint32_t *from,
                  const uint32_t *to, size_t E, bool skip,
                  struct ms_feature_scratch *scratch, struct ms_moments *out,
                  uint64_t *skipped, struct ms_nonfinite_site *site)
{
    unsigned nfeat = ref != NULL ? 2 * MS_EDGE_FEATURES : MS_EDGE_FEATURES;
    /* (counted from what this pass computes, where they fit) */
    double *cols = scratch->sketch[MS_GROUP_EDGE] != NULL &&
                           E <= scratch->cols_edges
                       ? scratch->edge_cols
                       : NULL;
    edge_moments_one_direction(pos, from, to, E, cols, out);
    if (ref != NULL) {
        edge_moments_one_direction(ref, from, to, E,
                                   cols ? cols + MS_EDGE_FEATURES * E : NULL,
                                   out + MS_EDGE_FEATURES);
    }
    /* An edge with any feature not finite is left out of all of them, so
     * the group's counts stay equal. */
    struct feature_src src = {.kind = KIND_EDGE,
                              .from = from,
                              .to = to,
                              .E = E,
                              .pos = pos,
                              .ref = ref,
                              .cols = cols};
    uint64_t bad = 0;
    int rc = check_finite(&src, nfeat, skip, scratch, out, &bad, site);
    if (rc != 0) {
        return rc;
    }
    *skipped += 2 * bad; /* a bad stored edge is two bad rows */
    edge_moments_both_directions(out);
    if (ref != NULL) {
        edge_moments_both_directions(out + MS_EDGE_FEATURES);
    }
    return 0;
}

int
ms__node_record(const struct ms_block *b, size_t slot, bool zeros,
                unsigned nvar, size_t nfeat, bool skip,
                struct ms_feature_scratch *scratch, struct ms_moments *out,
                uint64_t *skipped, struct ms_nonfinite_site *site)
{
    int rc = 0;
    if (zeros) {
        struct ms_sketch *sk = scratch->sketch[MS_GROUP_NODE];
        for (unsigned c = 0; c < nvar; c++) {
            ms__moments_from_sums(&out[c], b->N, 0.0, 0.0, 0.0, 0.0, 0.0);
            if (sk != NULL) {
                sk[c].zeros += b->N;
            }
        }
    } else {
        rc = ms__node_features(b, slot, nvar, skip, scratch, out, skipped,
                               site);
    }
    for (size_t c = nvar; c < nfeat; c++) {
        ms__moments_init(&out[c]);
    }
    return rc;
}
