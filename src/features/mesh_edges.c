/*
 * mesh_edges.c: the edges of a mesh of cells, as DeepMind's
 * triangles_to_edges makes them: every vertex pair of every cell (a
 * triangle's 3, a tetrahedron's 6), each undirected edge once.  The caller
 * counts both directions (features.c).  Pure computation: the pairs are
 * sorted by two counting sorts (linear whatever the degrees), no I/O.
 */
#include "features/features.h"

#include <string.h>

/* Stable counting sort of n pairs by the node in bits [shift, shift + 32)
 * (a node below N), from in to out; count holds N + 1 entries. */
static void
count_sort(const uint64_t *in, size_t n, size_t N, unsigned shift,
           size_t *count, uint64_t *out)
{
    memset(count, 0, (N + 1) * sizeof(*count));
    for (size_t i = 0; i < n; i++) {
        count[(in[i] >> shift & UINT32_MAX) + 1]++;
    }
    for (size_t v = 0; v < N; v++) {
        count[v + 1] += count[v];
    }
    for (size_t i = 0; i < n; i++) {
        out[count[in[i] >> shift & UINT32_MAX]++] = in[i];
    }
}

/* Sort the pairs (a << 32 | b, a and b below N) in place, tmp holding n
 * more: by b, then stably by a.  Linear in the pairs and the nodes,
 * whatever the degrees. */
static int
sort_pairs(uint64_t *pairs, size_t n, size_t N, uint64_t *tmp)
{
    size_t *count = ms__calloc(N + 1, sizeof(*count));
    if (count == NULL) {
        return MS_ENOMEM;
    }
    count_sort(pairs, n, N, 0, count, tmp);
    count_sort(tmp, n, N, 32, count, pairs);
    ms__free(count);
    return 0;
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
    size_t per = k * (k - 1) / 2, npairs, bytes;
    *E = 0;
    if (k < 2 || N > UINT32_MAX || ms__size_mul(C, per, &npairs) != 0 ||
        ms__size_mul(npairs ? npairs : 1, 2 * sizeof(uint64_t), &bytes) != 0) {
        return MS_EOVERFLOW;
    }
    uint64_t *all = ms__malloc(bytes);
    if (all == NULL) {
        return MS_ENOMEM;
    }
    uint64_t *made = all, *pairs = all + npairs;
    for (size_t c = 0; c < C; c++) {
        if (cell_pairs(cells + c * k, k, N, made + c * per, &bad->value) != 0) {
            bad->cell = c;
            ms__free(all);
            return MS_ERANGE;
        }
    }
    if (sort_pairs(made, npairs, N, pairs) != 0) {
        ms__free(all);
        return MS_ENOMEM;
    }
    pairs = made;
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
    ms__free(all);
    *E = n;
    return 0;
}
