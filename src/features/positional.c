/*
 * positional.c: a mesh's positional node features, the static columns the
 * seed project's training code appends to every node's inputs
 * (positional_features P, docs/spec.md section 2.1).
 *
 * From the reference positions and the edges in both directions (each
 * stored edge a-b as a->b and b->a), in order: (1) each node's distance
 * from the centroid (the plain mean of the positions); (2) the mean length
 * of the edges arriving at it (0 for none); (3..P) random-walk return
 * probabilities, the diagonal of RW^k for k = 2, 4, 8, 16, 32, where
 * RW = D^-1 A over the directed edges (A counts repeated pairs, D is the
 * out-degree, at least 1).
 *
 * A is symmetric, so RW^k's diagonal is that of S^k with S = D^-1/2 A
 * D^-1/2, and diag(S^2h)_i = |S^h e_i|^2: one walk from each node, h =
 * 1, 2, 4, 8, 16 steps, over only the nodes it has reached, gives them all
 * exactly (in double, never rounded to float32).  Pure computation: the
 * caller owns every buffer (ms__positional_bytes says how much).
 */
#include "features/features.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The work arrays, carved out of the caller's scratch. */
struct walk {
    uint32_t *start, *adj; /* the directed edges as CSR: N + 1, 2E */
    double *inv_sqrt_deg;  /* N */
    double *cur, *next;    /* N each, zero outside the walk */
    uint32_t *seen, *grow; /* the nodes reached, in the order reached */
    unsigned char *mark;   /* N: reached */
};

size_t
ms__positional_bytes(size_t N, size_t E)
{
    size_t bytes = (N + 1) * 4 + 2 * E * 4 + N * (8 + 16 + 8 + 1) + 64;
    return (bytes + 7) / 8 * 8; /* what follows stays aligned */
}

static void
carve(void *scratch, size_t N, size_t E, struct walk *w)
{
    unsigned char *p = scratch;
    w->cur = (double *)p;
    w->next = w->cur + N;
    w->inv_sqrt_deg = w->next + N;
    w->start = (uint32_t *)(w->inv_sqrt_deg + N);
    w->adj = w->start + N + 1;
    w->seen = w->adj + 2 * E;
    w->grow = w->seen + N;
    w->mark = (unsigned char *)(w->grow + N);
}

/* The directed edges as CSR (each stored edge both ways, in list order),
 * and 1 / sqrt(out-degree, at least 1). */
static void
build_graph(const uint32_t *from, const uint32_t *to, size_t N, size_t E,
            struct walk *w)
{
    memset(w->start, 0, (N + 1) * sizeof(*w->start));
    for (size_t e = 0; e < E; e++) {
        w->start[from[e] + 1]++;
        w->start[to[e] + 1]++;
    }
    for (size_t n = 0; n < N; n++) {
        uint32_t deg = w->start[n + 1];
        w->inv_sqrt_deg[n] = 1.0 / sqrt(deg > 0 ? (double)deg : 1.0);
        w->start[n + 1] += w->start[n];
    }
    /* grow holds each node's fill position while the list is laid out. */
    memcpy(w->grow, w->start, N * sizeof(*w->grow));
    for (size_t e = 0; e < E; e++) {
        w->adj[w->grow[from[e]]++] = to[e];
        w->adj[w->grow[to[e]]++] = from[e];
    }
}

/* One step v <- S v over the nodes reached so far (*n of them in seen),
 * adding newly reached ones. */
static void
step(struct walk *w, size_t *n)
{
    size_t before = *n;
    for (size_t k = 0; k < before; k++) {
        uint32_t j = w->seen[k];
        double x = w->cur[j] * w->inv_sqrt_deg[j];
        for (uint32_t a = w->start[j]; a < w->start[j + 1]; a++) {
            uint32_t l = w->adj[a];
            if (!w->mark[l]) {
                w->mark[l] = 1;
                w->seen[(*n)++] = l;
            }
            w->next[l] += x * w->inv_sqrt_deg[l];
        }
    }
    for (size_t k = 0; k < *n; k++) {
        uint32_t j = w->seen[k];
        w->cur[j] = w->next[j];
        w->next[j] = 0.0;
    }
}

/* The return probabilities of node i for the first nk of k = 2, 4, ...
 * into out[p * N + i], p = 0..nk-1. */
static void
walk_from(struct walk *w, size_t N, uint32_t i, size_t nk, double *out)
{
    size_t n = 1;
    w->seen[0] = i;
    w->mark[i] = 1;
    w->cur[i] = 1.0;
    size_t h = 1;
    for (size_t s = 1, p = 0; p < nk; s++) {
        step(w, &n);
        if (s == h) {
            double sum = 0.0;
            for (size_t k = 0; k < n; k++) {
                double v = w->cur[w->seen[k]];
                sum += v * v;
            }
            out[p++ * N + i] = sum;
            h *= 2;
        }
    }
    for (size_t k = 0; k < n; k++) {
        w->cur[w->seen[k]] = 0.0;
        w->mark[w->seen[k]] = 0;
    }
}

/* Columns 1 and 2: the distance from the centroid, the mean length of
 * the edges arriving at each node (sums in next, counts in start). */
static void
geometry(const double *pos, const uint32_t *from, const uint32_t *to,
         size_t N, size_t E, unsigned P, struct walk *w, double *out)
{
    double c[3] = {0, 0, 0};
    for (size_t n = 0; n < N; n++) {
        for (int d = 0; d < 3; d++) {
            c[d] += pos[3 * n + d];
        }
    }
    for (int d = 0; d < 3; d++) {
        c[d] /= (double)N;
    }
    double *sum = w->next;
    memset(sum, 0, N * sizeof(*sum));
    for (size_t e = 0; e < E; e++) {
        const double *a = pos + 3 * (size_t)from[e], *b = pos + 3 * (size_t)to[e];
        double dx = b[0] - a[0], dy = b[1] - a[1], dz = b[2] - a[2];
        double len = sqrt(dx * dx + dy * dy + dz * dz);
        sum[to[e]] += len;
        sum[from[e]] += len;
    }
    for (size_t n = 0; n < N; n++) {
        const double *x = pos + 3 * n;
        double dx = x[0] - c[0], dy = x[1] - c[1], dz = x[2] - c[2];
        out[n] = sqrt(dx * dx + dy * dy + dz * dz);
        uint32_t in = w->start[n + 1] - w->start[n];
        if (P >= 2) {
            out[N + n] = in > 0 ? sum[n] / (double)in : 0.0;
        }
        sum[n] = 0.0;
    }
}

void
ms__positional_features(const double *pos, size_t N, const uint32_t *from,
                        const uint32_t *to, size_t E, unsigned P,
                        void *scratch, double *out)
{
    struct walk w;
    carve(scratch, N, E, &w);
    memset(w.cur, 0, 2 * N * sizeof(double));
    memset(w.mark, 0, N);
    build_graph(from, to, N, E, &w);
    if (P >= 1) {
        geometry(pos, from, to, N, E, P, &w, out);
    }
    size_t nk = P > 2 ? P - 2 : 0;
    for (size_t i = 0; nk > 0 && i < N; i++) {
        walk_from(&w, N, (uint32_t)i, nk, out + 2 * N);
    }
}

void
ms__positional_name(size_t p, char *buf, size_t size)
{
    if (p == 0) {
        snprintf(buf, size, "centroid_dist");
    } else if (p == 1) {
        snprintf(buf, size, "mean_edge_len");
    } else {
        snprintf(buf, size, "rwpe_%u", 1u << (p - 1));
    }
}
