/*
 * generate.c: a synthetic deforming-plate dataset in the layout of
 * docs/spec.md section 1, for demos, tests and benchmarks (and, with a
 * trajectory model, DeepMind's layout: generate_trajectory.c).
 *
 * Each sample is the same triangulated rectangular plate (N nodes on a grid,
 * the last grid row possibly partial) pressed by a smooth bump whose centre,
 * width and depth depend on the sample; the displacement grows with time, the
 * stress follows the bending, and the part number marks the clamped border.
 * Everything derives from the seed through splitmix64, so the same options
 * give the same bytes.  The train/val/test splits (80/10/10 of the ids) go
 * to metadata/splits, as the training pipeline's dataset builder writes
 * them.  It writes the file in blocks of timesteps and never
 * holds a whole sample.  It is the only code besides writeback.c that
 * writes HDF5, and it writes only the file it creates.
 */
#include "generate/generate.h"

#include <hdf5.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_BYTES (8u << 20)
#define CHUNK_BYTES (256u << 10)

void
ms_generate_options_init(struct ms_generate_options *o)
{
    memset(o, 0, sizeof(*o));
    o->samples = 10;
    o->timesteps = 100;
    o->nodes = 1300;
    o->features = 8;
    o->seed = 1;
}

/* The plate: nx columns, rows filled in order; node n at (n % nx, n / nx). */
struct plate {
    size_t N, nx, ny;
    double h;
};

static struct plate
plate_of(size_t N)
{
    struct plate p = {.N = N};
    p.nx = (size_t)ceil(sqrt((double)N * 2.0));
    p.nx = p.nx < 2 ? 2 : p.nx;
    p.ny = (N + p.nx - 1) / p.nx;
    p.h = 1.0 / (double)(p.nx - 1);
    return p;
}

/* The plate's edges: right, up and the up-right diagonal of each grid cell
 * whose ends exist.  With edges NULL it only counts them. */
static size_t
plate_edges(const struct plate *p, int64_t *edges, size_t E)
{
    size_t e = 0;
    for (size_t n = 0; n < p->N; n++) {
        size_t i = n % p->nx;
        size_t candidates[3] = {i + 1 < p->nx ? n + 1 : SIZE_MAX,
                                n + p->nx,
                                i + 1 < p->nx ? n + p->nx + 1 : SIZE_MAX};
        for (int c = 0; c < 3; c++) {
            if (candidates[c] < p->N) {
                if (edges != NULL) {
                    edges[e] = (int64_t)n;
                    edges[E + e] = (int64_t)candidates[c];
                }
                e++;
            }
        }
    }
    return e;
}

struct load {
    double cx, cy, width, depth, twist, stress_scale;
};

static struct load
load_of(uint64_t seed, unsigned sample)
{
    uint64_t st = seed * 0x2545f4914f6cdd1dULL + sample + 1;
    struct load l;
    l.cx = 0.2 + 0.6 * ms__uniform(&st);
    l.cy = 0.1 + 0.3 * ms__uniform(&st);
    l.width = 0.08 + 0.15 * ms__uniform(&st);
    l.depth = 0.01 + 0.04 * ms__uniform(&st);
    l.twist = 0.2 * (ms__uniform(&st) - 0.5);
    l.stress_scale = 1e5 * (0.5 + ms__uniform(&st));
    return l;
}

/* Fill rows [0, F) of timesteps [t0, t0 + nt) of one sample. */
static void
fill_block(float *buf, size_t F, size_t nt, size_t t0, size_t T,
           const struct plate *p, const struct load *l)
{
    size_t N = p->N;
    for (size_t k = 0; k < nt; k++) {
        double s = (double)(t0 + k + 1) / (double)T; /* load ramps up */
        double s2 = s * s;
        for (size_t n = 0; n < N; n++) {
            size_t i = n % p->nx, j = n / p->nx;
            double x = (double)i * p->h, y = (double)j * p->h;
            double dx = x - l->cx, dy = y - l->cy;
            double r2 = (dx * dx + dy * dy) / (l->width * l->width);
            double bump = exp(-r2);
            bool border = i == 0 || i + 1 == p->nx || j == 0;
            double v[8];
            v[0] = x;
            v[1] = y;
            v[2] = 0.0;
            /* The clamped border does not move (exactly +0, not -0). */
            v[3] = border ? 0.0
                          : l->twist * s * dy * bump -
                                0.1 * l->depth * s2 * dx * bump;
            v[4] = border ? 0.0
                          : -l->twist * s * dx * bump -
                                0.1 * l->depth * s2 * dy * bump;
            v[5] = border ? 0.0
                          : -l->depth * s * bump * (1.0 + 0.05 * sin(40 * x));
            v[6] = l->stress_scale * s * bump * fabs(1.0 - r2);
            v[7] = border ? 1.0 : 0.0;
            for (size_t f = 0; f < F; f++) {
                double value = f < 8 ? v[f] : 0.001 * (double)f * s * bump;
                buf[(f * nt + k) * N + n] = (float)value;
            }
        }
    }
}

static hid_t
nodal_dcpl(const struct ms_generate_options *o, size_t T, size_t N)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (o->chunked || o->gzip) {
        size_t tc = CHUNK_BYTES / (sizeof(float) * N);
        tc = tc < 1 ? 1 : tc > T ? T : tc;
        hsize_t chunk[3] = {1, tc, N};
        H5Pset_chunk(dcpl, 3, chunk);
        if (o->gzip) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 4);
        }
    }
    return dcpl;
}

static herr_t
write_sample(hid_t data, unsigned s, const struct ms_generate_options *o,
             const struct plate *p, const int64_t *edges, size_t E,
             float *buf, size_t block_t)
{
    size_t F = o->features, T = o->timesteps, N = p->N;
    char name[32];
    snprintf(name, sizeof(name), "%u", s);
    hid_t g = H5Gcreate2(data, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t edims[2] = {2, E};
    hid_t espace = H5Screate_simple(2, edims, NULL);
    hid_t eset = H5Dcreate2(g, "mesh_edge", H5T_STD_I64LE, espace,
                            H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = H5Dwrite(eset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, edges);
    H5Dclose(eset);
    H5Sclose(espace);

    hsize_t dims[3] = {F, T, N};
    hid_t space = H5Screate_simple(3, dims, NULL);
    hid_t dcpl = nodal_dcpl(o, T, N);
    hid_t dset = H5Dcreate2(g, "nodal_data", H5T_IEEE_F32LE, space,
                            H5P_DEFAULT, dcpl, H5P_DEFAULT);
    struct load l = load_of(o->seed, s);
    for (size_t t0 = 0; rc >= 0 && t0 < T; t0 += block_t) {
        size_t nt = T - t0 < block_t ? T - t0 : block_t;
        fill_block(buf, F, nt, t0, T, p, &l);
        hsize_t start[3] = {0, t0, 0}, count[3] = {F, nt, N};
        hid_t mspace = H5Screate_simple(3, count, NULL);
        rc = H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count,
                                 NULL);
        if (rc >= 0) {
            rc = H5Dwrite(dset, H5T_NATIVE_FLOAT, mspace, space, H5P_DEFAULT,
                          buf);
        }
        H5Sclose(mspace);
    }
    H5Dclose(dset);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
    return rc < 0 || g < 0 || dset < 0 ? -1 : 0;
}

static herr_t
write_file_attributes(hid_t file, const struct ms_generate_options *o)
{
    const char *names[] = {"num_samples", "num_timesteps", "num_nodes",
                           "num_features"};
    unsigned values[] = {o->samples, o->timesteps, o->nodes, o->features};
    for (size_t i = 0; i < MS_ARRAY_SIZE(names); i++) {
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(file, names[i], H5T_STD_U32LE, space,
                             H5P_DEFAULT, H5P_DEFAULT);
        herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT, &values[i]);
        if (a >= 0) {
            H5Aclose(a);
        }
        H5Sclose(space);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

static int
check_generate_options(const struct ms_generate_options *o,
                       struct ms_error *err)
{
    if (o->samples < 1 || o->timesteps < 1 || o->nodes < 2) {
        return ms__error_set(err, MS_EINVAL,
                             "generate: need at least 1 sample, 1 timestep "
                             "and 2 nodes");
    }
    if (o->model <= MS_MODEL_NODAL &&
        (o->features < MS_MIN_FEATURE_ROWS || o->features > 64)) {
        return ms__error_set(err, MS_EINVAL,
                             "generate: --features must be 6..64 (the "
                             "feature rows of nodal_data)");
    }
    if ((unsigned)o->model >= MS_MODEL_COUNT) {
        return ms__error_set(err, MS_EINVAL, "generate: no such model");
    }
    if (o->model > MS_MODEL_NODAL && (o->timesteps < 3 || o->nodes < 4)) {
        return ms__error_set(err, MS_EINVAL,
                             "generate: a trajectory needs at least 3 frames "
                             "(the models use frames 1 .. T-2) and 4 nodes");
    }
    return 0;
}

int
ms_generate(const char *path, const struct ms_generate_options *o,
            struct ms_error *err)
{
    int rc = check_generate_options(o, err);
    if (rc != 0) {
        return rc;
    }
    ms__hdf5_quiet();
    if (o->model != MS_MODEL_AUTO && o->model != MS_MODEL_NODAL) {
        return ms__generate_trajectories(path, o, err);
    }
    struct plate p = plate_of(o->nodes);
    size_t E = plate_edges(&p, NULL, 0);
    size_t per_t = (size_t)o->features * p.N * sizeof(float);
    size_t block_t = BLOCK_BYTES / per_t;
    block_t = block_t < 1 ? 1 : block_t > o->timesteps ? o->timesteps : block_t;
    int64_t *edges = ms__calloc(E ? 2 * E : 1, sizeof(*edges));
    float *buf = ms__calloc(block_t * per_t / sizeof(float), sizeof(float));
    if (edges == NULL || buf == NULL) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
        goto fail_alloc;
    }
    plate_edges(&p, edges, E);
    struct ms_gen_file g;
    rc = ms__gen_create(&g, path, err);
    if (rc != 0) {
        goto fail_alloc;
    }
    hid_t file = g.file;
    hid_t data = H5Gcreate2(file, "data", H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT);
    herr_t status = data < 0 ? -1 : write_file_attributes(file, o);
    int splits = status < 0 ? 0 : ms__write_splits(file, o->samples);
    if (splits == MS_ENOMEM) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
    }
    status = status < 0 || splits != 0 ? -1 : status;
    for (unsigned s = 0; status >= 0 && s < o->samples; s++) {
        status = write_sample(data, s, o, &p, edges, E, buf, block_t);
    }
    if (data >= 0) {
        H5Gclose(data);
    }
    if (status < 0 && rc == 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        rc = ms__error_set(err, MS_EIO, "%s: writing failed: %s", path, msg);
    }
    rc = ms__gen_finish(&g, path, rc, err);
fail_alloc:
    ms__free(buf);
    ms__free(edges);
    return rc;
}
