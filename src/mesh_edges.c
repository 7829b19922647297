/*
 * mesh_edges.c: the edges of a mesh of cells, as DeepMind's
 * triangles_to_edges makes them: every vertex pair of every cell (a
 * triangle's 3, a tetrahedron's 6), each undirected edge once.  The caller
 * counts both directions (features.c).  Pure computation: one allocation
 * for the pairs, no I/O.
 */
#include "internal.h"

#include <stdlib.h>

static int
compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The pairs of cell c, each (min << 32 | max), into pairs; 0, or MS_ERANGE
 * with *bad the first vertex outside [0, N). */
static int
cell_pairs(const int64_t *cell, size_t k, size_t N, uint64_t *pairs,
           int64_t *bad)
{
    for (size_t i = 0; i < k; i++) {
        if (cell[i] < 0 || (uint64_t)cell[i] >= N) {
            *bad = cell[i];
            return MS_ERANGE;
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = i + 1; j < k; j++) {
            uint64_t a = (uint64_t)cell[i], b = (uint64_t)cell[j];
            pairs[n++] = a < b ? a << 32 | b : b << 32 | a;
        }
    }
    return 0;
}

int
ms__mesh_edges(const int64_t *cells, size_t C, size_t k, size_t N,
               uint32_t *from, uint32_t *to, size_t *E,
               struct ms_cell_error *bad)
{
    size_t per = k * (k - 1) / 2, npairs;
    *E = 0;
    if (k < 2 || N > UINT32_MAX || ms__size_mul(C, per, &npairs) != 0) {
        return MS_EOVERFLOW;
    }
    uint64_t *pairs = ms__malloc((npairs ? npairs : 1) * sizeof(*pairs));
    if (pairs == NULL) {
        return MS_ENOMEM;
    }
    for (size_t c = 0; c < C; c++) {
        if (cell_pairs(cells + c * k, k, N, pairs + c * per,
                       &bad->value) != 0) {
            bad->cell = c;
            ms__free(pairs);
            return MS_ERANGE;
        }
    }
    qsort(pairs, npairs, sizeof(*pairs), compare_u64);
    size_t n = 0;
    for (size_t i = 0; i < npairs; i++) {
        if (i > 0 && pairs[i] == pairs[i - 1]) {
            continue;
        }
        if (from != NULL) {
            from[n] = (uint32_t)(pairs[i] >> 32);
            to[n] = (uint32_t)pairs[i];
        }
        n++;
    }
    ms__free(pairs);
    *E = n;
    return 0;
}
