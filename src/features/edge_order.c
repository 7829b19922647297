/*
 * edge_order.c: the order a large mesh's edges are computed in, and the
 * renumbering of its nodes row by row over a grid (edge_order.h says
 * what the order is).  Pure computation: the caller reads the edges and
 * the positions and hands them in blocks.
 */
#include "features/features.h"

#include <math.h>
#include <string.h>

#define SEG_MASK ((1u << MS_ORDER_SHIFT) - 1)

static size_t
segments(size_t N)
{
    return (N >> MS_ORDER_SHIFT) + 1;
}

static size_t
parts(size_t E)
{
    return E == 0 ? 1 : (E - 1) / MS_ORDER_PART + 1;
}

size_t
ms__order_bytes(size_t N, size_t E, bool keep)
{
    size_t total = (segments(N) + 1) * sizeof(size_t), list, nodes;
    if (!keep) {
        return total;
    }
    /* (N and E fit 32 bits: the sizes cannot overflow) */
    total += parts(E) * segments(N) * sizeof(uint32_t);
    if (ms__size_mul(E, sizeof(uint32_t) + sizeof(uint16_t), &list) != 0 ||
        ms__size_mul(N, sizeof(uint32_t), &nodes) != 0 ||
        ms__size_add(total, list, &total) != 0 ||
        ms__size_add(total, nodes, &total) != 0) {
        return 0;
    }
    return total;
}

int
ms__order_init(struct ms_edge_order *o, size_t N, size_t E, bool keep)
{
    *o = (struct ms_edge_order){
        .N = N, .E = E, .nseg = segments(N), .nparts = parts(E)};
    o->seg_start = ms__calloc(o->nseg + 1, sizeof(*o->seg_start));
    bool ok = o->seg_start != NULL;
    if (ok && keep) {
        o->sizes = ms__calloc(o->nparts * o->nseg, sizeof(*o->sizes));
        o->perm = ms__calloc(N ? N : 1, sizeof(*o->perm));
        o->high = ms__calloc(E ? E : 1, sizeof(*o->high));
        o->low = ms__calloc(E ? E : 1, sizeof(*o->low));
        ok = o->sizes != NULL && o->perm != NULL && o->high != NULL &&
             o->low != NULL;
        if (ok) { /* (looked up at random: every edge's two ends) */
            ms__advise_random_access(o->perm, N * sizeof(*o->perm));
        }
    }
    if (!ok) {
        ms__order_free(o);
        return MS_ENOMEM;
    }
    o->kept = keep;
    return 0;
}

void
ms__order_free(struct ms_edge_order *o)
{
    ms__free(o->seg_start);
    ms__free(o->sizes);
    ms__free(o->perm);
    ms__free(o->high);
    ms__free(o->low);
    ms__free(o->sort_count);
    memset(o, 0, sizeof(*o));
}

void
ms__order_prefault(struct ms_edge_order *o)
{
    if (o->kept) { /* (in the order renumbering writes them) */
        ms__prefault(o->perm, o->N * sizeof(*o->perm));
        ms__prefault(o->high, o->E * sizeof(*o->high));
        ms__prefault(o->low, o->E * sizeof(*o->low));
    }
}

void
ms__order_clear(struct ms_edge_order *o, size_t part)
{
    memset(o->sizes + part * o->nseg, 0, o->nseg * sizeof(*o->sizes));
}

void
ms__order_scan(const uint32_t *from, const uint32_t *to, size_t n,
               struct ms_order_scan *s)
{
    for (size_t e = 0; e < n; e++) {
        uint32_t i = from[e], j = to[e], lo = i < j ? i : j;
        s->far += (i > j ? i - j : j - i) >> MS_ORDER_SHIFT != 0;
        s->unordered |= lo < s->last;
        s->last = lo;
    }
}

/* A loop of nothing but the lookups, which land at random in the nodes'
 * places: with nothing else in flight the processor keeps the most of
 * them waiting on memory at once (with the count after it, 1.2 to 1.6
 * times the speed of the lookups made inside the counting loop:
 * bench/renumber_bench). */
void
ms__order_places(const struct ms_edge_order *o, const uint32_t *node,
                 uint32_t *place, size_t n)
{
    if (!o->renumbered) {
        if (place != node) {
            memcpy(place, node, n * sizeof(*place));
        }
        return;
    }
    const uint32_t *perm = o->perm;
    for (size_t i = 0; i < n; i++) {
        place[i] = perm[node[i]];
    }
}

void
ms__order_lend(struct ms_edge_order *o, void *const *room, size_t nroom,
               size_t bytes)
{
    size_t per = bytes / sizeof(*o->rec_a);
    o->rec_edges = nroom == 0 ? 0 : nroom == 1 ? per / 2 : per;
    o->rec_a = nroom > 0 ? room[0] : NULL;
    o->rec_b = nroom > 1    ? room[1]
               : nroom == 1 ? o->rec_a + o->rec_edges
                            : NULL;
}

bool
ms__order_in_room(const struct ms_edge_order *o, size_t e0, size_t n,
               uint32_t **a, uint32_t **b)
{
    if (e0 + n > o->rec_edges) {
        return false;
    }
    *a = o->rec_a + e0;
    *b = o->rec_b + e0;
    return true;
}

void
ms__order_count(struct ms_edge_order *o, size_t part, const uint32_t *a,
                const uint32_t *b, size_t n)
{
    uint32_t *size = o->sizes + part * o->nseg;
    for (size_t e = 0; e < n; e++) {
        size[(a[e] < b[e] ? a[e] : b[e]) >> MS_ORDER_SHIFT]++;
    }
}

void
ms__order_cursors(struct ms_edge_order *o, size_t part, size_t *cursor)
{
    size_t start = 0;
    for (size_t s = 0; s < o->nseg; s++) {
        if (part == 0) {
            o->seg_start[s] = start;
        }
        cursor[s] = start;
        for (size_t k = 0; k < o->nparts; k++) {
            size_t size = o->sizes[k * o->nseg + s];
            cursor[s] += k < part ? size : 0;
            start += size;
        }
    }
    if (part == 0) {
        o->seg_start[o->nseg] = start;
    }
}

void
ms__order_put(struct ms_edge_order *o, size_t *cursor, const uint32_t *a,
              const uint32_t *b, size_t n)
{
    for (size_t e = 0; e < n; e++) {
        uint32_t lo = a[e] < b[e] ? a[e] : b[e];
        size_t k = cursor[lo >> MS_ORDER_SHIFT]++;
        o->high[k] = a[e] < b[e] ? b[e] : a[e];
        o->low[k] = (uint16_t)(lo & SEG_MASK);
    }
}

void
ms__order_part_segments(const struct ms_edge_order *o, size_t part,
                        size_t *first, size_t *end)
{
    *first = o->nseg * part / o->nparts;
    *end = o->nseg * (part + 1) / o->nparts;
}

bool
ms__order_sort_segment(struct ms_edge_order *o, size_t s, void *tmp,
                       size_t tmp_bytes, uint32_t *counts)
{
    size_t k0 = o->seg_start[s], n = o->seg_start[s + 1] - k0;
    if (n * (sizeof(uint32_t) + sizeof(uint16_t)) > tmp_bytes) {
        return false;
    }
    uint32_t *high = tmp;
    uint16_t *low = (uint16_t *)(high + n);
    memcpy(high, o->high + k0, n * sizeof(*high));
    memcpy(low, o->low + k0, n * sizeof(*low));
    memset(counts, 0, ((size_t)SEG_MASK + 2) * sizeof(*counts));
    for (size_t i = 0; i < n; i++) {
        counts[(low[i] & SEG_MASK) + 1]++;
    }
    for (size_t v = 0; v <= SEG_MASK; v++) {
        counts[v + 1] += counts[v];
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = k0 + counts[low[i] & SEG_MASK]++;
        o->high[k] = high[i];
        o->low[k] = low[i];
    }
    return true;
}

/* The segment holding edge e of the order. */
static size_t
segment_of(const struct ms_edge_order *o, size_t e)
{
    size_t lo = 0, hi = o->nseg;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->seg_start[mid] <= e) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The lower endpoints of edges [k0, k1) of one segment: base + offset
 * (a loop the compiler vectorizes). */
static void
lower_run(const struct ms_edge_order *o, uint32_t base, size_t k0, size_t k1,
          uint32_t *lower)
{
    const uint16_t *low = o->low + k0;
    for (size_t i = 0; i < k1 - k0; i++) {
        lower[i] = base + low[i];
    }
}

void
ms__order_lower(const struct ms_edge_order *o, size_t e0, size_t n,
                uint32_t *lower)
{
    size_t k = e0, end = e0 + n;
    for (size_t s = segment_of(o, e0); k < end; s++) {
        size_t stop = o->seg_start[s + 1] < end ? o->seg_start[s + 1] : end;
        if (stop > k) {
            lower_run(o, (uint32_t)(s << MS_ORDER_SHIFT), k, stop,
                      lower + (k - e0));
            k = stop;
        }
    }
}

size_t
ms__order_node(const struct ms_edge_order *o, size_t p)
{
    for (size_t n = 0; o->renumbered && n < o->N; n++) {
        if (o->perm[n] == p) {
            return n;
        }
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* The renumbering: cells of a grid over the bounds, about one node each,
 * numbered row by row along the longest axis, as a structured mesh's
 * nodes are. */

void
ms__grid_init(struct ms_order_grid *g)
{
    memset(g, 0, sizeof(*g));
    for (size_t c = 0; c < 3; c++) {
        g->lo[c] = INFINITY;
        g->hi[c] = -INFINITY;
    }
}

/* The least and greatest finite value of n values of a row (lo, hi
 * unchanged if none), in four independent lanes so that the comparisons
 * do not wait on each other. */
#define BOUNDS_LANES 4
#define ROW_BOUNDS(NAME, T)                                                  \
    static void NAME(const T *v, size_t n, double *lo, double *hi)          \
    {                                                                        \
        T l[BOUNDS_LANES], h[BOUNDS_LANES];                                  \
        for (size_t k = 0; k < BOUNDS_LANES; k++) {                          \
            l[k] = (T)INFINITY;                                              \
            h[k] = (T)-INFINITY;                                             \
        }                                                                    \
        size_t i = 0;                                                        \
        for (; i + BOUNDS_LANES <= n; i += BOUNDS_LANES) {                   \
            for (size_t k = 0; k < BOUNDS_LANES; k++) {                      \
                T x = v[i + k];                                              \
                /* (NaN compares false; infinities are not bounds) */        \
                l[k] = x < l[k] && x != (T)-INFINITY ? x : l[k];             \
                h[k] = x > h[k] && x != (T)INFINITY ? x : h[k];              \
            }                                                                \
        }                                                                    \
        for (; i < n; i++) {                                                 \
            l[0] = v[i] < l[0] && v[i] != (T)-INFINITY ? v[i] : l[0];        \
            h[0] = v[i] > h[0] && v[i] != (T)INFINITY ? v[i] : h[0];         \
        }                                                                    \
        for (size_t k = 0; k < BOUNDS_LANES; k++) {                          \
            *lo = (double)l[k] < *lo ? (double)l[k] : *lo;                   \
            *hi = (double)h[k] > *hi ? (double)h[k] : *hi;                   \
        }                                                                    \
    }
ROW_BOUNDS(float_bounds, float)
ROW_BOUNDS(double_bounds, double)

void
ms__grid_extend(struct ms_order_grid *g, const struct ms_row x[3], size_t n)
{
    for (size_t c = 0; c < 3; c++) {
        double lo = INFINITY, hi = -INFINITY;
        if (x[c].f != NULL) {
            float_bounds(x[c].f, n, &lo, &hi);
        } else {
            double_bounds(x[c].d, n, &lo, &hi);
        }
        lo = lo < g->lo[c] ? lo : g->lo[c];
        hi = hi > g->hi[c] ? hi : g->hi[c];
        g->lo[c] = isfinite(lo) ? lo : g->lo[c];
        g->hi[c] = isfinite(hi) ? hi : g->hi[c];
    }
}

static double
extent(const struct ms_order_grid *g, size_t c)
{
    double w = g->hi[c] - g->lo[c];
    return w > 0 && isfinite(w) ? w : 0;
}

/* Where each axis's bits go in the key: the cells in rows along the axis
 * with the most bits (the longest), rows in planes along the next, planes
 * along the last (ties: the lower axis first). */
static void
grid_spread(struct ms_order_grid *g)
{
    size_t axes[3] = {0, 1, 2};
    for (size_t i = 1; i < 3; i++) {
        for (size_t j = i; j > 0 && g->bits[axes[j]] > g->bits[axes[j - 1]];
             j--) {
            size_t t = axes[j];
            axes[j] = axes[j - 1];
            axes[j - 1] = t;
        }
    }
    unsigned at = 0;
    for (size_t i = 0; i < 3; i++) {
        g->shift[axes[i]] = at;
        at += g->bits[axes[i]];
    }
}

unsigned
ms__grid_bits(size_t N, size_t E)
{
    /* About a cell a node: one more bit than N needs. */
    unsigned bits = 1;
    while (bits < 2 * MS_ORDER_DIGIT && ((size_t)1 << (bits - 1)) < N) {
        bits++;
    }
    unsigned most = E / 2 >= N ? 2 * MS_ORDER_DIGIT : MS_ORDER_DIGIT;
    return bits < most ? bits : most;
}

void
ms__grid_finish(struct ms_order_grid *g, unsigned bits)
{
    /* Each bit to the axis whose cells are widest. */
    for (unsigned k = 0; k < bits; k++) {
        size_t best = 3;
        double widest = 0;
        for (size_t c = 0; c < 3; c++) {
            double w = ldexp(extent(g, c), -(int)g->bits[c]);
            if (w > widest && g->bits[c] < 16) {
                widest = w;
                best = c;
            }
        }
        if (best == 3) {
            break; /* every coordinate the same: one cell */
        }
        g->bits[best]++;
        g->total++;
    }
    for (size_t c = 0; c < 3; c++) {
        double w = extent(g, c);
        g->scale[c] = w > 0 ? ldexp(1.0 / w, (int)g->bits[c]) : 0;
    }
    grid_spread(g);
}

/* The grid's numbers for one axis, copied out of it (so that the loops
 * below know the cells they write are not them). */
struct axis {
    double lo, scale, top;
    unsigned shift;
};

/* Cell coordinate of v along axis a, shifted to its place in the cell's
 * number: [0, 2^bits) (NaN at 0). */
static inline uint32_t
axis_step(struct axis a, double v)
{
    double q = (v - a.lo) * a.scale;
    q = q > 0 ? q : 0;
    q = q < a.top ? q : a.top;
    return (uint32_t)(int32_t)q << a.shift;
}

/* The cells of n nodes whose coordinates are rows of T: a loop the
 * compiler vectorizes. */
#define ROW_CELLS(NAME, T)                                                   \
    static void NAME(const struct axis a[3], const T *x, const T *y,         \
                     const T *z, size_t n, uint32_t *cell)                   \
    {                                                                        \
        struct axis a0 = a[0], a1 = a[1], a2 = a[2];                         \
        for (size_t i = 0; i < n; i++) {                                     \
            cell[i] = axis_step(a0, (double)x[i]) |                          \
                      axis_step(a1, (double)y[i]) |                          \
                      axis_step(a2, (double)z[i]);                           \
        }                                                                    \
    }
ROW_CELLS(float_cells, float)
ROW_CELLS(double_cells, double)

void
ms__grid_cells(const struct ms_order_grid *g, const struct ms_row x[3],
               size_t n, uint32_t *cell)
{
    struct axis a[3];
    for (size_t c = 0; c < 3; c++) {
        a[c] = (struct axis){g->lo[c], g->scale[c],
                             (double)((1u << g->bits[c]) - 1), g->shift[c]};
    }
    if (x[0].f != NULL && x[1].f != NULL && x[2].f != NULL) {
        float_cells(a, x[0].f, x[1].f, x[2].f, n, cell);
    } else if (x[0].d != NULL && x[1].d != NULL && x[2].d != NULL) {
        double_cells(a, x[0].d, x[1].d, x[2].d, n, cell);
    } else {
        for (size_t i = 0; i < n; i++) {
            cell[i] = axis_step(a[0], ms_row_at(x[0], i)) |
                      axis_step(a[1], ms_row_at(x[1], i)) |
                      axis_step(a[2], ms_row_at(x[2], i));
        }
    }
}
