/*
 * test_edge_order.c: features/edge_order.c against orders written here
 * from the definition: edges by their lower endpoint, each endpoint's
 * edges in stored order, each from its lower endpoint to its higher; cells of
 * a small grid by hand; the renumbering a permutation by cell, then stored
 * number.
 */
#include "features/features.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint32_t
next_index(uint64_t *state, uint32_t n)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (uint32_t)(*state % n);
}

/* E random stored edges (from, to) over N nodes (seed st), placed with
 * the library: part by part, the last part first (as workers may). */
static void
place(struct ms_edge_order *o, size_t N, size_t E, uint64_t st,
      uint32_t *from, uint32_t *to)
{
    for (size_t e = 0; e < E; e++) {
        from[e] = next_index(&st, (uint32_t)N);
        to[e] = next_index(&st, (uint32_t)N);
    }
    cr_assert_eq(ms__order_init(o, N, E, true), 0);
    uint32_t *a = malloc(E * 4), *b = malloc(E * 4);
    ms__order_places(o, from, a, E); /* (not renumbered: the same) */
    ms__order_places(o, to, b, E);
    for (size_t k = o->nparts; k-- > 0;) {
        size_t e0 = k * MS_ORDER_PART;
        size_t n = E - e0 < MS_ORDER_PART ? E - e0 : MS_ORDER_PART;
        ms__order_clear(o, k);
        ms__order_count(o, k, a + e0, b + e0, n);
    }
    size_t *cursor = calloc(o->nseg, sizeof(*cursor));
    for (size_t k = o->nparts; k-- > 0;) {
        size_t e0 = k * MS_ORDER_PART;
        size_t n = E - e0 < MS_ORDER_PART ? E - e0 : MS_ORDER_PART;
        ms__order_cursors(o, k, cursor);
        ms__order_put(o, cursor, a + e0, b + e0, n);
    }
    free(cursor);
    free(a);
    free(b);
}

/* Edges [e0, e0 + n) of the order as (lower, higher) placed endpoints. */
static void
read_back(const struct ms_edge_order *o, size_t e0, size_t n, uint32_t *lo,
          uint32_t *hi)
{
    ms__order_lower(o, e0, n, lo);
    memcpy(hi, o->high + e0, n * sizeof(*hi));
}

static uint32_t
min_of(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t
max_of(uint32_t a, uint32_t b)
{
    return a < b ? b : a;
}

Test(edge_order, edges_come_by_lower_node_in_stored_order)
{
    /* 40,000 nodes: three segments of 16,384. */
    size_t N = 40000, E = 20000;
    uint32_t *from = malloc(E * 4), *to = malloc(E * 4);
    uint32_t *gf = malloc(E * 4), *gt = malloc(E * 4);
    struct ms_edge_order o;
    place(&o, N, E, 7, from, to);
    void *tmp = malloc(1 << 20);
    uint32_t *counts = calloc((1u << MS_ORDER_SHIFT) + 1, 4);
    for (size_t s = 0; s < o.nseg; s++) {
        cr_assert(ms__order_sort_segment(&o, s, tmp, 1 << 20, counts));
    }
    /* Read back in two overlapping ways: whole, and in uneven pieces. */
    read_back(&o, 0, 7, gf, gt);
    read_back(&o, 7, E - 7, gf + 7, gt + 7);
    /* The expected order, from the definition: for each lower node in
     * turn, its stored edges in stored order (quadratic, small). */
    size_t k = 0;
    bool *taken = calloc(E, 1);
    for (uint32_t lo = 0; lo < N; lo++) {
        for (size_t e = 0; e < E; e++) {
            uint32_t m = from[e] < to[e] ? from[e] : to[e];
            if (m == lo) {
                cr_assert_eq(gf[k], m, "edge %zu", k);
                cr_assert_eq(gt[k], max_of(from[e], to[e]), "edge %zu", k);
                taken[e] = true;
                k++;
            }
        }
    }
    cr_assert_eq(k, E);
    free(taken);
    free(counts);
    free(tmp);
    free(from);
    free(to);
    free(gf);
    free(gt);
    ms__order_free(&o);
}

Test(edge_order, a_list_of_several_parts_comes_in_the_same_order)
{
    /* 2.5 parts of stored edges over 40,000 nodes (three segments). */
    size_t N = 40000, E = 5 * MS_ORDER_PART / 2;
    uint32_t *from = malloc(E * 4), *to = malloc(E * 4);
    uint32_t *gf = malloc(E * 4), *gt = malloc(E * 4);
    struct ms_edge_order o;
    place(&o, N, E, 5, from, to);
    cr_assert_eq(o.nparts, 3);
    void *tmp = malloc(32u << 20); /* every segment fits */
    uint32_t *counts = calloc((1u << MS_ORDER_SHIFT) + 1, 4);
    size_t next = 0; /* the parts' shares of the segments tile them */
    for (size_t k = 0; k < o.nparts; k++) {
        size_t first, end;
        ms__order_part_segments(&o, k, &first, &end);
        cr_assert_eq(first, next);
        for (size_t s = first; s < end; s++) {
            cr_assert(ms__order_sort_segment(&o, s, tmp, 32u << 20, counts));
        }
        next = end;
    }
    cr_assert_eq(next, o.nseg);
    read_back(&o, 0, E, gf, gt);
    /* The definition: a stable sort of the stored list by lower
     * endpoint, here by counting (where each lower node's edges begin). */
    size_t *begin = calloc(N + 1, sizeof(*begin));
    for (size_t e = 0; e < E; e++) {
        begin[(from[e] < to[e] ? from[e] : to[e]) + 1]++;
    }
    for (size_t v = 0; v < N; v++) {
        begin[v + 1] += begin[v];
    }
    for (size_t e = 0; e < E; e++) {
        size_t k = begin[from[e] < to[e] ? from[e] : to[e]]++;
        cr_assert(gf[k] == min_of(from[e], to[e]) &&
                      gt[k] == max_of(from[e], to[e]),
                  "edge %zu at %zu", e, k);
    }
    free(begin);
    free(counts);
    free(tmp);
    free(from);
    free(to);
    free(gf);
    free(gt);
    ms__order_free(&o);
}

/* Count and put E stored edges over nodes numbered by perm, by blocks of
 * `block`, as edge_order_start.c does, with nroom rooms of `bytes` lent;
 * the order's high and low out. */
static void
place_by_blocks(size_t N, size_t E, const uint32_t *perm, const uint32_t *from,
                const uint32_t *to, size_t block, void *const *room,
                size_t nroom, size_t bytes, uint32_t *high, uint16_t *low)
{
    struct ms_edge_order o;
    cr_assert_eq(ms__order_init(&o, N, E, true), 0);
    memcpy(o.perm, perm, N * sizeof(*perm));
    o.renumbered = true;
    ms__order_lend(&o, room, nroom, bytes);
    ms__order_clear(&o, 0);
    uint32_t *fa = malloc(block * 4), *fb = malloc(block * 4);
    size_t *cursor = calloc(o.nseg, sizeof(*cursor));
    for (int put = 0; put < 2; put++) {
        if (put) {
            ms__order_cursors(&o, 0, cursor);
        }
        for (size_t e0 = 0; e0 < E; e0 += block) {
            size_t n = E - e0 < block ? E - e0 : block;
            uint32_t *a = fa, *b = fb;
            bool roomed = ms__order_in_room(&o, e0, n, &a, &b);
            if (!put || !roomed) {
                memcpy(fa, from + e0, n * 4); /* (read again) */
                memcpy(fb, to + e0, n * 4);
                ms__order_places(&o, fa, a, n);
                ms__order_places(&o, fb, b, n);
            }
            if (put) {
                ms__order_put(&o, cursor, a, b, n);
            } else {
                ms__order_count(&o, 0, a, b, n);
            }
        }
    }
    memcpy(high, o.high, E * sizeof(*high));
    memcpy(low, o.low, E * sizeof(*low));
    free(fa);
    free(fb);
    free(cursor);
    ms__order_free(&o);
}

/* Whether room[k], of n words, holds perm's places of `ends` [0, kept)
 * and the pattern 0xa5 everywhere else. */
static bool
room_holds(const uint32_t *room, size_t n, const uint32_t *perm,
           const uint32_t *ends, size_t kept)
{
    for (size_t k = 0; k < n; k++) {
        if (room[k] != (k < kept ? perm[ends[k]] : 0xa5a5a5a5u)) {
            return false;
        }
    }
    return true;
}

Test(edge_order, blocks_counted_into_lent_room_are_put_as_if_read_again)
{
    /* 40,000 nodes numbered at random, 10,000 edges by blocks of 1,000;
     * the room holds 2,500 edges' places: in one room, a's then b's; in
     * two, a's in the first and b's in the second.  Two blocks are put
     * from it, the third (2,000 to 3,000: it does not fit) and the rest
     * from the list, and nothing is written past their places. */
    size_t N = 40000, E = 10000, block = 1000, fits = 2500;
    uint64_t st = 19;
    uint32_t *perm = malloc(N * 4), *from = malloc(E * 4), *to = malloc(E * 4);
    for (size_t n = 0; n < N; n++) {
        perm[n] = (uint32_t)n;
    }
    for (size_t n = N - 1; n > 0; n--) {
        size_t m = next_index(&st, (uint32_t)(n + 1));
        uint32_t t = perm[n];
        perm[n] = perm[m];
        perm[m] = t;
    }
    for (size_t e = 0; e < E; e++) {
        from[e] = next_index(&st, (uint32_t)N);
        to[e] = next_index(&st, (uint32_t)N);
    }
    uint32_t *high = malloc(E * 4), *lent_high = malloc(E * 4);
    uint16_t *low = malloc(E * 2), *lent_low = malloc(E * 2);
    place_by_blocks(N, E, perm, from, to, block, NULL, 0, 0, high, low);
    size_t words = 2 * fits + 64;
    uint32_t *room[2] = {malloc(words * 4), malloc(words * 4)};
    for (size_t nroom = 1; nroom <= 2; nroom++) {
        memset(room[0], 0xa5, words * 4);
        memset(room[1], 0xa5, words * 4);
        size_t bytes = (3 - nroom) * fits * 4 + 7; /* (a partial word) */
        place_by_blocks(N, E, perm, from, to, block, (void *const *)room,
                        nroom, bytes, lent_high, lent_low);
        cr_assert_arr_eq(lent_high, high, E * 4, "%zu rooms", nroom);
        cr_assert_arr_eq(lent_low, low, E * 2, "%zu rooms", nroom);
        uint32_t *b_room = nroom == 1 ? room[0] + fits : room[1];
        /* The first two blocks' a's and b's are there, nothing else. */
        if (nroom == 1) {
            cr_assert(room_holds(room[0], fits, perm, from, 2 * block));
            cr_assert(room_holds(b_room, words - fits, perm, to, 2 * block));
        } else {
            cr_assert(room_holds(room[0], words, perm, from, 2 * block));
            cr_assert(room_holds(b_room, words, perm, to, 2 * block));
        }
    }
    /* The definition, before the segments are sorted: by the segment of
     * the lower place (16,384 places each), in stored order within it,
     * each edge as its higher place and the lower one's offset. */
    size_t start[4] = {0};
    for (size_t e = 0; e < E; e++) {
        start[min_of(perm[from[e]], perm[to[e]]) >> MS_ORDER_SHIFT]++;
    }
    for (size_t seg = 0, at = 0; seg < 4; seg++) {
        size_t n = start[seg];
        start[seg] = at;
        at += n;
    }
    for (size_t e = 0; e < E; e++) {
        uint32_t lo = min_of(perm[from[e]], perm[to[e]]);
        size_t k = start[lo >> MS_ORDER_SHIFT]++;
        cr_assert(high[k] == max_of(perm[from[e]], perm[to[e]]) &&
                      low[k] == (lo & ((1u << MS_ORDER_SHIFT) - 1)),
                  "edge %zu at %zu", e, k);
    }
    free(room[0]);
    free(room[1]);
    free(high);
    free(lent_high);
    free(low);
    free(lent_low);
    free(perm);
    free(from);
    free(to);
}

Test(edge_order, a_segment_too_large_for_the_buffer_stays_as_stored)
{
    size_t N = 100, E = 1000;
    uint32_t from[1000], to[1000], gf[1000], gt[1000];
    struct ms_edge_order o;
    place(&o, N, E, 3, from, to);
    uint32_t *counts = calloc((1u << MS_ORDER_SHIFT) + 1, 4);
    char tmp[64];
    cr_assert(!ms__order_sort_segment(&o, 0, tmp, sizeof(tmp), counts));
    read_back(&o, 0, E, gf, gt);
    for (size_t e = 0; e < E; e++) {
        cr_assert(gf[e] == min_of(from[e], to[e]) &&
                      gt[e] == max_of(from[e], to[e]),
                  "edge %zu", e);
    }
    free(counts);
    ms__order_free(&o);
}

Test(edge_order, cells_of_a_grid_are_numbered_in_rows_along_its_longest_axis)
{
    /* x and y in 0..3, z flat: two bits an axis, x's first on a tie:
     * key = y1 y0 x1 x0, rows along x. */
    double xs[16], ys[16], zs[16];
    for (int i = 0; i < 16; i++) {
        xs[i] = i % 4;
        ys[i] = i / 4;
        zs[i] = 5.0;
    }
    struct ms_row x[3] = {{NULL, xs}, {NULL, ys}, {NULL, zs}};
    struct ms_order_grid g;
    ms__grid_init(&g);
    ms__grid_extend(&g, x, 16);
    ms__grid_finish(&g, 4);
    cr_assert_eq(g.bits[0], 2);
    cr_assert_eq(g.bits[1], 2);
    cr_assert_eq(g.bits[2], 0);
    cr_assert_eq(ms__grid_bits(16, 32), 5, "a bit more than 16 nodes need");
    cr_assert_eq(ms__grid_bits(1 << 20, 1 << 20), 15, "one pass");
    cr_assert_eq(ms__grid_bits(1 << 20, 2 << 20), 21, "two passes");
    uint32_t cell[16];
    ms__grid_cells(&g, x, 16, cell);
    for (int i = 0; i < 16; i++) {
        /* the cell of v in [lo, hi] is floor((v - lo) / (hi - lo) * 4),
         * hi going to 3 */
        uint32_t cx = (uint32_t)(xs[i] / 3 * 4), cy = (uint32_t)(ys[i] / 3 * 4);
        cx = cx > 3 ? 3 : cx;
        cy = cy > 3 ? 3 : cy;
        uint32_t want = cy << 2 | cx;
        cr_assert_eq(cell[i], want, "node %d", i);
    }
}

/* A value of n in [-1, 1], now and then NaN, an infinity or a zero of
 * either sign. */
static double
odd_value(uint64_t *st)
{
    uint32_t k = next_index(st, 1000);
    return k == 0   ? NAN
           : k == 1 ? INFINITY
           : k == 2 ? -INFINITY
           : k == 3 ? -0.0
           : k == 4 ? 0.0
                    : (double)next_index(st, 1u << 20) / (1 << 19) - 1.0;
}

Test(edge_order, bounds_and_cells_of_float_and_double_rows_are_the_definition)
{
    /* The bounds are the least and greatest finite value of a block
     * (infinities and NaN skipped, so how the nodes are grouped into
     * reads cannot change them), the cells
     * floor((v - lo) * 2^bits / (hi - lo)) within [0, 2^bits - 1] (NaN at
     * 0), by each axis's bits shifted to its place: for float rows, double
     * rows and the two mixed, blocks of every length mod 4. */
    uint64_t st = 5;
    for (size_t n = 1; n <= 23; n++) {
        double xd[3][23];
        float xf[3][23];
        double lo[3], hi[3];
        for (size_t c = 0; c < 3; c++) {
            lo[c] = INFINITY;
            hi[c] = -INFINITY;
            for (size_t i = 0; i < n; i++) {
                xf[c][i] = (float)odd_value(&st);
                xd[c][i] = xf[c][i];
                if (isfinite(xd[c][i])) {
                    lo[c] = xd[c][i] < lo[c] ? xd[c][i] : lo[c];
                    hi[c] = xd[c][i] > hi[c] ? xd[c][i] : hi[c];
                }
            }
        }
        for (int kind = 0; kind < 3; kind++) {
            struct ms_row x[3];
            for (size_t c = 0; c < 3; c++) {
                bool single = kind == 0 || (kind == 2 && c == 1);
                x[c] = single ? (struct ms_row){xf[c], NULL}
                              : (struct ms_row){NULL, xd[c]};
            }
            struct ms_order_grid g;
            ms__grid_init(&g);
            ms__grid_extend(&g, x, n);
            for (size_t c = 0; c < 3; c++) {
                cr_assert(g.lo[c] == lo[c] && g.hi[c] == hi[c],
                          "n %zu kind %d axis %zu: %g %g against %g %g", n,
                          kind, c, g.lo[c], g.hi[c], lo[c], hi[c]);
            }
            ms__grid_finish(&g, 12);
            uint32_t cell[23];
            ms__grid_cells(&g, x, n, cell);
            for (size_t i = 0; i < n; i++) {
                uint32_t want = 0;
                for (size_t c = 0; c < 3; c++) {
                    double top = ldexp(1.0, (int)g.bits[c]) - 1;
                    double q = floor((xd[c][i] - g.lo[c]) * g.scale[c]);
                    q = isnan(q) || q < 0 ? 0 : q > top ? top : q;
                    want |= (uint32_t)q << g.shift[c];
                }
                cr_assert_eq(cell[i], want, "n %zu kind %d node %zu", n,
                             kind, i);
            }
        }
    }
}

Test(edge_order, renumbering_is_by_cell_then_stored_number_in_one_or_two_passes)
{
    for (unsigned bits = 8; bits <= 30; bits += 22) {
        size_t N = 5000, E = 2 * N;
        struct ms_edge_order o;
        cr_assert_eq(ms__order_init(&o, N, E, true), 0);
        uint64_t st = 11;
        uint32_t *cell = malloc(N * 4);
        for (size_t n = 0; n < N; n++) {
            cell[n] = next_index(&st, 1u << (bits < 12 ? bits : 12)) *
                      (bits > 15 ? 1u << 17 : 1u);
            o.perm[n] = cell[n];
        }
        cr_assert_eq(ms__order_renumber(&o, bits), 0);
        cr_assert(o.renumbered);
        /* place(a) < place(b) iff (cell, number) of a < that of b */
        for (size_t i = 0; i < 3000; i++) {
            size_t a = next_index(&st, (uint32_t)N);
            size_t b = next_index(&st, (uint32_t)N);
            bool before = cell[a] < cell[b] || (cell[a] == cell[b] && a < b);
            cr_assert_eq(o.perm[a] < o.perm[b], before, "%zu %zu", a, b);
            cr_assert(a == b || o.perm[a] != o.perm[b]);
        }
        free(cell);
        ms__order_free(&o);
    }
}

Test(edge_order, the_sort_in_parts_comes_by_cell_then_number_in_either_order)
{
    /* Over a million nodes: the sort runs in parts (renumber_sort.c),
     * with one digit (15 bits) or two (22), its steps run part by part in
     * order and, the second time, in reverse order within each step (as
     * workers may take them): every node gets a place of its own, and the
     * places come by (cell, stored number). */
    size_t N = 2 * MS_ORDER_PART + 12345;
    cr_assert_eq(ms__order_sort_parts(N), 3);
    cr_assert_eq(ms__order_sort_parts(1), 1);
    cr_assert_eq(ms__order_sort_parts(100 * MS_ORDER_PART),
                 MS_ORDER_SORT_PARTS);
    uint32_t *cell = malloc(N * 4), *node_at = malloc(N * 4);
    for (unsigned bits = 15; bits <= 22; bits += 7) {
        for (int reverse = 0; reverse < 2; reverse++) {
            struct ms_edge_order o;
            cr_assert_eq(ms__order_init(&o, N, 2 * N, true), 0);
            uint64_t st = 17 + bits;
            for (size_t n = 0; n < N; n++) {
                cell[n] = o.perm[n] = next_index(&st, 1u << bits);
            }
            cr_assert_eq(ms__order_sort_init(&o, bits), 0);
            for (size_t n0 = 0; n0 < N; n0 += 70000) {
                ms__order_count_cells(&o, n0, N - n0 < 70000 ? N - n0
                                                             : 70000);
            }
            cr_assert_eq(o.sort_passes, bits > 15 ? 2u : 1u);
            for (unsigned step = 0; step < o.sort_passes; step++) {
                for (size_t k = 0; k < o.sort_parts; k++) {
                    size_t part = reverse ? o.sort_parts - 1 - k : k;
                    cr_assert_eq(ms__order_sort_step(&o, step, part), 0);
                }
            }
            memset(node_at, 0xff, N * 4);
            for (size_t n = 0; n < N; n++) {
                cr_assert_lt(o.perm[n], N);
                cr_assert_eq(node_at[o.perm[n]], UINT32_MAX, "place %u twice",
                             o.perm[n]);
                node_at[o.perm[n]] = (uint32_t)n;
            }
            for (size_t r = 1; r < N; r++) {
                uint32_t a = node_at[r - 1], b = node_at[r];
                cr_assert(cell[a] < cell[b] || (cell[a] == cell[b] && a < b),
                          "bits %u: places %zu and %zu", bits, r - 1, r);
            }
            ms__order_free(&o);
        }
    }
    free(cell);
    free(node_at);
}

/* Whether every whole page of [p, p + bytes) is in memory (true where the
 * kernel cannot map pages ahead: MADV_POPULATE_WRITE is Linux 5.14). */
static bool
resident(const void *p, size_t bytes)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
    static unsigned char vec[1 << 16];
    void *probe = mmap(NULL, page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    bool can = madvise(probe, page, MADV_POPULATE_WRITE) == 0;
    munmap(probe, page);
    if (!can || hi <= lo || (hi - lo) / page > sizeof(vec)) {
        return true;
    }
    cr_assert(mincore((void *)lo, hi - lo, vec) == 0);
    for (size_t i = 0; i < (hi - lo) / page; i++) {
        if (!(vec[i] & 1)) {
            return false;
        }
    }
    return true;
}

/* Mapping an order's memory ahead (beside the task that renumbers, which
 * may have written some of it already) leaves what is written there: a
 * pattern in every node's number and edge's place, some pages written
 * and some not, is there afterwards; the untouched rest reads zero, and
 * is in memory. */
Test(edge_order, prefault_keeps_what_is_written)
{
    struct ms_edge_order o;
    size_t N = 3000000, E = 2500000;
    cr_assert_eq(ms__order_init(&o, N, E, true), 0);
    for (size_t n = 0; n < N; n += 3) {
        o.perm[n] = (uint32_t)(n * 7 + 1);
    }
    for (size_t e = 0; e < E / 2; e++) {
        o.high[e] = (uint32_t)(e ^ 0x5a5a5a5a);
        o.low[e] = (uint16_t)(e * 3 + 1);
    }
    ms__order_prefault(&o);
    cr_expect(resident(o.high + E / 2, E / 2 * sizeof(*o.high)),
              "the edges' places not written were not mapped");
    bool same = true;
    for (size_t n = 0; n < N; n++) {
        same = same && o.perm[n] == (n % 3 ? 0 : (uint32_t)(n * 7 + 1));
    }
    for (size_t e = 0; e < E; e++) {
        bool w = e < E / 2;
        same = same && o.high[e] == (w ? (uint32_t)(e ^ 0x5a5a5a5a) : 0) &&
               o.low[e] == (w ? (uint16_t)(e * 3 + 1) : 0);
    }
    cr_expect(same, "the order's contents changed");
    ms__order_free(&o);
}
