/*
 * kernels.h: the loops over values and edges (kernels.c), compiled for the
 * baseline instruction set and for AVX2 with the same bits; moments.c
 * picks.  Included by internal.h after struct ms_row.
 */
#ifndef MESHSTATS_KERNELS_H
#define MESHSTATS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The n values of a block: x[i], y[i] - x[i], or y[i] - 2 x[i] + z[i]
 * (the rows stored alike, float or double). */
enum ms_values_kind { MS_VALUES_ROW, MS_VALUES_DIFF, MS_VALUES_SECOND };
struct ms_values {
    enum ms_values_kind kind;
    struct ms_row x, y, z;
};

static inline double
ms_values_at(const struct ms_values *v, size_t i)
{
    switch (v->kind) {
    case MS_VALUES_ROW:
        return ms_row_at(v->x, i);
    case MS_VALUES_DIFF:
        return ms_row_at(v->y, i) - ms_row_at(v->x, i);
    default:
        return ms_row_at(v->y, i) - 2.0 * ms_row_at(v->x, i) +
               ms_row_at(v->z, i);
    }
}

/* The sums of value - shift and of its squares, min and max. */
struct ms_sums {
    double s1, s2, min, max;
};

/* Of the relative vectors r of a pass over edges: per component the sum
 * of squares and the largest |r_k|; of |r| the sums shifted by a shift,
 * min and max. */
struct ms_edge_sums {
    double sq[3], big[3];
    double s1, s2, lo, hi;
};

/* The edges of a pass are summed in chunks of this many (a fixed
 * boundary, so the bits never depend on how a pass is cut). */
#define MS_EDGE_CHUNK 4096

struct ms_sketch_cursor;

struct ms_kernels {
    /* Over n >= 1 values. */
    struct ms_sums (*sums)(const struct ms_values *v, size_t n, double shift);
    /* Over E >= 1 edges, r = pos[to] - pos[from] (pos[3 node + c]);
     * first_len is |r| of edge 0.  With cols, each edge's r and |r| too,
     * as computed, into cols[k E + e] (k: r_x, r_y, r_z, |r|). */
    struct ms_edge_sums (*edges)(const double *pos, const uint32_t *from,
                                 const uint32_t *to, size_t E, double len_shift,
                                 double first_len, double *cols);
    /* Count values [i, n) into the cursor's window (zeros apart), up to
     * the first value outside it: its index, n if none (a value not
     * finite is one outside unless the window reaches binade 2047:
     * callers count finite values only).
     * The caller counts that one (ms__sketch_cursor_add widens the
     * window) and goes on after it. */
    size_t (*count)(const struct ms_values *v, size_t i, size_t n,
                    struct ms_sketch_cursor *c);
};

extern const struct ms_kernels ms__kernels_baseline;
#ifdef MS_HAVE_AVX2_KERNELS
extern const struct ms_kernels ms__kernels_avx2;
#endif

#endif
