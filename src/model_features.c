/*
 * model_features.c: the features of the trajectory models, one frame at a
 * time, summarised as moments (docs/models.md).
 *
 * At frame t a unit holds the model's dynamic fields at t-1, t and t+1
 * (its block's rows) and the trajectory's statics (mesh_pos, node_type,
 * edges).  Every node feature is a column: a difference of frames, a
 * field at a frame, or a one-hot of the node type; every output feature
 * too.  Edge features are r and |r| of world_pos at t and of mesh_pos,
 * both directions of every edge (features.c's kernel).  What does not
 * change between frames (the one-hot columns, the mesh_pos edge features)
 * is computed once per trajectory (ms__model_statics) and counted again at
 * every frame, as an online normalizer sees it.
 *
 * As in features.c, the fast path tests no value: non-finite moments send
 * a group to the slow path, which names the first bad input or, under
 * skip, leaves out the rows (nodes, edges) with any non-finite feature.
 * Pure computation on the caller's scratch; safe from any thread.
 */
#include "internal.h"

#include <math.h>

/* What one frame's computation looks at. */
struct frame_ctx {
    const struct ms_model *m;
    const struct ms_frame *fr;
};

static double
at(const struct ms_frame *fr, size_t row, size_t slot, size_t n)
{
    return ms_row_at(ms_block_row(fr->block, row, slot), n);
}
/* v[n] = y[n] - x[n], or with z the second difference y[n] - 2 x[n] +
 * z[n]: the columns that combine frames.  Rows are alike (float or
 * double). */
static void
combine(struct ms_row x, struct ms_row y, struct ms_row z, size_t N,
        double *v)
{
    bool second = z.f != NULL || z.d != NULL;
    if (x.f != NULL && second) {
        for (size_t n = 0; n < N; n++) {
            v[n] = (double)y.f[n] - 2.0 * (double)x.f[n] + (double)z.f[n];
        }
    } else if (x.f != NULL) {
        for (size_t n = 0; n < N; n++) {
            v[n] = (double)y.f[n] - (double)x.f[n];
        }
    } else if (second) {
        for (size_t n = 0; n < N; n++) {
            v[n] = y.d[n] - 2.0 * x.d[n] + z.d[n];
        }
    } else {
        for (size_t n = 0; n < N; n++) {
            v[n] = y.d[n] - x.d[n];
        }
    }
}

/* Column k of group g for every node, into v. */
static void
column(const struct frame_ctx *c, enum ms_group_kind g, size_t k, double *v)
{
    const struct ms_frame *fr = c->fr;
    const struct ms_block *b = fr->block;
    size_t N = b->N;
    const unsigned char *type = fr->statics->node_type;
    enum ms_model_kind kind = c->m->kind;
    size_t dyn = kind == MS_MODEL_CFD ? 2 : 3;
    struct ms_row none = {NULL, NULL};
    size_t row = g == MS_GROUP_NODE && k >= dyn ? 0 : k; /* one-hot: none */
    struct ms_row p = ms_block_row(b, row, fr->prev);
    struct ms_row t = ms_block_row(b, row, fr->cur);
    struct ms_row x = ms_block_row(b, row, fr->next);
    if (g == MS_GROUP_NODE && k >= dyn) {
        for (size_t n = 0; n < N; n++) {
            v[n] = type[n] == k - dyn ? 1.0 : 0.0;
        }
    } else if (g == MS_GROUP_NODE && kind == MS_MODEL_CFD) {
        for (size_t n = 0; n < N; n++) {
            v[n] = ms_row_at(t, n);
        }
    } else if (g == MS_GROUP_NODE) {
        combine(kind == MS_MODEL_CLOTH ? p : t, kind == MS_MODEL_CLOTH ? t : x,
                none, N, v);
        for (size_t n = 0; kind == MS_MODEL_PLATE && n < N; n++) {
            v[n] = type[n] == 1 ? v[n] : 0.0; /* obstacles only */
        }
    } else if (kind == MS_MODEL_CLOTH) {
        combine(t, x, p, N, v); /* x - 2t + p */
    } else if (kind == MS_MODEL_PLATE && k == 3) {
        for (size_t n = 0; n < N; n++) {
            v[n] = ms_row_at(x, n); /* stress at t + 1 */
        }
    } else {
        combine(t, x, none, N, v);
    }
}

/* The block rows behind column k of group g, at which slots: for naming
 * a non-finite input. */
static void
column_inputs(const struct frame_ctx *c, enum ms_group_kind g, size_t k,
              size_t slots[3], size_t *nslots)
{
    const struct ms_frame *fr = c->fr;
    enum ms_model_kind kind = c->m->kind;
    *nslots = 0;
    if (g == MS_GROUP_NODE) {
        if (kind == MS_MODEL_CLOTH) {
            slots[(*nslots)++] = fr->prev;
        }
        slots[(*nslots)++] = fr->cur;
        if (kind == MS_MODEL_PLATE) {
            slots[(*nslots)++] = fr->next;
        }
        return;
    }
    if (kind == MS_MODEL_CLOTH) {
        slots[(*nslots)++] = fr->prev;
    }
    if (!(kind == MS_MODEL_PLATE && k == 3)) {
        slots[(*nslots)++] = fr->cur;
    }
    slots[(*nslots)++] = fr->next;
}

/* The columns of group g that change with the frame (the others are the
 * one-hot ones). */
static size_t
dynamic_columns(const struct ms_model *m, enum ms_group_kind g)
{
    return g == MS_GROUP_NODE ? m->nfeat[g] - MS_NODE_TYPES : m->nfeat[g];
}

/* The first non-finite input of the columns of group g, as a site. */
static int
locate(const struct frame_ctx *c, enum ms_group_kind g,
       struct ms_nonfinite_site *site)
{
    const struct ms_frame *fr = c->fr;
    /* plate's node columns read obstacle nodes only */
    bool obstacles = c->m->kind == MS_MODEL_PLATE && g == MS_GROUP_NODE;
    for (size_t k = 0; k < dynamic_columns(c->m, g); k++) {
        size_t slots[3], ns;
        column_inputs(c, g, k, slots, &ns);
        for (size_t i = 0; i < ns; i++) {
            for (size_t n = 0; n < fr->block->N; n++) {
                if (obstacles && fr->statics->node_type[n] != 1) {
                    continue;
                }
                double v = at(fr, k, slots[i], n);
                if (!isfinite(v)) {
                    *site = (struct ms_nonfinite_site){k, slots[i], n, v};
                    return MS_ENONFINITE;
                }
            }
        }
    }
    return MS_EOVERFLOW;
}

/* Moments of the columns of group g over the nodes whose every column is
 * finite; the others counted in *skipped. */
static int
columns_skipping(const struct frame_ctx *c, enum ms_group_kind g,
                 struct ms_feature_scratch *scratch, struct ms_moments *out,
                 uint64_t *skipped)
{
    size_t N = c->fr->block->N, nfeat = c->m->nfeat[g];
    unsigned char *mask = scratch->mask;
    double *v = scratch->values;
    for (size_t n = 0; n < N; n++) {
        mask[n] = 1;
    }
    for (size_t k = 0; k < nfeat; k++) {
        column(c, g, k, v);
        for (size_t n = 0; n < N; n++) {
            mask[n] &= (unsigned char)(isfinite(v[n]) != 0);
        }
    }
    for (size_t n = 0; n < N; n++) {
        *skipped += mask[n] == 0;
    }
    for (size_t k = 0; k < nfeat; k++) {
        column(c, g, k, v);
        size_t kept = 0;
        for (size_t n = 0; n < N; n++) {
            if (mask[n]) {
                v[kept++] = v[n];
            }
        }
        ms__moments_of(&out[k], v, kept);
        if (!ms__moments_finite(&out[k])) {
            return MS_EOVERFLOW;
        }
    }
    return 0;
}

/* Moments of changing column k of group g: straight from the block's
 * rows where the column is a row or a difference of two (no copy), else
 * from the column made in v. */
static void
column_moments(const struct frame_ctx *c, enum ms_group_kind g, size_t k,
               double *v, struct ms_moments *out)
{
    const struct ms_frame *fr = c->fr;
    const struct ms_block *b = fr->block;
    enum ms_model_kind kind = c->m->kind;
    bool node = g == MS_GROUP_NODE;
    if ((node && kind == MS_MODEL_CLOTH) ||
        (!node && kind != MS_MODEL_CLOTH && !(kind == MS_MODEL_PLATE &&
                                              k == 3))) {
        size_t from = node ? fr->prev : fr->cur, to = node ? fr->cur
                                                           : fr->next;
        ms__moments_of_difference(out, ms_block_row(b, k, from),
                                  ms_block_row(b, k, to), b->N);
    } else if (node && kind == MS_MODEL_CFD) {
        ms__moments_of_row(out, ms_block_row(b, k, fr->cur), b->N);
    } else if (!node && kind == MS_MODEL_PLATE) {
        ms__moments_of_row(out, ms_block_row(b, k, fr->next), b->N);
    } else {
        column(c, g, k, v);
        ms__moments_of(out, v, b->N);
    }
}

/* Group g (node or output) of the frame: its changing columns, then the
 * one-hot ones from the statics; the slow path if any is not finite. */
static int
columns(const struct frame_ctx *c, enum ms_group_kind g, bool skip,
        struct ms_feature_scratch *scratch, struct ms_moments *out,
        uint64_t *skipped, struct ms_nonfinite_site *site)
{
    size_t dyn = dynamic_columns(c->m, g);
    bool finite = true;
    for (size_t k = 0; k < dyn; k++) {
        column_moments(c, g, k, scratch->values, &out[k]);
        finite = finite && ms__moments_finite(&out[k]);
    }
    for (size_t k = dyn; k < c->m->nfeat[g]; k++) {
        out[k] = c->fr->statics->one_hot[k - dyn];
    }
    if (finite) {
        return 0;
    }
    return skip ? columns_skipping(c, g, scratch, out, skipped)
                : locate(c, g, site);
}

/* World positions at the current frame, x, y, z per node. */
static void
world_positions(const struct ms_frame *fr, double *pos)
{
    for (size_t c = 0; c < 3; c++) {
        struct ms_row r = ms_block_row(fr->block, c, fr->cur);
        for (size_t n = 0; n < fr->block->N; n++) {
            pos[3 * n + c] = ms_row_at(r, n);
        }
    }
}

/* The edge group from r and |r| of world_pos (w, or NULL) and of mesh_pos
 * (s), each four moments, in the model's order. */
static void
edge_group(enum ms_model_kind kind, const struct ms_moments *w,
           const struct ms_moments *s, struct ms_moments *out)
{
    if (kind == MS_MODEL_CLOTH) {
        const struct ms_moments from[7] = {w[0], w[1], w[2], w[3],
                                           s[0], s[1], s[3]};
        for (int k = 0; k < 7; k++) {
            out[k] = from[k];
        }
    } else if (kind == MS_MODEL_CFD) {
        out[0] = s[0], out[1] = s[1], out[2] = s[3];
    } else {
        for (int k = 0; k < 4; k++) {
            out[k] = s[k];
            out[4 + k] = w[k];
        }
    }
}

/* The edge group of the frame.  World-position edge features each frame;
 * mesh_pos's from the statics, unless an edge is left out (skip), which
 * leaves it out of both. */
static int
edges(const struct frame_ctx *c, bool skip,
      struct ms_feature_scratch *scratch, struct ms_moments *out,
      uint64_t *skipped, struct ms_nonfinite_site *site)
{
    const struct ms_frame *fr = c->fr;
    const struct ms_trajectory_statics *st = fr->statics;
    if (c->m->kind == MS_MODEL_CFD) {
        edge_group(c->m->kind, NULL, st->mesh_edges, out);
        *skipped += st->mesh_edges_skipped;
        return 0;
    }
    struct ms_moments both[2 * MS_EDGE_FEATURES];
    world_positions(fr, scratch->pos);
    uint64_t bad = 0;
    const double *ref = st->mesh_edges_skipped ? st->mesh_pos : NULL;
    int rc = ms__edge_features(scratch->pos, ref, fr->from, fr->to, fr->E,
                               skip, scratch, both, &bad, site);
    if (rc == 0 && bad > 0 && ref == NULL) {
        /* Edges left out this frame: out of mesh_pos's features too. */
        bad = 0;
        ref = st->mesh_pos;
        rc = ms__edge_features(scratch->pos, ref, fr->from, fr->to, fr->E,
                               skip, scratch, both, &bad, site);
    }
    if (rc != 0) {
        site->slot = fr->cur;
        return rc;
    }
    *skipped += bad;
    edge_group(c->m->kind, both,
               ref != NULL ? both + MS_EDGE_FEATURES : st->mesh_edges, out);
    return 0;
}

int
ms__model_frame(const struct ms_model *m, const struct ms_frame *fr,
                bool skip, struct ms_feature_scratch *scratch,
                struct ms_moments *node, struct ms_moments *edge,
                struct ms_moments *out, uint64_t skipped[MS_GROUP_COUNT],
                enum ms_group_kind *group, struct ms_nonfinite_site *site)
{
    struct frame_ctx c = {m, fr};
    *group = MS_GROUP_NODE;
    int rc = columns(&c, MS_GROUP_NODE, skip, scratch, node,
                     &skipped[MS_GROUP_NODE], site);
    if (rc == 0) {
        *group = MS_GROUP_EDGE;
        rc = edges(&c, skip, scratch, edge, &skipped[MS_GROUP_EDGE], site);
    }
    if (rc == 0) {
        *group = MS_GROUP_DELTA;
        rc = columns(&c, MS_GROUP_DELTA, skip, scratch, out,
                     &skipped[MS_GROUP_DELTA], site);
    }
    return rc;
}

int
ms__model_statics(const struct ms_model *m, struct ms_trajectory_statics *st,
                  size_t N, const uint32_t *from, const uint32_t *to,
                  size_t E, bool skip, struct ms_feature_scratch *scratch,
                  struct ms_nonfinite_site *site)
{
    double *v = scratch->values;
    for (unsigned k = 0; k < MS_NODE_TYPES; k++) {
        for (size_t n = 0; n < N; n++) {
            v[n] = st->node_type[n] == k ? 1.0 : 0.0;
        }
        ms__moments_of(&st->one_hot[k], v, N);
    }
    st->mesh_edges_skipped = 0;
    int rc = ms__edge_features(st->mesh_pos, NULL, from, to, E, skip, scratch,
                               st->mesh_edges, &st->mesh_edges_skipped, site);
    if (rc == MS_ENONFINITE) {
        site->row += 3; /* the site is in mesh_pos, not world_pos */
    }
    (void)m;
    return rc;
}
