/*
 * renumber_bench.c: the renumbering of a large mesh's nodes in its steps
 * (features/edge_order.c): the grid's bounds, every node's cell, the sort
 * by cell into places; then the placing's lookups of 3 NODES edges' ends
 * (random nodes) in those places, by blocks of MS_ORDER_READ_BLOCK as the
 * pass reads them, and their count into segments, against the same
 * lookups made inside the counting loop (as placing made them until
 * 2026-12-07).  Last, one timestep's deformed positions (reference plus
 * displacement) written as a NODES unit of one node block writes them
 * (ms__positions, called from pass/unit.c): in stored order, as for a
 * mesh kept in its numbering (plainly, and around the cache as the pass
 * writes a mesh this large: ms__positions_streamed), and at the
 * renumbering's places, as for a mesh numbered at random; their
 * difference is what such a mesh pays every timestep whatever its edges'
 * order.  And first, once, the first write of a fresh buffer the size of
 * a position buffer, in huge pages as the pass asks and in ordinary ones:
 * what the machine charges for memory the pass has not written yet.
 *
 *   renumber_bench [NODES [REPEAT]]
 *
 * NODES (default 2,000,000) random float32 positions in a 1 x 1 x 0.1 box
 * (and random displacements in a unit box, for the last step), read by
 * blocks of MS_NODE_BLOCK as the pass reads them; each step timed
 * REPEAT times (default 15), the best printed in milliseconds, with a hash
 * of the cells (the same hash: the same numbering).  No file is read: this
 * times the arithmetic alone.  Links the internal library.  Never run by
 * meson test.
 */
#include "pass/pass.h" /* (MS_NODE_BLOCK, MS_ORDER_READ_BLOCK) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void
blocks(const struct ms_order_grid *g, float *p[3], size_t N, uint32_t *cell)
{
    for (size_t n0 = 0; n0 < N; n0 += MS_NODE_BLOCK) {
        size_t n = N - n0 < MS_NODE_BLOCK ? N - n0 : MS_NODE_BLOCK;
        struct ms_row x[3] = {
            {p[0] + n0, NULL}, {p[1] + n0, NULL}, {p[2] + n0, NULL}};
        if (cell == NULL) {
            ms__grid_extend((struct ms_order_grid *)g, x, n);
        } else {
            ms__grid_cells(g, x, n, cell + n0);
        }
    }
}

/* The placing's lookups and count of E edges' ends, by blocks: lookups in
 * a loop of their own, then the count (split), or both in one loop. */
static void
lookups(struct ms_edge_order *o, const uint32_t *from, const uint32_t *to,
        size_t E, bool split, uint32_t *a, uint32_t *b)
{
    ms__order_clear(o, 0);
    uint32_t *size = o->sizes;
    for (size_t e0 = 0; e0 < E; e0 += MS_ORDER_READ_BLOCK) {
        size_t n = E - e0 < MS_ORDER_READ_BLOCK ? E - e0 : MS_ORDER_READ_BLOCK;
        if (split) {
            ms__order_places(o, from + e0, a, n);
            ms__order_places(o, to + e0, b, n);
            ms__order_count(o, 0, a, b, n);
            continue;
        }
        for (size_t e = e0; e < e0 + n; e++) {
            uint32_t pa = o->perm[from[e]], pb = o->perm[to[e]];
            size[(pa < pb ? pa : pb) >> MS_ORDER_SHIFT]++;
        }
    }
}

/* The best of `repeat` runs of both ways of the lookups, in ms. */
static void
time_lookups(struct ms_edge_order *o, int repeat, double best[2])
{
    size_t E = o->E;
    uint32_t *from = malloc(E * sizeof(*from)), *to = malloc(E * sizeof(*to));
    uint32_t *a = malloc(MS_ORDER_READ_BLOCK * sizeof(*a));
    uint32_t *b = malloc(MS_ORDER_READ_BLOCK * sizeof(*b));
    uint64_t s = 7;
    for (size_t e = 0; e < E; e++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        from[e] = (uint32_t)(s % o->N);
        to[e] = (uint32_t)((s >> 32) % o->N);
    }
    best[0] = best[1] = 1e9;
    for (int r = 0; r < repeat; r++) {
        for (int split = 0; split < 2; split++) {
            double t0 = now();
            lookups(o, from, to, E, split, a, b);
            double t = now() - t0;
            best[split] = t < best[split] ? t : best[split];
        }
    }
    free(from);
    free(to);
    free(a);
    free(b);
}

/* The best of `repeat` runs of one timestep's positions from the rows
 * (6 rows of N float32, one after another, as nodal_data stores a
 * timestep's), by blocks of MS_NODE_BLOCK nodes as a NODES unit of one
 * block writes them (pass/unit.c), straight from the rows: best[0] in
 * stored order, best[1] at the places perm gives, best[2] in stored order
 * around the cache, in ms.  The buffer is written once first: the pass's
 * position buffers are written before any positions go in (they are lent
 * to the placing's count). */
static void
time_positions(const float *rows, size_t N, const uint32_t *perm, int repeat,
               double best[3])
{
    double *pos = ms__malloc(3 * N * sizeof(double));
    ms__advise_random_access(pos, 3 * N * sizeof(double)); /* as the pass */
    memset(pos, 0, 3 * N * sizeof(double));
    best[0] = best[1] = best[2] = 1e9;
    for (int r = 0; r < repeat; r++) {
        for (int placed = 0; placed < 3; placed++) {
            double t0 = now();
            for (size_t n0 = 0; n0 < N; n0 += MS_NODE_BLOCK) {
                size_t n = N - n0 < MS_NODE_BLOCK ? N - n0 : MS_NODE_BLOCK;
                struct ms_block b = {.f = rows + n0,
                                     .nrows = 6,
                                     .nslots = 1,
                                     .N = n,
                                     .stride = N};
                if (placed == 1) {
                    ms__positions_placed(&b, 0, false, perm + n0, pos);
                } else if (placed == 2) {
                    ms__positions_streamed(&b, 0, false, pos + 3 * n0);
                } else {
                    ms__positions(&b, 0, false, pos + 3 * n0);
                }
            }
            double t = now() - t0;
            best[placed] = t < best[placed] ? t : best[placed];
        }
    }
    ms__free(pos);
}

/* The first writes of fresh buffers of `bytes`, one byte a page (what
 * the placing's count does to the position buffers lent to it, or a
 * mesh's first NODES units): FRESH of them in 2 MiB pages, asked for as
 * the pass asks (pass/pass_buffers.c), into t[0..FRESH), then FRESH in 4
 * KiB pages into t[FRESH..), in ms, one after another.  All are held until
 * the last is written, so none is an earlier one's memory given back.
 * Run before anything else: a VM may back memory only when it is first
 * written, and the more a process takes, the less of it the guest has
 * kept at hand. */
#define FRESH 4
static void
time_first_writes(size_t bytes, double t[2 * FRESH])
{
    char *buf[2 * FRESH];
    for (int k = 0; k < 2 * FRESH; k++) {
        buf[k] = ms__calloc(bytes, 1);
        if (buf[k] != NULL && k < FRESH) {
            ms__advise_random_access(buf[k], bytes);
        }
        double t0 = now();
        for (size_t i = 0; buf[k] != NULL && i < bytes; i += 4096) {
            buf[k][i] = 1;
        }
        t[k] = now() - t0;
    }
    for (int k = 0; k < 2 * FRESH; k++) {
        ms__free(buf[k]);
    }
}

int
main(int argc, char **argv)
{
    size_t N = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
    int repeat = argc > 2 ? atoi(argv[2]) : 15;
    double fresh[2 * FRESH];
    time_first_writes(3 * N * sizeof(double), fresh);
    /* the reference positions, then the displacements, row after row */
    float *rows = malloc(6 * N * sizeof(float)), *p[6];
    uint64_t s = 1;
    for (int c = 0; c < 6; c++) {
        p[c] = rows + c * N;
        for (size_t i = 0; i < N; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            p[c][i] = (float)((double)(s >> 11) / 9007199254740992.0) *
                      (c == 2 ? 0.1f : 1.0f);
        }
    }
    struct ms_edge_order o;
    if (ms__order_init(&o, N, 3 * N, true) != 0) {
        return 1;
    }
    double best[3] = {1e9, 1e9, 1e9};
    uint64_t hash = 0;
    struct ms_order_grid g;
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        ms__grid_init(&g);
        blocks(&g, p, N, NULL);
        ms__grid_finish(&g, ms__grid_bits(N, 3 * N));
        double t1 = now();
        blocks(&g, p, N, o.perm);
        double t2 = now();
        hash = 1469598103934665603ull;
        for (size_t i = 0; i < N; i++) {
            hash = (hash ^ o.perm[i]) * 1099511628211ull;
        }
        double t3 = now();
        if (ms__order_renumber(&o, g.total) != 0) {
            return 1;
        }
        double t4 = now();
        double t[3] = {t1 - t0, t2 - t1, t4 - t3};
        for (int k = 0; k < 3; k++) {
            best[k] = t[k] < best[k] ? t[k] : best[k];
        }
    }
    printf("%zu nodes, %u bits: bounds %.2f ms, cells %.2f ms, sort %.2f ms "
           "(best of %d); cells hash %016llx\n",
           N, g.total, best[0] * 1e3, best[1] * 1e3, best[2] * 1e3, repeat,
           (unsigned long long)hash);
    double look[2];
    time_lookups(&o, repeat, look);
    printf("%zu edges: their ends' places and count %.2f ms, the lookups "
           "inside the counting loop %.2f ms (best of %d)\n",
           o.E, look[1] * 1e3, look[0] * 1e3, repeat);
    double pos[3];
    time_positions(rows, N, o.perm, repeat, pos);
    printf("a timestep's positions: in stored order %.2f ms (around the "
           "cache %.2f ms), at the renumbering's places %.2f ms (best of "
           "%d)\n",
           pos[0] * 1e3, pos[2] * 1e3, pos[1] * 1e3, repeat);
    printf("fresh buffers of %zu MB, first written one after another "
           "(before the rest), ms:",
           3 * N * sizeof(double) >> 20);
    for (int k = 0; k < 2 * FRESH; k++) {
        const char *sep = k == 0       ? " in 2 MiB pages "
                          : k == FRESH ? "; in 4 KiB pages "
                                       : ", ";
        printf("%s%.1f", sep, fresh[k] * 1e3);
    }
    printf("\n");
    ms__order_free(&o);
    free(rows);
    return 0;
}
