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

/* Two-pass moments of y - x (or of x alone when y is NULL). */
static void
moments_of_difference(struct ms_moments *m, const double *x, const double *y,
                      size_t n)
{
    if (y == NULL) {
        ms__moments_of(m, x, n);
        return;
    }
    if (n == 0) {
        ms__moments_init(m);
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += y[i] - x[i];
    }
    double shift = sum / (double)n;
    double sd = 0.0, sd2 = 0.0, lo = y[0] - x[0], hi = lo;
    for (size_t i = 0; i < n; i++) {
        double v = y[i] - x[i];
        double d = v - shift;
        sd += d;
        sd2 += d * d;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    ms__moments_from_sums(m, n, shift, sd, sd2, lo, hi);
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
        moments_of_difference(&out[k], x, y, b->N);
    }
    struct feature_src src = {
        .kind = KIND_DELTA, .b = b, .slot = slot, .next_slot = next_slot};
    return check_finite(&src, nvar, skip, scratch, out, skipped, site);
}

/* One direction's moments of (rx, ry, rz, |r|) in two passes. */
static void
edge_moments_one_direction(const double *pos, size_t N, const uint32_t *edges,
                           size_t E, struct ms_moments out[4])
{
    const uint32_t *ei = edges, *ej = edges + E;
    const double *px = pos, *py = pos + N, *pz = pos + 2 * N;
    double sum[4] = {0, 0, 0, 0};
    for (size_t e = 0; e < E; e++) {
        uint32_t i = ei[e], j = ej[e];
        double rx = px[j] - px[i], ry = py[j] - py[i], rz = pz[j] - pz[i];
        sum[0] += rx;
        sum[1] += ry;
        sum[2] += rz;
        sum[3] += sqrt(rx * rx + ry * ry + rz * rz);
    }
    double shift[4], sd[4] = {0, 0, 0, 0}, sd2[4] = {0, 0, 0, 0};
    double lo[4], hi[4];
    for (int k = 0; k < 4; k++) {
        shift[k] = E ? sum[k] / (double)E : 0.0;
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (size_t e = 0; e < E; e++) {
        uint32_t i = ei[e], j = ej[e];
        double r[4];
        r[0] = px[j] - px[i];
        r[1] = py[j] - py[i];
        r[2] = pz[j] - pz[i];
        r[3] = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        for (int k = 0; k < 4; k++) {
            double d = r[k] - shift[k];
            sd[k] += d;
            sd2[k] += d * d;
            lo[k] = r[k] < lo[k] ? r[k] : lo[k];
            hi[k] = r[k] > hi[k] ? r[k] : hi[k];
        }
    }
    for (int k = 0; k < 4; k++) {
        ms__moments_from_sums(&out[k], E, shift[k], sd[k], sd2[k], lo[k],
                             hi[k]);
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
    edge_moments_one_direction(pos, N, edges, E, out);
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
