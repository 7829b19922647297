/*
 * trajectory_check.c: whether a trajectory group can be read for a model,
 * and how (DeepMind's layout, docs/models.md).
 *
 * A trajectory is a group named by an integer at the file's root, holding
 * (T, N, F) datasets: world_pos, mesh_pos (or pos), velocity, pressure,
 * stress, node_type (integer, F = 1) and cells (integer, (T, C, 3) or
 * (T, C, 4)).  The fields read at every frame must have the trajectory's
 * T frames; the static ones (mesh_pos, node_type, cells) may be tiled over T
 * or stored once as (1, N, F).  On the thread that checks samples
 * (pass/stream.c), before any frame is read: each field the model needs
 * against that layout, its storage whole and undamaged (dataset_check.c),
 * and how the dynamic fields' bytes can be read (pread, or H5Dread).  The
 * plan then reads the static fields' values at frame 0
 * (trajectory_statics.c), which also counts the mesh's edges.
 */
#include "read/hdf5_file.h"

#include <stdio.h>
#include <string.h>

/* The names a field is stored under: mesh_pos is "pos" for some
 * converters. */
static const char *const field_leaves[MS_FIELD_COUNT][2] = {
    {"world_pos", NULL}, {"mesh_pos", "pos"}, {"velocity", NULL},
    {"pressure", NULL},  {"stress", NULL},    {"node_type", NULL},
    {"cells", NULL},
};

/* The name field is stored under in trajectory s, or NULL. */
static const char *
stored_leaf(struct ms_file *f, const struct ms_sample_name *s,
            enum ms_field field, int *rc, struct ms_error *err)
{
    for (int i = 0; i < 2 && field_leaves[field][i] != NULL; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", s->name, field_leaves[field][i]);
        H5I_type_t type;
        *rc = ms__sample_object_type(f, s, path, &type, err);
        if (*rc != 0) {
            return NULL;
        }
        if (type != H5I_BADID) {
            return field_leaves[field][i];
        }
    }
    return NULL;
}

int
ms__trajectory_fields(struct ms_file *f, const struct ms_sample_name *s,
                      struct ms_trajectory_fields *out, struct ms_error *err)
{
    ms__hdf5_quiet();
    int rc = 0;
    memset(out, 0, sizeof(*out));
    for (int k = 0; k < MS_FIELD_COUNT && rc == 0; k++) {
        out->leaf[k] = stored_leaf(f, s, (enum ms_field)k, &rc, err);
    }
    hid_t dset = -1;
    if (rc == 0 && out->leaf[MS_FIELD_MESH_POS] != NULL &&
        ms__sample_dataset_open(f, s, out->leaf[MS_FIELD_MESH_POS], &dset,
                                err) == 0) {
        hid_t space = H5Dget_space(dset);
        hsize_t dims[3];
        if (space >= 0 && H5Sget_simple_extent_ndims(space) == 3 &&
            H5Sget_simple_extent_dims(space, dims, NULL) == 3) {
            out->mesh_dims = (size_t)dims[2];
        }
        if (space >= 0) {
            H5Sclose(space);
        }
        H5Dclose(dset);
    }
    return rc;
}

/* What a field must be: its class, and its components (0: 3 or 4, the
 * vertices of a triangle or a tetrahedron). */
struct field_rule {
    enum ms_field field;
    H5T_class_t cls;
    size_t F;
    bool dynamic; /* read at every frame: must have all T frames */
};

static const char *
class_name(H5T_class_t cls)
{
    switch (cls) {
    case H5T_FLOAT:
        return "float";
    case H5T_INTEGER:
        return "integer";
    case H5T_STRING:
        return "string";
    case H5T_COMPOUND:
        return "compound";
    default:
        return "non-numeric";
    }
}

/* Class, rank, frames, count and components of one field. */
static int
check_dims(struct ms_file *f, const struct ms_sample_name *s,
           const struct field_rule *r, const char *leaf, H5T_class_t cls,
           int rank, const hsize_t *dims, const struct ms_sample_shape *sh,
           struct ms_error *err)
{
    int rc = 0;
    bool cells = r->field == MS_FIELD_CELLS;
    if (cls != r->cls) {
        SAMPLE_FAIL(MS_ELAYOUT, "%s/%s: has %s values; expected %s", s->name,
                    leaf, class_name(cls), class_name(r->cls));
    }
    if (rank != 3) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s/%s: has rank %d; expected 3 (frames x %s x %s)",
                    s->name, leaf, rank, cells ? "cells" : "nodes",
                    cells ? "vertices" : "components");
    }
    bool frames_ok = dims[0] == sh->T || (!r->dynamic && dims[0] == 1);
    bool count_ok = cells || dims[1] == sh->N;
    bool comps_ok = r->F ? dims[2] == r->F : (dims[2] == 3 || dims[2] == 4);
    if (!frames_ok || !count_ok || !comps_ok) {
        char want[64];
        const char *frames = r->dynamic ? "T" : "T or 1";
        if (cells) {
            snprintf(want, sizeof(want), "(%s, C, 3 or 4)", frames);
        } else {
            snprintf(want, sizeof(want), "(%s, %zu, %zu)", frames, sh->N, r->F);
        }
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s/%s: is %llu x %llu x %llu; expected %s with T = %zu",
                    s->name, leaf, (unsigned long long)dims[0],
                    (unsigned long long)dims[1], (unsigned long long)dims[2],
                    want, sh->T);
    }
done:
    return rc;
}

/* How a dynamic field's bytes can be read: pread for contiguous native
 * float32 without filters, else H5Dread. */
static void
read_path(struct ms_file *f, const struct ms_dataset_shape *ds,
          struct ms_field_shape *fs)
{
    bool native;
    fs->single = ms__dataset_float32(ds, &native);
    fs->direct_offset =
        ms__dataset_direct_offset(f, ds, native, &fs->direct_fd);
}

/* One field against rule r; the first dynamic field sets T and N. */
static int
check_field(struct ms_file *f, const struct ms_sample_name *s,
            const struct field_rule *r, struct ms_sample_shape *sh,
            struct ms_error *err)
{
    int rc = 0;
    const char *leaf = stored_leaf(f, s, r->field, &rc, err);
    if (rc != 0) {
        return rc;
    }
    if (leaf == NULL) {
        return ms__error_set(err, MS_ELAYOUT, "%s: sample %lld: %s/%s: missing",
                             f->path, (long long)s->id, s->name,
                             field_leaves[r->field][0]);
    }
    struct ms_dataset_shape ds;
    rc = ms__dataset_open_shape(f, s, leaf, &ds, err);
    if (rc != 0) {
        return rc;
    }
    const hsize_t *dims = ds.dims;
    if (sh->T == 0 && ds.rank == 3) {
        sh->T = (size_t)dims[0];
        sh->N = (size_t)dims[1];
    }
    rc = check_dims(f, s, r, leaf, ds.facts.cls, ds.rank, dims, sh, err);
    if (rc == 0 && dims[1] > 0) {
        rc = ms__dataset_check_storage(f, s, leaf, &ds, err);
    }
    struct ms_field_shape *fs = &sh->field[r->field];
    if (rc == 0) {
        *fs = (struct ms_field_shape){
            true,    "",    (size_t)dims[0],  (size_t)dims[1], (size_t)dims[2],
            ds.facts.size, false, MS_NO_DIRECT_READ, -1};
        snprintf(fs->leaf, sizeof(fs->leaf), "%s", leaf);
        read_path(f, &ds, fs);
    }
    ms__dataset_shape_close(&ds);
    return rc;
}

/* T, N and sizes meshstats can index. */
static int
check_extent(struct ms_file *f, const struct ms_sample_name *s,
             const struct ms_sample_shape *sh, const char *leaf,
             struct ms_error *err)
{
    int rc = 0;
    if (sh->T < 3) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s/%s: has %zu frame%s; the models use frames 1 .. T-2 "
                    "(each needs the one before and after) and need at "
                    "least 3",
                    s->name, leaf, sh->T, sh->T == 1 ? "" : "s");
    }
    if (sh->N == 0 || sh->N > UINT32_MAX || sh->T > SIZE_MAX / 8 / sh->N / 8) {
        SAMPLE_FAIL(MS_ELAYOUT,
                    "%s/%s: %zu frames of %zu nodes is not a mesh meshstats "
                    "can read (1 to %lu nodes)",
                    s->name, leaf, sh->T, sh->N, (unsigned long)UINT32_MAX);
    }
done:
    return rc;
}

int
ms__trajectory_shape(struct ms_file *f, const struct ms_sample_name *s,
                     const struct ms_model *m, struct ms_field_shape *fields,
                     struct ms_sample_shape *shape, struct ms_error *err)
{
    ms__hdf5_quiet();
    memset(shape, 0, sizeof(*shape));
    memset(fields, 0, MS_FIELD_COUNT * sizeof(*fields));
    shape->field = fields;
    shape->layout = MS_LAYOUT_TRAJECTORY;
    shape->direct_offset = MS_NO_DIRECT_READ;
    shape->direct_fd = -1;
    shape->edge_offset = MS_NO_DIRECT_READ; /* edges come from cells */
    shape->edge_fd = -1;
    shape->chunk_t = 1;
    H5I_type_t type;
    int rc = ms__sample_object_type(f, s, s->name, &type, err);
    if (rc == 0 && type != H5I_GROUP) {
        rc = ms__error_set(err, MS_ELAYOUT,
                           "%s: sample %lld: %s: is not a "
                           "group",
                           f->path, (long long)s->id, s->name);
    }
    shape->single = true;
    for (size_t i = 0; rc == 0 && i < m->ndynamic; i++) {
        struct field_rule r = {m->dynamic[i].field, H5T_FLOAT,
                               m->dynamic[i].comps, true};
        rc = check_field(f, s, &r, shape, err);
        if (rc == 0 && i == 0) {
            rc = check_extent(f, s, shape, shape->field[r.field].leaf, err);
        }
        const struct ms_field_shape *fs = &shape->field[r.field];
        shape->single = shape->single && fs->single;
        shape->elem_size =
            fs->elem_size > shape->elem_size ? fs->elem_size : shape->elem_size;
    }
    const struct field_rule statics[] = {
        {MS_FIELD_MESH_POS, H5T_FLOAT, m->mesh_dims, false},
        {MS_FIELD_NODE_TYPE, H5T_INTEGER, 1, false},
        {MS_FIELD_CELLS, H5T_INTEGER, 0, false},
    };
    for (size_t i = 0; rc == 0 && i < MS_ARRAY_SIZE(statics); i++) {
        rc = check_field(f, s, &statics[i], shape, err);
    }
    return rc;
}
