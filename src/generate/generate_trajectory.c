/*
 * generate_trajectory.c: synthetic trajectories in DeepMind's layout, one
 * model each, for demos, tests and benchmarks (docs/models.md):
 *
 *   cloth  a flag: a triangulated grid (mesh_pos 2D) hanging from its
 *          handle column (node type 3), waving; world_pos (T, N, 3); the
 *          static fields tiled over T, as DeepMind's parser writes them.
 *   cfd    a channel: a triangulated grid, inflow (4), outflow (5) and
 *          wall (6) nodes; velocity (T, N, 2) and pressure (T, N, 1);
 *          the static fields stored once as (1, N, F), mesh_pos as "pos".
 *   plate  a plate of tetrahedra (three layers of nodes, clamped at one
 *          end: type 3) pressed by a block of obstacle nodes (type 1);
 *          world_pos (T, N, 3) and stress (T, N, 1); statics tiled.
 *
 * Trajectory ids are 0 .. samples - 1, groups at the file's root; every
 * value derives from the seed, so the same options give the same bytes.
 * Frames are written in blocks: memory does not grow with T.
 */
#include "generate/generate.h"

#include <hdf5.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_BYTES (8u << 20)

/* A mesh: its nodes' rest positions, types and cells. */
struct mesh {
    size_t N, C, k, dims;
    float *pos;     /* N x dims */
    int32_t *type;  /* N */
    int32_t *cells; /* C x k */
};

/* What moves, and how, in one trajectory. */
struct motion {
    enum ms_model_kind kind;
    double amp, freq, phase, speed;
};

static int
mesh_alloc(struct mesh *m, size_t N, size_t C, size_t k, size_t dims)
{
    *m = (struct mesh){N,
                       C,
                       k,
                       dims,
                       ms__calloc(N * dims, sizeof(float)),
                       ms__calloc(N, sizeof(int32_t)),
                       ms__calloc(C * k > 0 ? C * k : 1, sizeof(int32_t))};
    return m->pos && m->type && m->cells ? 0 : MS_ENOMEM;
}

static void
mesh_free(struct mesh *m)
{
    ms__free(m->pos);
    ms__free(m->type);
    ms__free(m->cells);
}

/* An nx x ny grid of spacing h, two triangles a square; node (i, j) is
 * j * nx + i. */
static int
grid2d(struct mesh *m, size_t nx, size_t ny, double h)
{
    if (mesh_alloc(m, nx * ny, 2 * (nx - 1) * (ny - 1), 3, 2) != 0) {
        return MS_ENOMEM;
    }
    for (size_t n = 0; n < m->N; n++) {
        m->pos[2 * n] = (float)((double)(n % nx) * h);
        m->pos[2 * n + 1] = (float)((double)(n / nx) * h);
    }
    int32_t *c = m->cells;
    for (size_t j = 0; j + 1 < ny; j++) {
        for (size_t i = 0; i + 1 < nx; i++) {
            int32_t a = (int32_t)(j * nx + i), b = a + 1;
            int32_t d = a + (int32_t)nx, e = d + 1;
            int32_t tri[6] = {a, b, e, a, e, d};
            memcpy(c, tri, sizeof(tri));
            c += 6;
        }
    }
    return 0;
}

/* A block of nx x ny x nz nodes at origin o, spacing h, node type t, six
 * tetrahedra a cube, appended at node n0 and cell c0. */
static void
block3d(struct mesh *m, size_t n0, size_t c0, const size_t n[3],
        const double o[3], double h, int32_t t)
{
    size_t nx = n[0], ny = n[1], nz = n[2];
    for (size_t z = 0, v = n0; z < nz; z++) {
        for (size_t y = 0; y < ny; y++) {
            for (size_t x = 0; x < nx; x++, v++) {
                m->pos[3 * v] = (float)(o[0] + (double)x * h);
                m->pos[3 * v + 1] = (float)(o[1] + (double)y * h);
                m->pos[3 * v + 2] = (float)(o[2] + (double)z * h);
                m->type[v] = t;
            }
        }
    }
    /* Kuhn's six tetrahedra of the cube with corners bit-coded xyz. */
    static const int tets[6][4] = {{0, 1, 3, 7}, {0, 1, 5, 7}, {0, 2, 3, 7},
                                   {0, 2, 6, 7}, {0, 4, 5, 7}, {0, 4, 6, 7}};
    int32_t *c = m->cells + 4 * c0;
    for (size_t z = 0; z + 1 < nz; z++) {
        for (size_t y = 0; y + 1 < ny; y++) {
            for (size_t x = 0; x + 1 < nx; x++) {
                for (int q = 0; q < 6; q++) {
                    for (int r = 0; r < 4; r++) {
                        int b = tets[q][r];
                        size_t v = n0 + (x + (b & 1)) +
                                   (y + (b >> 1 & 1)) * nx +
                                   (z + (b >> 2 & 1)) * nx * ny;
                        *c++ = (int32_t)v;
                    }
                }
            }
        }
    }
}

static size_t
cubes(const size_t n[3])
{
    return (n[0] - 1) * (n[1] - 1) * (n[2] - 1);
}

/* The plate (three layers, clamped at x = 0) and the obstacle above its
 * middle. */
static int
plate_mesh(struct mesh *m, size_t nodes)
{
    size_t nx = (size_t)ceil(sqrt((double)nodes / 3.0 * 2.0));
    nx = nx < 3 ? 3 : nx;
    size_t ny = nodes / 3 / nx < 2 ? 2 : nodes / 3 / nx;
    size_t plate[3] = {nx, ny, 3}, obst[3] = {3, 3, 2};
    size_t np = nx * ny * 3, no = 18;
    if (mesh_alloc(m, np + no, 6 * (cubes(plate) + cubes(obst)), 4, 3) != 0) {
        return MS_ENOMEM;
    }
    double h = 1.0 / (double)(nx - 1);
    block3d(m, 0, 0, plate, (const double[3]){0, 0, 0}, h, 0);
    double o[3] = {0.5 - h, 0.5 * h * (double)(ny - 1) - h, 2.5 * h};
    block3d(m, np, 6 * cubes(plate), obst, o, h, 1);
    for (size_t v = 0; v < np; v += nx) {
        m->type[v] = 3; /* the clamped end */
    }
    return 0;
}

/* The flag or the channel: a grid of about nodes nodes. */
static int
grid_mesh(struct mesh *m, enum ms_model_kind kind, size_t nodes)
{
    size_t nx = (size_t)ceil(sqrt((double)nodes));
    nx = nx < 2 ? 2 : nx;
    size_t ny = (nodes + nx - 1) / nx < 2 ? 2 : (nodes + nx - 1) / nx;
    if (grid2d(m, nx, ny, 1.0 / (double)(nx - 1)) != 0) {
        return MS_ENOMEM;
    }
    for (size_t n = 0; n < m->N; n++) {
        size_t i = n % nx, j = n / nx;
        if (kind == MS_MODEL_CLOTH) {
            m->type[n] = i == 0 ? 3 : 0;
        } else {
            m->type[n] = i == 0                  ? 4
                         : i + 1 == nx           ? 5
                         : j == 0 || j + 1 == ny ? 6
                                                 : 0;
        }
    }
    return 0;
}

/* The moving field of node n at frame t (world_pos, or velocity), and the
 * scalar one (stress, or pressure) into v[3]. */
static void
node_motion(const struct mesh *m, const struct motion *mo, size_t n, size_t t,
            double v[4])
{
    const float *p = m->pos + m->dims * n;
    double x = p[0], y = p[1], z = m->dims > 2 ? p[2] : 0.0;
    double w = mo->freq * (double)t + mo->phase;
    if (mo->kind == MS_MODEL_CLOTH) {
        double a = mo->amp * x * sin(6.0 * x - w);
        v[0] = x - 0.05 * a * a, v[1] = y + 0.02 * a * y, v[2] = a;
        v[3] = 0;
    } else if (mo->kind == MS_MODEL_CFD) {
        double inflow = 4.0 * y * (1.0 - y) * mo->speed;
        v[0] = m->type[n] == 6 ? 0.0 : inflow * (1.0 + 0.1 * sin(w + 5 * x));
        v[1] = m->type[n] == 6 ? 0.0 : mo->amp * sin(3 * x - w) * inflow;
        v[2] = 0, v[3] = mo->speed * (1.0 - x) + 0.01 * cos(w + y);
    } else {
        double s = (double)t * mo->speed; /* the obstacle's travel */
        double bump =
            exp(-8.0 * ((x - 0.5) * (x - 0.5) + (y - 0.25) * (y - 0.25)));
        double d = m->type[n] == 1   ? -s
                   : m->type[n] == 3 ? 0.0
                                     : -s * bump * x * mo->amp;
        v[0] = x, v[1] = y, v[2] = z + d;
        v[3] = m->type[n] == 1 ? 0.0 : 1e4 * fabs(d) * (1.0 + sin(w + x));
    }
}

/* What a dataset of a trajectory holds. */
enum source { SRC_MOVING, SRC_SCALAR, SRC_POS, SRC_TYPE, SRC_CELLS };

/* Frames [t0, t0 + nt) of a (frames, count, F) field into buf. */
static void
fill_frames(const struct mesh *m, const struct motion *mo, enum source src,
            size_t F, size_t t0, size_t nt, void *buf)
{
    float *f = buf;
    int32_t *i = buf;
    for (size_t j = 0; j < nt; j++) {
        if (src == SRC_TYPE || src == SRC_CELLS) {
            size_t n = src == SRC_TYPE ? m->N : m->C * m->k;
            memcpy(i + j * n, src == SRC_TYPE ? m->type : m->cells,
                   n * sizeof(int32_t));
            continue;
        }
        for (size_t n = 0; n < m->N; n++) {
            double v[4];
            if (src != SRC_POS) {
                node_motion(m, mo, n, t0 + j, v);
            }
            for (size_t c = 0; c < F; c++) {
                f[(j * m->N + n) * F + c] = src == SRC_POS
                                                ? m->pos[n * m->dims + c]
                                            : src == SRC_SCALAR ? (float)v[3]
                                                                : (float)v[c];
            }
        }
    }
}

/* A (frames, count, F) dataset of group g, written a block of frames at a
 * time through buf (cap bytes). */
static herr_t
write_field(hid_t g, const char *name, const struct mesh *m,
            const struct motion *mo, enum source src, const size_t dims[3],
            const struct ms_generate_options *o, void *buf, size_t cap)
{
    bool ints = src == SRC_TYPE || src == SRC_CELLS;
    hsize_t hd[3] = {dims[0], dims[1], dims[2]};
    size_t per = dims[1] * dims[2] * 4, block = per ? cap / per : 1;
    block = block < 1 ? 1 : block > dims[0] ? dims[0] : block;
    hid_t space = H5Screate_simple(3, hd, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if ((o->chunked || o->gzip) && !ints && dims[1] > 0) {
        hsize_t chunk[3] = {dims[0] < 4 ? dims[0] : 4, dims[1], dims[2]};
        H5Pset_chunk(dcpl, 3, chunk);
        if (o->gzip) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 4);
        }
    }
    hid_t d = H5Dcreate2(g, name, ints ? H5T_STD_I32LE : H5T_IEEE_F32LE, space,
                         H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : 0;
    for (size_t t0 = 0; rc >= 0 && per > 0 && t0 < dims[0]; t0 += block) {
        size_t nt = dims[0] - t0 < block ? dims[0] - t0 : block;
        fill_frames(m, mo, src, dims[2], t0, nt, buf);
        hsize_t start[3] = {t0, 0, 0}, count[3] = {nt, hd[1], hd[2]};
        hid_t ms = H5Screate_simple(3, count, NULL);
        rc = H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count,
                                 NULL);
        rc = rc < 0 ? rc
                    : H5Dwrite(d, ints ? H5T_NATIVE_INT32 : H5T_NATIVE_FLOAT,
                               ms, space, H5P_DEFAULT, buf);
        H5Sclose(ms);
    }
    if (d >= 0) {
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

/* One trajectory: its group and the model's fields. */
static herr_t
write_trajectory(hid_t file, unsigned id, const struct ms_generate_options *o,
                 const struct mesh *m, void *buf, size_t cap)
{
    uint64_t st = o->seed * 0x9e3779b97f4a7c15ULL + id + 1;
    struct motion mo = {o->model, 0.1 + 0.1 * ms__uniform(&st),
                        0.05 + 0.1 * ms__uniform(&st), 6.283 * ms__uniform(&st),
                        0.5 + ms__uniform(&st)};
    if (o->model == MS_MODEL_PLATE) {
        mo.speed = 0.2 / (double)o->timesteps;
    }
    char name[32];
    snprintf(name, sizeof(name), "%u", id);
    hid_t g = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    size_t T = o->timesteps, N = m->N;
    bool once = o->model == MS_MODEL_CFD; /* statics as (1, N, F) */
    size_t ts = once ? 1 : T;
    const struct {
        const char *name;
        enum source src;
        size_t dims[3];
    } fields[] = {
        {o->model == MS_MODEL_CFD ? "velocity" : "world_pos",
         SRC_MOVING,
         {T, N, o->model == MS_MODEL_CFD ? 2 : 3}},
        {o->model == MS_MODEL_CFD ? "pressure" : "stress",
         SRC_SCALAR,
         {o->model == MS_MODEL_CLOTH ? 0 : T, N, 1}},
        {once ? "pos" : "mesh_pos", SRC_POS, {ts, N, m->dims}},
        {"node_type", SRC_TYPE, {ts, N, 1}},
        {"cells", SRC_CELLS, {ts, m->C, m->k}},
    };
    herr_t rc = g < 0 ? -1 : 0;
    for (size_t i = 0; rc >= 0 && i < MS_ARRAY_SIZE(fields); i++) {
        if (fields[i].dims[0] > 0) {
            rc = write_field(g, fields[i].name, m, &mo, fields[i].src,
                             fields[i].dims, o, buf, cap);
        }
    }
    if (g >= 0) {
        H5Gclose(g);
    }
    return rc;
}

int
ms__generate_trajectories(const char *path, const struct ms_generate_options *o,
                          struct ms_error *err)
{
    struct mesh m;
    int rc = o->model == MS_MODEL_PLATE ? plate_mesh(&m, o->nodes)
                                        : grid_mesh(&m, o->model, o->nodes);
    size_t frame = (m.N * 3 > m.C * m.k ? m.N * 3 : m.C * m.k) * 4;
    size_t cap = frame > BLOCK_BYTES ? frame : BLOCK_BYTES;
    void *buf = rc == 0 ? ms__malloc(cap) : NULL;
    if (buf == NULL) {
        mesh_free(&m);
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
    }
    struct ms_gen_file g;
    rc = ms__gen_create(&g, path, err);
    herr_t status = rc != 0 ? -1 : 0;
    for (unsigned s = 0; status >= 0 && s < o->samples; s++) {
        status = write_trajectory(g.file, s, o, &m, buf, cap);
    }
    if (status >= 0 && ms__write_splits(g.file, o->samples) != 0) {
        status = -1;
    }
    if (status < 0 && rc == 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        rc = ms__error_set(err, MS_EIO, "%s: writing failed: %s", path, msg);
    }
    if (g.file >= 0) {
        rc = ms__gen_finish(&g, path, rc, err);
    }
    ms__free(buf);
    mesh_free(&m);
    return rc;
}
