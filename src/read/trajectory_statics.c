/*
 * trajectory_statics.c: what a trajectory holds once, read at frame 0:
 * mesh_pos (or pos), node_type and cells, whether they are tiled over the
 * frames (DeepMind's parser repeats them) or stored once as (1, N, F).
 * Node types are checked against DeepMind's NodeType (0..8) and cell
 * vertices against the trajectory's nodes; the cells become the distinct
 * edges of the mesh (mesh_edges.c).  Failures name the file, the
 * trajectory and the field.  Runs on the thread that checks samples
 * (planning) and on workers (a sample's first task); it never writes.
 */
#include "read/hdf5_file.h"

#include <stdio.h>

/* Frame 0 of a (T or 1, count, F) field, as mem_type, into buf. */
static int
read_frame0(struct ms_file *f, const struct ms_sample_name *s,
            const struct ms_field_shape *fs, hid_t mem_type, void *buf,
            struct ms_error *err)
{
    hsize_t start[3] = {0, 0, 0}, count[3] = {1, fs->count, fs->F};
    return ms__sample_read_frames(f, s, fs->leaf, start, count, mem_type, buf,
                                  err);
}

/* mesh_pos at frame 0 as x, y, z per node (z 0 for a 2D mesh). */
static int
read_mesh_pos(struct ms_file *f, const struct ms_sample_name *s,
              const struct ms_field_shape *fs, double *out,
              struct ms_error *err)
{
    size_t N = fs->count, F = fs->F;
    double *raw = ms__calloc(N * F > 0 ? N * F : 1, sizeof(double));
    if (raw == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", f->path);
    }
    int rc = read_frame0(f, s, fs, H5T_NATIVE_DOUBLE, raw, err);
    for (size_t n = 0; rc == 0 && n < N; n++) {
        for (size_t c = 0; c < 3; c++) {
            out[3 * n + c] = c < F ? raw[n * F + c] : 0.0;
        }
    }
    ms__free(raw);
    return rc;
}

/* node_type at frame 0, each checked 0..8. */
static int
read_node_type(struct ms_file *f, const struct ms_sample_name *s,
               const struct ms_field_shape *fs, unsigned char *out,
               struct ms_error *err)
{
    size_t N = fs->count;
    int64_t *raw = ms__calloc(N ? N : 1, sizeof(int64_t));
    if (raw == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", f->path);
    }
    int rc = read_frame0(f, s, fs, H5T_NATIVE_INT64, raw, err);
    for (size_t n = 0; rc == 0 && n < N; n++) {
        if (raw[n] < 0 || raw[n] >= MS_NODE_TYPES) {
            SAMPLE_FAIL(MS_ERANGE,
                        "%s/%s: node %zu has type %lld at frame 0; expected "
                        "0..%d (DeepMind's NodeType)",
                        s->name, fs->leaf, n, (long long)raw[n],
                        MS_NODE_TYPES - 1);
        }
        if (out != NULL) {
            out[n] = (unsigned char)raw[n];
        }
    }
done:
    ms__free(raw);
    return rc;
}

/* The distinct edges of the cells at frame 0. */
static int
read_cells(struct ms_file *f, const struct ms_sample_name *s,
           const struct ms_field_shape *fs, size_t N, uint32_t *from,
           uint32_t *to, size_t *E, struct ms_error *err)
{
    size_t C = fs->count, k = fs->F;
    int64_t *raw = ms__calloc(C * k > 0 ? C * k : 1, sizeof(int64_t));
    if (raw == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", f->path);
    }
    int rc = read_frame0(f, s, fs, H5T_NATIVE_INT64, raw, err);
    struct ms_cell_error bad = {0, 0};
    int made = rc == 0 ? ms__mesh_edges(raw, C, k, N, from, to, E, &bad) : 0;
    if (made == MS_ERANGE) {
        SAMPLE_FAIL(MS_ERANGE,
                    "%s/%s: cell %zu at frame 0 names node %lld; the "
                    "trajectory has %zu nodes (0..%zu)",
                    s->name, fs->leaf, bad.cell, (long long)bad.value, N,
                    N ? N - 1 : 0);
    }
    if (made != 0) {
        SAMPLE_FAIL(made, "%s/%s: %s", s->name, fs->leaf,
                    made == MS_ENOMEM ? "out of memory"
                                      : "too many cells to index");
    }
done:
    ms__free(raw);
    return rc;
}

int
ms__trajectory_read_statics(struct ms_file *f, const struct ms_sample_name *s,
                            const struct ms_sample_shape *shape,
                            double *mesh_pos, unsigned char *node_type,
                            uint32_t *from, uint32_t *to, size_t *E,
                            struct ms_error *err)
{
    ms__hdf5_quiet();
    const struct ms_field_shape *fields = shape->field;
    int rc = 0;
    if (mesh_pos != NULL) {
        rc = read_mesh_pos(f, s, &fields[MS_FIELD_MESH_POS], mesh_pos, err);
    }
    if (rc == 0) {
        rc = read_node_type(f, s, &fields[MS_FIELD_NODE_TYPE], node_type, err);
    }
    size_t edges = 0;
    if (rc == 0) {
        rc = read_cells(f, s, &fields[MS_FIELD_CELLS], shape->N, from, to,
                        &edges, err);
    }
    if (E != NULL) {
        *E = edges;
    }
    return rc;
}
