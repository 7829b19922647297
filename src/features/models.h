/*
 * models.h: the models (models.c), the edges of a mesh of cells
 * (mesh_edges.c) and a trajectory model's features (model_features.c).
 * Part of internal.h, which includes it where the moments and feature
 * scratch it uses are declared.
 */
#ifndef MESHSTATS_MODELS_H
#define MESHSTATS_MODELS_H

/* ------------------------------------------------------------------ */
/* models.c: which features each model computes, and from which fields. */

/* The fields of a trajectory group, each a (T, N, F) dataset, or (1, N, F)
 * when stored once (cells: (T or 1, C, 3 or 4)). */
enum ms_field {
    MS_FIELD_WORLD_POS,
    MS_FIELD_MESH_POS, /* also found as "pos" */
    MS_FIELD_VELOCITY,
    MS_FIELD_PRESSURE,
    MS_FIELD_STRESS,
    MS_FIELD_NODE_TYPE,
    MS_FIELD_CELLS,
    MS_FIELD_COUNT
};

#define MS_NODE_TYPES 9 /* DeepMind's NodeType.SIZE: one-hot columns */

struct ms_model_field {
    enum ms_field field;
    unsigned comps;
};

/* A node or output column of a trajectory model, at frame t, from row
 * `row` of the unit's block (the model's dynamic components in order). */
enum ms_column_op {
    MS_COL_AT,        /* row at t + b */
    MS_COL_DIFF,      /* row at t + b minus row at t + a */
    MS_COL_SECOND,    /* row at t+1 - 2 row at t + row at t-1 */
    MS_COL_OBSTACLE,  /* MS_COL_DIFF on OBSTACLE nodes (type 1), else 0 */
    MS_COL_ONE_HOT,   /* 1 where node_type == row, else 0 */
};

struct ms_column {
    enum ms_column_op op;
    unsigned row;
    int a, b; /* frame offsets, -1..1 */
};

/* An edge column: component c (0..2: r_x..r_z, 3: |r|) of r over world_pos
 * at t, or over mesh_pos. */
struct ms_edge_column {
    bool mesh;
    unsigned c;
};

#define MS_MAX_COLUMNS 16

struct ms_model {
    enum ms_model_kind kind;
    const char *name;
    const char *datasets; /* the datasets it is for, for messages */
    bool trajectory;      /* the trajectory layout; else data/<id>/ */
    size_t nfeat[MS_GROUP_COUNT];              /* 0: from the options */
    const char *const *names[MS_GROUP_COUNT];  /* NULL: ms_feature_name */
    /* The fields read at every frame, in row order of the unit's block:
     * e.g. world_pos's x, y, z are rows 0..2. */
    struct ms_model_field dynamic[2];
    size_t ndynamic;
    unsigned mesh_dims; /* the components of mesh_pos it expects */
    /* What each feature is: node and output columns, edge columns. */
    struct ms_column node[MS_MAX_COLUMNS], out[MS_MAX_COLUMNS];
    struct ms_edge_column edge[2 * MS_EDGE_FEATURES];
};

/* The model of kind (NULL for AUTO or out of range). */
const struct ms_model *ms__model(enum ms_model_kind kind);
/* The variant of m for a file without field absent (the plate model
 * without stress: its output is the displacement alone), else m. */
const struct ms_model *ms__model_without(const struct ms_model *m,
                                         enum ms_field absent);
const char *ms__field_name(enum ms_field field);
/* The rows a unit's block holds per frame: the dynamic fields'
 * components. */
size_t ms__model_rows(const struct ms_model *m);
/* Which field and component row of the block is. */
void ms__model_row_source(const struct ms_model *m, size_t row,
                          enum ms_field *field, size_t *comp);
void ms__model_feature_name(const struct ms_model *m, enum ms_group_kind group,
                            size_t i, char *buf, size_t size);

/* mesh_edges.c: the distinct undirected edges of a mesh of cells. */

/* Where a cell names a node that does not exist. */
struct ms_cell_error {
    size_t cell;
    int64_t value;
};

/* The distinct vertex pairs of C cells of k vertices each (cells[c * k +
 * i]), sorted, into from[e] < to[e] (both may be NULL: count only), their
 * number into *E.  MS_ERANGE with *bad for a vertex outside [0, N);
 * MS_ENOMEM; MS_EOVERFLOW for sizes it cannot index. */
int ms__mesh_edges(const int64_t *cells, size_t C, size_t k, size_t N,
                   uint32_t *from, uint32_t *to, size_t *E,
                   struct ms_cell_error *bad);

/* ------------------------------------------------------------------ */
/* model_features.c: a trajectory model's features, one frame at a time. */

/* What a trajectory holds once (read at frame 0 by its first task, owned
 * by the pipeline while the trajectory is in flight), and what is computed
 * from it once: the one-hot node-type columns and r, |r| of mesh_pos over
 * both directions of every edge. */
struct ms_trajectory_statics {
    double *mesh_pos;           /* 3N: x, y, z (z 0 for a 2D mesh) */
    unsigned char *node_type;   /* N, 0..8 */
    struct ms_moments one_hot[MS_NODE_TYPES];
    struct ms_moments mesh_edges[MS_EDGE_FEATURES];
    uint64_t mesh_edges_skipped; /* rows left out (skip_nonfinite) */
};

/* One frame t as a unit holds it: the model's dynamic rows at slots prev
 * (t-1), cur (t) and next (t+1), and the trajectory's statics and edges. */
struct ms_frame {
    const struct ms_block *block;
    size_t prev, cur, next;
    const struct ms_trajectory_statics *statics;
    const uint32_t *from, *to;
    size_t E;
};

/* The statics' one-hot and mesh_pos edge moments, from mesh_pos and
 * node_type.  MS_ENONFINITE names a mesh_pos site (row MS_SITE_POSITION +
 * 3 + c) unless skip. */
int ms__model_statics(struct ms_trajectory_statics *st, size_t N,
                      const uint32_t *from, const uint32_t *to, size_t E,
                      bool skip, struct ms_feature_scratch *scratch,
                      struct ms_nonfinite_site *site);
/* The node, edge and output (delta) moments of frame fr, m->nfeat of each.
 * On failure *group says which group; a site's row is a block row (or
 * MS_SITE_POSITION + c: world_pos at cur, + 3 + c: mesh_pos).  scratch
 * needs pos (3N), values and mask (max(N, E)). */
int ms__model_frame(const struct ms_model *m, const struct ms_frame *fr,
                    bool skip, struct ms_feature_scratch *scratch,
                    struct ms_moments *node, struct ms_moments *edge,
                    struct ms_moments *out, uint64_t skipped[MS_GROUP_COUNT],
                    enum ms_group_kind *group, struct ms_nonfinite_site *site);

#endif
