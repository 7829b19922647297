/*
 * test_pipeline.c: the event loop gives the same bytes whatever the prefetch
 * depth, memory limit and read path; errors inside units travel back; the
 * progress line is well formed.
 *
 * The threadpool size is fixed per process at its first use, so different
 * worker counts are compared in test_oracle.py, one process each.
 */
#include "helpers.h"
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void
teardown(void)
{
    ms__reader_force_hdf5(false);
    helper_dir_teardown();
}

/* The checked shape of sample "0" of the file at path. */
static struct ms_sample_shape
shape_of(const char *path)
{
    struct ms_file *f;
    cr_assert_eq(ms__file_open(path, &f, NULL), 0);
    struct ms_sample_name name = {0, "0"};
    struct ms_sample_shape shape;
    cr_assert_eq(ms__sample_shape(f, &name, 4, 4, &shape, NULL), 0);
    ms__file_close(f);
    return shape;
}

static char *
json_with(const char *path, unsigned prefetch, uint64_t limit,
          unsigned max_timesteps)
{
    struct ms_options o;
    ms_options_init(&o);
    o.workers = 2;
    o.prefetch = prefetch;
    o.memory_limit = limit;
    o.max_timesteps = max_timesteps;
    struct ms_stats *s = NULL;
    struct ms_error err;
    cr_assert_eq(ms_stats_compute(path, &o, &s, &err), 0, "%s", err.message);
    /* An explicit depth is used as given; auto is twice the workers when
     * the limit allows (256M), and at least one unit within 1M. */
    unsigned want = prefetch ? prefetch : limit >= (16u << 20) ? 4 : 0;
    if (want != 0) {
        cr_assert_eq(s->info.prefetch, want, "prefetch %u, limit %llu",
                     prefetch, (unsigned long long)limit);
    } else {
        cr_assert(s->info.prefetch >= 1 && s->info.prefetch <= 4,
                  "auto prefetch %u within 1M", s->info.prefetch);
    }
    static char *buf;
    static size_t len;
    FILE *m = open_memstream(&buf, &len);
    ms_stats_write_json(s, m);
    fclose(m);
    ms_stats_destroy(s);
    char *out = buf;
    buf = NULL;
    return out;
}

Test(pipeline, json_identical_for_any_prefetch_and_memory_limit,
     .init = helper_dir_setup, .fini = teardown)
{
    /* 3000 nodes x 7 rows: 168 KB a timestep, so 1M splits each 60-step
     * sample into many units and the default into three. */
    char *path = helper_generate(helper_dir, "p.h5", 5, 60, 3000);
    static const struct {
        unsigned prefetch;
        uint64_t limit;
    } cases[] = {{1, 256 << 20}, {2, 256 << 20}, {3, 256 << 20},
                 {16, 256 << 20}, {0, 256 << 20}, {1, 1 << 20},
                 {2, 1 << 20},    {0, 1 << 20}};
    for (unsigned mode = 0; mode < 2; mode++) {
        char *first = NULL;
        for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
            char *json = json_with(path, cases[c].prefetch, cases[c].limit,
                                   mode ? 7 : 0);
            if (first == NULL) {
                first = json;
                continue;
            }
            cr_expect_str_eq(json, first, "prefetch %u, limit %llu, -s %u",
                             cases[c].prefetch,
                             (unsigned long long)cases[c].limit,
                             mode ? 7 : 0);
            free(json);
        }
        free(first);
    }
    free(path);
}

Test(pipeline, direct_and_hdf5_read_paths_give_identical_results,
     .init = helper_dir_setup, .fini = teardown)
{
    char *path = helper_generate(helper_dir, "paths.h5", 3, 20, 500);
    struct ms_sample_shape shape = shape_of(path);
    cr_expect_neq(shape.direct_offset, MS_NO_DIRECT_READ,
                  "a contiguous float32 dataset is read directly");
    for (unsigned mode = 0; mode < 2; mode++) {
        ms__reader_force_hdf5(false);
        char *direct = json_with(path, 3, 1 << 20, mode ? 4 : 0);
        ms__reader_force_hdf5(true);
        char *hdf5 = json_with(path, 3, 1 << 20, mode ? 4 : 0);
        cr_expect_str_eq(direct, hdf5, "-s %u", mode ? 4 : 0);
        free(direct);
        free(hdf5);
    }
    free(path);
}

Test(pipeline, gzip_chunks_decoded_by_workers_equal_hdf5_decoding,
     .init = helper_dir_setup, .fini = teardown)
{
    char *path = helper_path(helper_dir, "gz.h5");
    struct ms_generate_options g;
    ms_generate_options_init(&g);
    g.samples = 3;
    g.timesteps = 45;
    g.nodes = 700;
    g.gzip = true;
    cr_assert_eq(ms_generate(path, &g, NULL), 0);
    struct ms_sample_shape shape = shape_of(path);
    cr_expect_neq(shape.chunk[0], 0, "gzip+shuffle chunks are decodable");
    /* h5py's order, as HDF5 applied them: shuffle, then deflate. */
    cr_expect_eq(shape.filters.count, 2);
    cr_expect_eq(shape.filters.id[0], MS_FILTER_SHUFFLE);
    cr_expect_eq(shape.filters.id[1], MS_FILTER_DEFLATE);
    for (unsigned mode = 0; mode < 2; mode++) {
        ms__reader_force_hdf5(false);
        char *workers = json_with(path, 3, 256 << 20, mode ? 6 : 0);
        ms__reader_force_hdf5(true);
        char *hdf5 = json_with(path, 3, 256 << 20, mode ? 6 : 0);
        cr_expect_str_eq(workers, hdf5, "-s %u", mode ? 6 : 0);
        free(workers);
        free(hdf5);
    }
    free(path);
}

/* Sample "0" of F x T x N float64 values and a chain of edges, stored
 * chunked (chunk dims) or, with chunk NULL, contiguous. */
static char *
float64_file(const char *name, const double *v, size_t F, size_t T, size_t N,
             const hsize_t *chunk)
{
    char *path = helper_path(helper_dir, name);
    hid_t h = helper_h5_create(path, 1);
    hid_t g = H5Gcreate2(h, "data/0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[3] = {F, T, N};
    hid_t space = H5Screate_simple(3, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk != NULL) {
        H5Pset_chunk(dcpl, 3, chunk);
    }
    hid_t d = H5Dcreate2(g, "nodal_data", H5T_IEEE_F64LE, space, H5P_DEFAULT,
                         dcpl, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
    int64_t edges[2 * 5];
    for (int e = 0; e < 5; e++) {
        edges[e] = e;
        edges[5 + e] = e + 1;
    }
    helper_h5_edges(h, "0", H5T_STD_I64LE, edges, 5);
    H5Fclose(h);
    return path;
}

Test(pipeline, chunked_and_float64_datasets_go_through_hdf5,
     .init = helper_dir_setup, .fini = teardown)
{
    enum { F = 8, T = 9, N = 6 };
    double v[F * T * N];
    helper_fill(v, F, T, N, 0.5);
    hsize_t chunk[3] = {3, 2, 4}; /* partial chunks on every axis */
    char *chunked = float64_file("f64c.h5", v, F, T, N, chunk);
    char *plain = float64_file("f64.h5", v, F, T, N, NULL);
    struct ms_sample_shape shape = shape_of(chunked);
    cr_expect_eq(shape.elem_size, 8);
    cr_expect_eq(shape.single, false, "float64 is read as double");
    cr_expect_eq(shape.direct_offset, MS_NO_DIRECT_READ);
    cr_expect_eq(shape.chunk_t, 2, "the chunks are seen");
    cr_expect_eq(shape.chunk[0], 0, "float64 chunks are not the workers'");
    cr_expect_eq(shape_of(plain).chunk_t, 1, "the plain copy is contiguous");
    for (unsigned mode = 0; mode < 2; mode++) {
        char *a = json_with(chunked, 2, 1 << 20, mode ? 3 : 0);
        char *b = json_with(plain, 2, 1 << 20, mode ? 3 : 0);
        /* The same values, stored two ways: the same statistics. */
        cr_expect_str_eq(strstr(a, "\"node\""), strstr(b, "\"node\""),
                         "-s %u", mode ? 3 : 0);
        free(a);
        free(b);
    }
    free(chunked);
    free(plain);
}

Test(pipeline, unfiltered_chunks_are_read_by_hdf5_not_by_workers,
     .init = helper_dir_setup, .fini = teardown)
{
    /* For unfiltered chunks HDF5 1.10.8 reports the nominal chunk size but
     * H5Dread_chunk reads the size in the chunk index: a damaged file made
     * it write past our buffer (found by the dataset fuzzer).  Such data
     * must go through H5Dread. */
    char *path = helper_path(helper_dir, "plainchunks.h5");
    hid_t h = helper_h5_create(path, 1);
    hid_t g = H5Gcreate2(h, "data/0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[3] = {8, 4, 6}, chunk[3] = {2, 2, 3};
    hid_t space = H5Screate_simple(3, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    float values[8 * 4 * 6] = {0};
    hid_t d = H5Dcreate2(g, "nodal_data", H5T_IEEE_F32LE, space, H5P_DEFAULT,
                         dcpl, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
    int64_t edges[2] = {0, 1};
    helper_h5_edges(h, "0", H5T_STD_I64LE, edges, 1);
    H5Fclose(h);
    struct ms_sample_shape shape = shape_of(path);
    cr_expect_eq(shape.chunk[0], 0, "no worker decoding without a filter");
    cr_expect_eq(shape.chunk_t, 2, "units still align to the chunks");
    free(path);
}

/* A file of `samples` chain meshes (node n linked to n + 1) of F = 8 rows,
 * T timesteps and N nodes; spoil(s, values, edges) may damage sample s. */
typedef void (*spoil_fn)(int s, double *values, int64_t *edges, size_t T,
                         size_t N);

static char *
chain_file(const char *name, int samples, size_t T, size_t N, spoil_fn spoil)
{
    char *path = helper_path(helper_dir, name);
    size_t F = 8, E = N - 1;
    double *v = malloc(F * T * N * sizeof(*v));
    int64_t *edges = malloc(2 * E * sizeof(*edges));
    hid_t h = helper_h5_create(path, 1);
    for (int s = 0; s < samples; s++) {
        for (size_t e = 0; e < E; e++) {
            edges[e] = (int64_t)e;
            edges[E + e] = (int64_t)e + 1;
        }
        helper_fill(v, F, T, N, s);
        spoil(s, v, edges, T, N);
        char sample[8];
        snprintf(sample, sizeof(sample), "%d", s);
        helper_h5_sample(h, sample, F, T, N, v, edges, E);
    }
    H5Fclose(h);
    free(v);
    free(edges);
    return path;
}

/* Sample 3 gets an out-of-range edge. */
static void
spoil_edge_of_sample_3(int s, double *v, int64_t *edges, size_t T, size_t N)
{
    (void)v;
    (void)T;
    if (s == 3) {
        edges[(N - 1) + 100] = (int64_t)N;
    }
}

/* Samples 2 and 3 get a NaN in row 4 at timestep 33, node 17. */
static void
spoil_value_of_samples_2_and_3(int s, double *v, int64_t *edges, size_t T,
                               size_t N)
{
    (void)edges;
    if (s >= 2) {
        v[(4 * T + 33) * N + 17] = NAN;
    }
}

static void
ignore_warning(void *userdata, int64_t id, const char *message)
{
    (void)message;
    *(int64_t *)userdata = id;
}

Test(pipeline, bad_sample_among_units_in_flight_is_skipped, .init = helper_dir_setup,
     .fini = teardown)
{
    char *path = chain_file("bad.h5", 6, 30, 400, spoil_edge_of_sample_3);
    for (unsigned prefetch = 1; prefetch <= 16; prefetch *= 4) {
        struct ms_options o;
        ms_options_init(&o);
        o.workers = 2;
        o.prefetch = prefetch;
        o.memory_limit = 1 << 20;
        int64_t warned = -1;
        o.on_warning = ignore_warning;
        o.userdata = &warned;
        struct ms_stats *s = NULL;
        struct ms_error err;
        cr_assert_eq(ms_stats_compute(path, &o, &s, &err), 0, "%s",
                     err.message);
        cr_expect_eq(s->samples_used, 5);
        cr_expect_eq(s->nskipped, 1);
        cr_expect_eq(s->skipped[0].id, 3);
        cr_expect(strstr(s->skipped[0].reason, "edge 100 = (100, 400)") !=
                      NULL,
                  "%s", s->skipped[0].reason);
        cr_expect_eq(warned, 3);
        ms_stats_destroy(s);
        o.strict = true;
        cr_expect_eq(ms_stats_compute(path, &o, &s, &err), MS_EBADSAMPLE);
        cr_expect(strstr(err.message, "sample 3") != NULL, "%s", err.message);
    }
    free(path);
}

Test(pipeline, nonfinite_in_a_late_unit_fails_with_the_first_in_order,
     .init = helper_dir_setup, .fini = teardown)
{
    char *path =
        chain_file("nan.h5", 4, 40, 300, spoil_value_of_samples_2_and_3);
    for (int run = 0; run < 5; run++) {
        struct ms_options o;
        ms_options_init(&o);
        o.workers = 2;
        o.prefetch = 16;
        o.memory_limit = 1 << 20;
        struct ms_stats *s = NULL;
        struct ms_error err;
        cr_expect_eq(ms_stats_compute(path, &o, &s, &err), MS_ENONFINITE);
        cr_expect_null(s);
        cr_expect(strstr(err.message, "sample 2:") != NULL, "run %d: %s", run,
                  err.message);
        cr_expect(strstr(err.message, "timestep 33, node 17") != NULL, "%s",
                  err.message);
    }
    free(path);
}

Test(pipeline, explicit_prefetch_that_does_not_fit_names_both_options,
     .init = helper_dir_setup, .fini = teardown)
{
    char *path = helper_generate(helper_dir, "fit.h5", 2, 10, 3000);
    struct ms_options o;
    ms_options_init(&o);
    o.prefetch = 16;
    o.memory_limit = 1 << 20;
    struct ms_stats *s = NULL;
    struct ms_error err;
    cr_expect_eq(ms_stats_compute(path, &o, &s, &err), MS_ETOOBIG);
    cr_expect(strstr(err.message, "--memory-limit") != NULL, "%s",
              err.message);
    cr_expect(strstr(err.message, "--prefetch") != NULL, "%s", err.message);
    o.prefetch = 0; /* auto lowers itself to what fits */
    cr_expect_eq(ms_stats_compute(path, &o, &s, &err), 0, "%s", err.message);
    cr_expect_leq(s->info.prefetch, 3);
    ms_stats_destroy(s);
    free(path);
}

static int progress_calls;
static struct ms_progress last_progress;

static void
record_progress(void *userdata, const struct ms_progress *p)
{
    (void)userdata;
    progress_calls++;
    last_progress = *p;
}

Test(pipeline, progress_ends_finished_with_everything_counted,
     .init = helper_dir_setup, .fini = teardown)
{
    char *path = helper_generate(helper_dir, "prog.h5", 4, 12, 200);
    struct ms_options o;
    ms_options_init(&o);
    o.on_progress = record_progress;
    progress_calls = 0;
    struct ms_stats *s = NULL;
    cr_assert_eq(ms_stats_compute(path, &o, &s, NULL), 0);
    cr_expect_geq(progress_calls, 1);
    cr_expect(last_progress.finished);
    cr_expect_eq(last_progress.samples_done, 4);
    cr_expect_eq(last_progress.samples_total, 4);
    cr_expect_eq(last_progress.units_done, last_progress.units_total);
    cr_expect_eq(last_progress.units_total, 4, "one unit a sample");
    /* Each sample is one unit (67 KB, far under the unit target), which
     * reads 12 timesteps x 7 rows x 200 nodes of float32 once. */
    const uint64_t stored = 4u * 12 * 7 * 200 * 4;
    cr_expect_eq(last_progress.bytes_total, stored);
    cr_expect_eq(last_progress.bytes_done, stored);
    cr_expect_eq(s->info.bytes_read, stored);
    ms_stats_destroy(s);
    free(path);
}

Test(progress, line_fits_the_width_and_shows_percent_and_eta)
{
    struct ms_progress p = {.samples_done = 42,
                            .samples_total = 100,
                            .units_done = 5,
                            .units_total = 10,
                            .bytes_done = 420000000,
                            .bytes_total = 1000000000,
                            .elapsed = 2.0};
    static const unsigned widths[] = {80, 120, 300};
    for (size_t w = 0; w < MS_ARRAY_SIZE(widths); w++) {
        char line[512];
        size_t len = ms_progress_format(&p, widths[w], line, sizeof(line));
        cr_expect_eq(len, strlen(line));
        cr_expect(strncmp(line, " 42% [", 6) == 0, "'%s'", line);
        cr_expect(strstr(line, "42/100 samples") != NULL, "'%s'", line);
        cr_expect(strstr(line, "210.0 MB/s") != NULL, "'%s'", line);
        cr_expect(strstr(line, "0:02 ETA 0:03") != NULL, "'%s'", line);
        cr_expect_leq(len, widths[w], "width %u: '%s'", widths[w], line);
        cr_expect_eq(strchr(line, '\r'), NULL);
        cr_expect_eq(strchr(line, '\n'), NULL);
    }
    /* Every width fits; fields go ETA first, then the elapsed time, the
     * rate, the counts; then the bar shortens; at 10 columns or fewer,
     * the percentage alone.  A field once gone stays gone. */
    bool had[4] = {true, true, true, true};
    static const char *fields[] = {"samples", "MB/s", "0:02", "ETA"};
    for (unsigned width = 79; width >= 1; width--) {
        char line[512];
        size_t len = ms_progress_format(&p, width, line, sizeof(line));
        cr_expect_leq(len, width, "width %u: '%s'", width, line);
        for (int k = 0; k < 4; k++) {
            bool has = strstr(line, fields[k]) != NULL;
            cr_expect(!has || had[k], "width %u: '%s' back", width, line);
            cr_expect(!has || k == 0 || strstr(line, fields[k - 1]),
                      "width %u: '%s' kept before '%s'", width, fields[k],
                      fields[k - 1]);
            had[k] = has;
        }
        if (width <= 10) {
            cr_expect_str_eq(line, width >= 3 ? "42%" : (width == 2 ? "42"
                                                                   : "4"));
        } else {
            cr_expect(strncmp(line, " 42% [", 6) == 0, "'%s'", line);
        }
    }
    char narrow[64];
    ms_progress_format(&p, 47, narrow, sizeof(narrow));
    cr_expect(strstr(narrow, "samples") && strstr(narrow, "MB/s") &&
                  !strstr(narrow, "0:02") && !strstr(narrow, "ETA"),
              "47 columns: '%s'", narrow);
    p.finished = true;
    p.bytes_done = p.bytes_total;
    char line[512];
    ms_progress_format(&p, 80, line, sizeof(line));
    cr_expect(strncmp(line, "100% [====", 10) == 0, "'%s'", line);
    cr_expect(strstr(line, "done") != NULL, "'%s'", line);
    p.bytes_done = p.bytes_total / 3;
    ms_progress_format(&p, 80, line, sizeof(line));
    cr_expect(strstr(line, "stopped") != NULL, "'%s'", line);
}
