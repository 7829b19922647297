/*
 * features.c: the node, edge and delta features of one timestep of one
 * sample, summarised as moments (SPEC section 2).
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
 * themselves (length): exact, and half the gathers.
 */
#include "internal.h"

#include <math.h>

enum feature_kind { KIND_NODE, KIND_EDGE, KIND_DELTA };

/* What one feature computation looks at. */
struct feature_src {
    enum feature_kind kind;
    const struct ms_block *b;
    size_t slot, next_slot;
    const uint32_t *edges;
    size_t E;
    const double *pos; /* 3 * N deformed positions (edges only) */
};

static size_t
feature_rows(const struct feature_src *src)
{
    return src->kind == KIND_EDGE ? src->E : src->b->N;
}

/* The values of feature k for every row, into values. */
static void
feature_values(const struct feature_src *src, unsigned k, double *values)
{
    const struct ms_block *b = src->b;
    size_t N = b->N;
    if (src->kind == KIND_NODE) {
        const double *x = ms_block_row(b, MS_ROW_DISPLACEMENT + k, src->slot);
        for (size_t n = 0; n < N; n++) {
            values[n] = x[n];
        }
    } else if (src->kind == KIND_DELTA) {
        const double *x = ms_block_row(b, MS_ROW_DISPLACEMENT + k, src->slot);
        if (src->next_slot == SIZE_MAX) {
            for (size_t n = 0; n < N; n++) {
                values[n] = x[n];
            }
        } else {
            const double *y =
                ms_block_row(b, MS_ROW_DISPLACEMENT + k, src->next_slot);
            for (size_t n = 0; n < N; n++) {
                values[n] = y[n] - x[n];
            }
        }
    } else {
        const uint32_t *ei = src->edges, *ej = src->edges + src->E;
        const double *px = src->pos, *py = px + N, *pz = py + N;
        for (size_t e = 0; e < src->E; e++) {
            uint32_t i = ei[e], j = ej[e];
            double rx = px[j] - px[i], ry = py[j] - py[i], rz = pz[j] - pz[i];
            values[e] = k == 0   ? rx
                        : k == 1 ? ry
                        : k == 2 ? rz
                                 : sqrt(rx * rx + ry * ry + rz * rz);
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
        size_t kept = 0;
        for (size_t r = 0; r < rows; r++) {
            if (mask[r]) {
                values[kept++] = values[r];
            }
        }
        ms__moments_of(&out[k], values, kept);
        if (!ms__moments_finite(&out[k])) {
            return MS_EOVERFLOW;
        }
    }
    return 0;
}

/* Find the first non-finite value among rows [row0, row1) at slot, over the
 * nodes listed (or all nodes when nodes is NULL). */
static bool
find_nonfinite(const struct ms_block *b, size_t row0, size_t row1,
               size_t slot, const size_t *nodes, size_t nnodes,
               struct ms_nonfinite_site *site)
{
    size_t count = nodes != NULL ? nnodes : b->N;
    for (size_t row = row0; row < row1; row++) {
        const double *x = ms_block_row(b, row, slot);
        for (size_t i = 0; i < count; i++) {
            size_t n = nodes != NULL ? nodes[i] : i;
            if (!isfinite(x[n])) {
                *site = (struct ms_nonfinite_site){row, slot, n, x[n]};
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
        const uint32_t *ei = src->edges, *ej = src->edges + src->E;
        for (size_t e = 0; e < src->E; e++) {
            size_t ends[2] = {ei[e], ej[e]};
            if (find_nonfinite(b, MS_ROW_POSITION, MS_MIN_FEATURE_ROWS,
                               src->slot, ends, 2, site)) {
                return MS_ENONFINITE;
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

/* After the fast path: all finite, or the slow path, or an error. */
static int
check_finite(const struct feature_src *src, unsigned nfeat, bool skip,
             struct ms_feature_scratch *scratch, struct ms_moments *out,
             uint64_t *skipped, struct ms_nonfinite_site *site)
{
    bool finite = true;
    for (unsigned k = 0; k < nfeat; k++) {
        finite = finite && ms__moments_finite(&out[k]);
    }
    if (finite) {
        return 0;
    }
    if (skip) {
        return moments_skipping(src, nfeat, scratch, out, skipped);
    }
    return locate_nonfinite(src, nfeat, site);
}

int
ms__node_features(const struct ms_block *b, size_t slot, unsigned nvar,
                  bool skip, struct ms_feature_scratch *scratch,
                  struct ms_moments *out, uint64_t *skipped,
                  struct ms_nonfinite_site *site)
{
    for (unsigned k = 0; k < nvar; k++) {
        ms__moments_of(&out[k], ms_block_row(b, MS_ROW_DISPLACEMENT + k, slot),
                      b->N);
    }
    struct feature_src src = {.kind = KIND_NODE, .b = b, .slot = slot};
    return check_finite(&src, nvar, skip, scratch, out, skipped, site);
}

int
ms__delta_features(const struct ms_block *b, size_t slot, size_t next_slot,
                   unsigned nvar, bool skip,
                   struct ms_feature_scratch *scratch, struct ms_moments *out,
                   uint64_t *skipped, struct ms_nonfinite_site *site)
{
    for (unsigned k = 0; k < nvar; k++) {
        const double *x = ms_block_row(b, MS_ROW_DISPLACEMENT + k, slot);
        const double *y =
            next_slot == SIZE_MAX
                ? NULL
                : ms_block_row(b, MS_ROW_DISPLACEMENT + k, next_slot);
        if (y == NULL) {
            ms__moments_of(&out[k], x, b->N);
        } else {
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
 * of squares: one pass, no provisional mean, reported as moments with mean
 * 0, m2 = sum r^2 and min/max = -/+ max |r| (which the symmetrizing step
 * then doubles).  |r| has a real mean: each chunk of lengths is stored and
 * summarised by the two-pass, and chunks are merged in order.  Two edges at
 * a time, lane by lane, so the order of operations is fixed. */
static void
edge_moments_one_direction(const double *pos, size_t N, const uint32_t *edges,
                           size_t E, double *len, struct ms_moments out[4])
{
    const uint32_t *ei = edges, *ej = edges + E;
    const double *px = pos, *py = pos + N, *pz = pos + 2 * N;
    ms_v2d zero = {0, 0}, sq[3] = {zero, zero, zero}, big[3] = {zero, zero,
                                                                 zero};
    ms__moments_init(&out[3]);
    for (size_t e0 = 0; e0 < E; e0 += MS_EDGE_CHUNK) {
        size_t n = E - e0 < MS_EDGE_CHUNK ? E - e0 : MS_EDGE_CHUNK;
        const uint32_t *a = ei + e0, *b = ej + e0;
        size_t e = 0;
        for (; e + 2 <= n; e += 2) {
            ms_v2d d[3] = {
                (ms_v2d){px[b[e]] - px[a[e]], px[b[e + 1]] - px[a[e + 1]]},
                (ms_v2d){py[b[e]] - py[a[e]], py[b[e + 1]] - py[a[e + 1]]},
                (ms_v2d){pz[b[e]] - pz[a[e]], pz[b[e + 1]] - pz[a[e + 1]]},
            };
            ms_v2d sum = zero;
            for (int k = 0; k < 3; k++) {
                ms_v2d d2 = d[k] * d[k];
                sq[k] += d2;
                sum += d2;
                big[k] = ms_v2d_max(ms_v2d_max(d[k], -d[k]), big[k]);
            }
            ms_v2d r = ms_v2d_sqrt(sum);
            __builtin_memcpy(len + e, &r, sizeof(r));
        }
        for (; e < n; e++) {
            double d[3] = {px[b[e]] - px[a[e]], py[b[e]] - py[a[e]],
                           pz[b[e]] - pz[a[e]]};
            double sum = 0;
            for (int k = 0; k < 3; k++) {
                double d2 = d[k] * d[k], m = d[k] > -d[k] ? d[k] : -d[k];
                sq[k][0] += d2;
                sum += d2;
                big[k][0] = m > big[k][0] ? m : big[k][0];
            }
            len[e] = sqrt(sum);
        }
        struct ms_moments part;
        ms__moments_of(&part, len, n);
        ms__moments_merge(&out[3], &part);
    }
    for (int k = 0; k < 3; k++) {
        double m = big[k][0] > big[k][1] ? big[k][0] : big[k][1];
        ms__moments_init(&out[k]);
        if (E > 0) {
            out[k].count = E;
            out[k].m2 = sq[k][0] + sq[k][1];
            out[k].min = -m;
            out[k].max = m;
        }
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
ms__edge_features(const struct ms_block *b, size_t slot,
                  const uint32_t *edges, size_t E, bool skip,
                  struct ms_feature_scratch *scratch,
                  struct ms_moments out[MS_EDGE_FEATURES], uint64_t *skipped,
                  struct ms_nonfinite_site *site)
{
    size_t N = b->N;
    double *pos = scratch->pos;
    for (size_t c = 0; c < 3; c++) {
        const double *ref = ms_block_row(b, MS_ROW_POSITION + c, slot);
        const double *disp = ms_block_row(b, MS_ROW_DISPLACEMENT + c, slot);
        double *p = pos + c * N;
        for (size_t n = 0; n < N; n++) {
            p[n] = ref[n] + disp[n];
        }
    }
    edge_moments_one_direction(pos, N, edges, E, scratch->edge_chunk, out);
    struct feature_src src = {.kind = KIND_EDGE,
                              .b = b,
                              .slot = slot,
                              .edges = edges,
                              .E = E,
                              .pos = pos};
    uint64_t bad = 0;
    int rc = check_finite(&src, MS_EDGE_FEATURES, skip, scratch, out, &bad,
                          site);
    if (rc != 0) {
        return rc;
    }
    *skipped += 2 * bad; /* a bad stored edge is two bad rows */
    edge_moments_both_directions(out);
    return 0;
}
