/*
 * model_features.c: the features of the trajectory models, one frame at a
 * time, summarised as moments (docs/models.md).
 *
 * At frame t a unit holds the model's dynamic fields at t-1, t and t+1
 * (its block's rows) and the trajectory's statics (mesh_pos, node_type,
 * edges).  Every node feature is a column, as the model's table in
 * models.c says: a difference of frames, a field at a frame, or a one-hot
 * of the node type; every output feature too.  Nothing here names a
 * model.  Edge features are r and |r| of world_pos at t and of mesh_pos,
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
#include "features/features.h"

#include <math.h>

/* What one frame's computation looks at. */
struct frame_ctx {
    const struct ms_model *m;
    const struct ms_frame *fr;
};

/* v[n] = y[n] - x[n], or with z the second difference y[n] - 2 x[n] +
 * z[n]: the columns that combine frames.  Rows are alike (float or
 * double). */
static void
combine(struct ms_row x, struct ms_row y, struct ms_row z, size_t N, double *v)
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

/* Column k of group g, as models.c describes it. */
static const struct ms_column *
column_of(const struct ms_model *m, enum ms_group_kind g, size_t k)
{
    return g == MS_GROUP_NODE ? &m->node[k] : &m->out[k];
}

/* The slot of frame t + offset. */
static size_t
slot_at(const struct ms_frame *fr, int offset)
{
    return offset < 0 ? fr->prev : offset > 0 ? fr->next : fr->cur;
}

static struct ms_row
row_at(const struct ms_frame *fr, const struct ms_column *col, int offset)
{
    return ms_block_row(fr->block, col->row, slot_at(fr, offset));
}

/* Column k of group g for every node, into v. */
static void
column(const struct frame_ctx *c, enum ms_group_kind g, size_t k, double *v)
{
    const struct ms_frame *fr = c->fr;
    const struct ms_column *col = column_of(c->m, g, k);
    const unsigned char *type = fr->statics->node_type;
    size_t N = fr->block->N;
    struct ms_row none = {NULL, NULL};
    switch (col->op) {
    case MS_COL_ONE_HOT:
        for (size_t n = 0; n < N; n++) {
            v[n] = type[n] == col->row ? 1.0 : 0.0;
        }
        break;
    case MS_COL_AT:
        for (size_t n = 0; n < N; n++) {
            v[n] = ms_row_at(row_at(fr, col, col->b), n);
        }
        break;
    case MS_COL_SECOND:
        combine(row_at(fr, col, 0), row_at(fr, col, 1), row_at(fr, col, -1), N,
                v);
        break;
    case MS_COL_DIFF:
    case MS_COL_OBSTACLE:
        combine(row_at(fr, col, col->a), row_at(fr, col, col->b), none, N, v);
        for (size_t n = 0; col->op == MS_COL_OBSTACLE && n < N; n++) {
            v[n] = type[n] == 1 ? v[n] : 0.0;
        }
        break;
    }
}

/* The frames column col reads, as offsets. */
static size_t
column_inputs(const struct ms_column *col, int offsets[3])
{
    switch (col->op) {
    case MS_COL_ONE_HOT:
        return 0;
    case MS_COL_AT:
        offsets[0] = col->b;
        return 1;
    case MS_COL_SECOND:
        offsets[0] = -1, offsets[1] = 0, offsets[2] = 1;
        return 3;
    default:
        offsets[0] = col->a, offsets[1] = col->b;
        return 2;
    }
}

/* The first non-finite input of the columns of group g, as a site (an
 * obstacle column reads obstacle nodes only). */
static int
locate(const struct frame_ctx *c, enum ms_group_kind g,
       struct ms_nonfinite_site *site)
{
    const struct ms_frame *fr = c->fr;
    for (size_t k = 0; k < c->m->nfeat[g]; k++) {
        const struct ms_column *col = column_of(c->m, g, k);
        int offsets[3];
        size_t ns = column_inputs(col, offsets);
        for (size_t i = 0; i < ns; i++) {
            struct ms_row r = row_at(fr, col, offsets[i]);
            for (size_t n = 0; n < fr->block->N; n++) {
                if (col->op == MS_COL_OBSTACLE &&
                    fr->statics->node_type[n] != 1) {
                    continue;
                }
                double v = ms_row_at(r, n);
                if (!isfinite(v)) {
                    *site = (struct ms_nonfinite_site){
                        col->row, slot_at(fr, offsets[i]), n, v};
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
        ms__moments_of_kept(&out[k], v, mask, N);
        if (!ms__moments_finite(&out[k])) {
            return MS_EOVERFLOW;
        }
    }
    return 0;
}

/* Moments of column k of group g: straight from the block's rows where
 * the column is a row or a difference of frames (no copy), else from the
 * column made in v. */
static void
column_moments(const struct frame_ctx *c, enum ms_group_kind g, size_t k,
               double *v, struct ms_moments *out)
{
    const struct ms_frame *fr = c->fr;
    const struct ms_column *col = column_of(c->m, g, k);
    if (col->op == MS_COL_DIFF) {
        ms__moments_of_difference(out, row_at(fr, col, col->a),
                                  row_at(fr, col, col->b), fr->block->N);
    } else if (col->op == MS_COL_AT) {
        ms__moments_of_row(out, row_at(fr, col, col->b), fr->block->N);
    } else if (col->op == MS_COL_SECOND) {
        struct ms_values second = {MS_VALUES_SECOND, row_at(fr, col, 0),
                                   row_at(fr, col, 1), row_at(fr, col, -1)};
        ms__moments_of_values(out, &second, fr->block->N);
    } else {
        column(c, g, k, v);
        ms__moments_of(out, v, fr->block->N);
    }
}

/* Group g (node or output) of the frame: its columns, the one-hot ones
 * from the statics; the slow path if any is not finite. */
static int
columns(const struct frame_ctx *c, enum ms_group_kind g, bool skip,
        struct ms_feature_scratch *scratch, struct ms_moments *out,
        uint64_t *skipped, struct ms_nonfinite_site *site)
{
    bool finite = true;
    for (size_t k = 0; k < c->m->nfeat[g]; k++) {
        const struct ms_column *col = column_of(c->m, g, k);
        if (col->op == MS_COL_ONE_HOT) {
            out[k] = c->fr->statics->one_hot[col->row];
            continue;
        }
        column_moments(c, g, k, scratch->values, &out[k]);
        finite = finite && ms__moments_finite(&out[k]);
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

/* The edge group, as models.c lists its columns, from r and |r| of
 * world_pos (w, four moments; NULL if the model has none) and of mesh_pos
 * (s). */
static void
edge_group(const struct ms_model *m, const struct ms_moments *w,
           const struct ms_moments *s, struct ms_moments *out)
{
    for (size_t k = 0; k < m->nfeat[MS_GROUP_EDGE]; k++) {
        const struct ms_edge_column *col = &m->edge[k];
        out[k] = col->mesh ? s[col->c] : w[col->c];
    }
}

static bool
world_edges(const struct ms_model *m)
{
    for (size_t k = 0; k < m->nfeat[MS_GROUP_EDGE]; k++) {
        if (!m->edge[k].mesh) {
            return true;
        }
    }
    return false;
}

/* The edge group of the frame.  World-position edge features each frame;
 * mesh_pos's from the statics, unless an edge is left out (skip), which
 * leaves it out of both. */
static int
edges(const struct frame_ctx *c, bool skip, struct ms_feature_scratch *scratch,
      struct ms_moments *out, uint64_t *skipped, struct ms_nonfinite_site *site)
{
    const struct ms_frame *fr = c->fr;
    const struct ms_trajectory_statics *st = fr->statics;
    if (!world_edges(c->m)) {
        edge_group(c->m, NULL, st->mesh_edges, out);
        *skipped += st->mesh_edges_skipped;
        return 0;
    }
    struct ms_moments both[2 * MS_EDGE_FEATURES];
    world_positions(fr, scratch->pos);
    uint64_t bad = 0;
    const double *ref = st->mesh_edges_skipped ? st->mesh_pos : NULL;
    int rc = ms__edge_features(scratch->pos, ref, fr->from, fr->to, fr->E, skip,
                               scratch, both, &bad, site);
    if (rc == 0 && bad > 0 && ref == NULL) {
        /* Edges left out this frame: out of mesh_pos's features too. */
        bad = 0;
        ref = st->mesh_pos;
        rc = ms__edge_features(scratch->pos, ref, fr->from, fr->to, fr->E, skip,
                               scratch, both, &bad, site);
    }
    if (rc != 0) {
        site->slot = fr->cur;
        return rc;
    }
    *skipped += bad;
    edge_group(c->m, both,
               ref != NULL ? both + MS_EDGE_FEATURES : st->mesh_edges, out);
    return 0;
}

int
ms__model_frame(const struct ms_model *m, const struct ms_frame *fr, bool skip,
                struct ms_feature_scratch *scratch, struct ms_moments *node,
                struct ms_moments *edge, struct ms_moments *out,
                uint64_t skipped[MS_GROUP_COUNT], enum ms_group_kind *group,
                struct ms_nonfinite_site *site)
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
ms__model_statics(struct ms_trajectory_statics *st, size_t N,
                  const uint32_t *from, const uint32_t *to, size_t E, bool skip,
                  struct ms_feature_scratch *scratch,
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
    return rc;
}
