/*
 * test_compute.c: whole passes through the library on small fixture files:
 * hand-computed results, bad input, write-back, JSON, determinism and
 * allocation failures.
 */
#include "helpers.h"
#include "pass/pass.h"

#include <H5FDcore.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The two-triangle mesh of test_features.c: 4 nodes, 5 edges. */
static const int64_t square_edges[10] = {0, 1, 2, 1, 3, 1, 2, 0, 3, 2};

static void
square_values(double *v, size_t T)
{
    static const double x[4] = {0, 1, 0, 1}, y[4] = {0, 0, 1, 1};
    memset(v, 0, 8 * T * 4 * sizeof(*v));
    for (size_t t = 0; t < T; t++) {
        for (size_t n = 0; n < 4; n++) {
            v[(0 * T + t) * 4 + n] = x[n];
            v[(1 * T + t) * 4 + n] = y[n];
            v[(3 * T + t) * 4 + n] = (double)t * (n > 0); /* disp_x */
        }
    }
}

static char *
square_file(const char *name, size_t T)
{
    char *path = helper_path(helper_dir, name);
    double v[8 * 3 * 4];
    square_values(v, T);
    hid_t f = helper_h5_create(path, 1);
    helper_h5_sample(f, "0", 8, T, 4, v, square_edges, 5);
    H5Fclose(f);
    return path;
}

static struct ms_stats *
compute_ok(const char *path, const struct ms_options *o)
{
    struct ms_stats *s = NULL;
    struct ms_error err;
    int rc = ms_stats_compute(path, o, &s, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    return s;
}

Test(compute, two_triangle_mesh_over_three_timesteps, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = square_file("square.h5", 3);
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = compute_ok(path, &o);
    /* disp_x is t at nodes 1..3: values over t = 0, 1, 2 are
     * {0,0,0,0, 0,1,1,1, 0,2,2,2}: mean 9/12, E[x^2] 15/12. */
    const struct ms_group_stats *node = &s->groups[MS_GROUP_NODE];
    cr_expect_eq(node->count, 12);
    cr_expect_eq(node->features[0].mean, 0.75);
    cr_expect(fabs(node->features[0].std - sqrt(15.0 / 12 - 0.5625)) < 1e-15);
    /* Edges: 5 stored, both directions, 3 timesteps. */
    cr_expect_eq(s->groups[MS_GROUP_EDGE].count, 30);
    cr_expect_eq(s->groups[MS_GROUP_EDGE].features[0].mean, 0.0);
    /* Deltas: t = 0, 1; disp_x changes by 1 at nodes 1..3. */
    const struct ms_group_stats *delta = &s->groups[MS_GROUP_DELTA];
    cr_expect_eq(delta->count, 8);
    cr_expect_eq(delta->features[0].mean, 0.75);
    cr_expect_eq(delta->features[0].min, 0.0);
    cr_expect_eq(delta->features[0].max, 1.0);
    cr_expect_eq(s->samples_found, 1);
    cr_expect_eq(s->samples_used, 1);
    ms_stats_destroy(s);
    free(path);
}

Test(compute, single_timestep_deltas_are_the_values, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_path(helper_dir, "t1.h5");
    double v[8 * 4];
    square_values(v, 1);
    v[(3 * 1 + 0) * 4 + 2] = 2.0; /* disp_x of node 2 */
    hid_t f = helper_h5_create(path, 1);
    helper_h5_sample(f, "0", 8, 1, 4, v, square_edges, 5);
    H5Fclose(f);
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = compute_ok(path, &o);
    cr_expect_eq(s->groups[MS_GROUP_DELTA].count, 4);
    cr_expect_eq(s->groups[MS_GROUP_DELTA].features[0].mean, 0.5);
    cr_expect_eq(s->groups[MS_GROUP_DELTA].features[0].max, 2.0);
    cr_expect_eq(s->groups[MS_GROUP_NODE].count, 4);
    ms_stats_destroy(s);
    free(path);
}

/* ------------------------------------------------------------------ */
/* Bad input. */

enum defect {
    NO_NODAL,
    NO_EDGES,
    NODAL_RANK_2,
    TOO_FEW_ROWS,
    NODAL_INTEGER,
    EDGES_THREE_ROWS,
    EDGES_FLOAT,
    EDGE_TOO_LARGE,
    EDGE_NEGATIVE,
    SAMPLE_IS_DATASET,
    NO_TIMESTEPS,
    NO_NODES,
};

static void
write_defective(hid_t f, const char *name, enum defect d)
{
    double v[8 * 2 * 4];
    square_values(v, 2);
    hsize_t dims3[3] = {8, 2, 4};
    int64_t edges[10];
    memcpy(edges, square_edges, sizeof(edges));
    switch (d) {
    case NO_NODAL:
        helper_h5_edges(f, name, H5T_STD_I64LE, edges, 5);
        return;
    case NO_EDGES:
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims3, v);
        return;
    case NODAL_RANK_2: {
        hsize_t dims[2] = {8, 8};
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 2, dims, v);
        break;
    }
    case TOO_FEW_ROWS: {
        hsize_t dims[3] = {5, 2, 4};
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims, v);
        break;
    }
    case NODAL_INTEGER:
        helper_h5_nodal(f, name, H5T_STD_I32LE, 3, dims3, v);
        break;
    case EDGES_THREE_ROWS: {
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims3, v);
        hid_t g = H5Gopen2(f, "data", H5P_DEFAULT);
        hid_t sg = H5Gopen2(g, name, H5P_DEFAULT);
        hsize_t dims[2] = {3, 3};
        hid_t sp = H5Screate_simple(2, dims, NULL);
        H5Dclose(H5Dcreate2(sg, "mesh_edge", H5T_STD_I64LE, sp, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT));
        H5Sclose(sp);
        H5Gclose(sg);
        H5Gclose(g);
        return;
    }
    case EDGES_FLOAT:
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims3, v);
        helper_h5_edges(f, name, H5T_IEEE_F64LE, edges, 5);
        return;
    case EDGE_TOO_LARGE:
        edges[7] = 4;
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims3, v);
        break;
    case EDGE_NEGATIVE:
        edges[2] = -1;
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims3, v);
        break;
    case SAMPLE_IS_DATASET: {
        hid_t g = H5Gopen2(f, "data", H5P_DEFAULT);
        hsize_t dims[1] = {3};
        hid_t sp = H5Screate_simple(1, dims, NULL);
        H5Dclose(H5Dcreate2(g, name, H5T_STD_I64LE, sp, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT));
        H5Sclose(sp);
        H5Gclose(g);
        return;
    }
    case NO_TIMESTEPS: {
        hsize_t dims[3] = {8, 0, 4};
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims, NULL);
        break;
    }
    case NO_NODES: {
        hsize_t dims[3] = {8, 2, 0};
        helper_h5_nodal(f, name, H5T_IEEE_F64LE, 3, dims, NULL);
        helper_h5_edges(f, name, H5T_STD_I64LE, NULL, 0);
        return;
    }
    }
    helper_h5_edges(f, name, H5T_STD_I64LE, edges, 5);
}

static int warnings;

static void
count_warning(void *userdata, int64_t id, const char *message)
{
    (void)userdata;
    (void)id;
    (void)message;
    warnings++;
}

Test(compute, each_defective_sample_is_skipped_or_fails_under_strict,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    static const struct {
        enum defect defect;
        const char *needle;
    } cases[] = {
        {NO_NODAL, "data/7/nodal_data: missing"},
        {NO_EDGES, "data/7/mesh_edge: missing"},
        {NODAL_RANK_2, "has rank 2; expected 3"},
        {TOO_FEW_ROWS, "has 5 feature rows; needs at least 7"},
        {NODAL_INTEGER, "non-float type"},
        {EDGES_THREE_ROWS, "expected shape (2, E)"},
        {EDGES_FLOAT, "non-integer type"},
        {EDGE_TOO_LARGE, "edge 2 = (2, 4) has a node index outside [0, 4)"},
        {EDGE_NEGATIVE, "edge 2 = (-1, 0)"},
        {SAMPLE_IS_DATASET, "data/7: is not a group"},
        {NO_TIMESTEPS, "0 timesteps"},
        {NO_NODES, "0 nodes"},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        char name[32];
        snprintf(name, sizeof(name), "bad%zu.h5", c);
        char *path = helper_path(helper_dir, name);
        double v[8 * 2 * 4];
        square_values(v, 2);
        hid_t f = helper_h5_create(path, 1);
        helper_h5_sample(f, "3", 8, 2, 4, v, square_edges, 5);
        write_defective(f, "7", cases[c].defect);
        H5Fclose(f);

        struct ms_options o;
        ms_options_init(&o);
        o.on_warning = count_warning;
        warnings = 0;
        struct ms_stats *s = NULL;
        struct ms_error err;
        int rc = ms_stats_compute(path, &o, &s, &err);
        cr_expect_eq(rc, 0, "case %zu: %s", c, err.message);
        if (rc == 0) {
            cr_expect_eq(s->samples_found, 2, "case %zu", c);
            cr_expect_eq(s->samples_used, 1, "case %zu", c);
            cr_expect_eq(s->nskipped, 1, "case %zu", c);
            cr_expect_eq(s->skipped[0].id, 7);
            cr_expect(strstr(s->skipped[0].reason, cases[c].needle) != NULL,
                      "case %zu: '%s' lacks '%s'", c, s->skipped[0].reason,
                      cases[c].needle);
            cr_expect(strstr(s->skipped[0].reason, path) != NULL);
            cr_expect(strstr(s->skipped[0].reason, "sample 7") != NULL);
            cr_expect_eq(warnings, 1, "case %zu", c);
            ms_stats_destroy(s);
        }
        o.strict = true;
        rc = ms_stats_compute(path, &o, &s, &err);
        cr_expect_eq(rc, MS_EBADSAMPLE, "case %zu strict", c);
        cr_expect_null(s);
        cr_expect(strstr(err.message, cases[c].needle) != NULL,
                  "case %zu strict: %s", c, err.message);
        free(path);
    }
}

Test(compute, file_level_errors_have_codes_and_name_the_file, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *missing = helper_path(helper_dir, "missing.h5");
    char *text = helper_path(helper_dir, "text.h5");
    char *nodata = helper_path(helper_dir, "nodata.h5");
    char *empty = helper_path(helper_dir, "empty.h5");
    char *names = helper_path(helper_dir, "names.h5");
    FILE *t = fopen(text, "w");
    fputs("this is not HDF5\n", t);
    fclose(t);
    H5Fclose(helper_h5_create(nodata, 0));
    H5Fclose(helper_h5_create(empty, 1));
    hid_t f = helper_h5_create(names, 1);
    H5Gclose(H5Gcreate2(f, "data/train", H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT));
    H5Gclose(H5Gcreate2(f, "data/-4", H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT));
    H5Fclose(f);
    static const struct {
        int which;
        int code;
        const char *needle;
    } cases[] = {
        {0, MS_ENOENT, "cannot open"},  {1, MS_ENOTHDF5, "not an HDF5"},
        {2, MS_ELAYOUT, "no group 'data'"}, {3, MS_ENOSAMPLES, "no samples"},
        {4, MS_ENOSAMPLES, "no samples"},   {5, MS_ENOENT, "is a directory"},
    };
    const char *paths[] = {missing, text, nodata, empty, names, helper_dir};
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_options o;
        ms_options_init(&o);
        o.on_warning = count_warning;
        warnings = 0;
        struct ms_stats *s = NULL;
        struct ms_error err;
        const char *p = paths[cases[c].which];
        cr_expect_eq(ms_stats_compute(p, &o, &s, &err), cases[c].code,
                     "case %zu: %s", c, err.message);
        cr_expect(strstr(err.message, cases[c].needle) != NULL, "%s",
                  err.message);
        cr_expect(strstr(err.message, p) != NULL, "%s", err.message);
        if (cases[c].which == 4) {
            cr_expect_eq(warnings, 2, "two names are not sample ids");
        }
    }
    free(missing);
    free(text);
    free(nodata);
    free(empty);
    free(names);
}

Test(compute, nonfinite_value_fails_the_run_naming_row_and_timestep,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *path = helper_path(helper_dir, "nan.h5");
    double v[8 * 3 * 4];
    square_values(v, 3);
    v[(5 * 3 + 2) * 4 + 1] = INFINITY; /* row 5, t 2, node 1 */
    hid_t f = helper_h5_create(path, 1);
    helper_h5_sample(f, "12", 8, 3, 4, v, square_edges, 5);
    H5Fclose(f);
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = NULL;
    struct ms_error err;
    cr_expect_eq(ms_stats_compute(path, &o, &s, &err), MS_ENONFINITE);
    cr_expect(strstr(err.message, "sample 12") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "data/12/nodal_data") != NULL);
    cr_expect(strstr(err.message, "feature row 5, timestep 2, node 1") !=
                  NULL,
              "%s", err.message);
    /* A NaN in an unused row (the part number, row 7) is never inspected. */
    square_values(v, 3);
    v[(7 * 3 + 1) * 4 + 0] = NAN;
    f = helper_h5_create(path, 1);
    helper_h5_sample(f, "12", 8, 3, 4, v, square_edges, 5);
    H5Fclose(f);
    s = compute_ok(path, &o);
    ms_stats_destroy(s);
    free(path);
}

/* ------------------------------------------------------------------ */
/* Output, write-back, determinism, allocation failures. */

static char *
json_of(const struct ms_stats *s)
{
    /* Static so that the compiler sees the pointer outlive the call that
     * fills it (fclose sets it). */
    static char *buf;
    static size_t len;
    FILE *m = open_memstream(&buf, &len);
    ms_stats_write_json(s, m);
    fclose(m);
    char *out = buf;
    buf = NULL;
    return out;
}

Test(compute, json_numbers_round_trip_exactly, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_generate(helper_dir, "rt.h5", 2, 6, 80);
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = compute_ok(path, &o);
    char *json = json_of(s);
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        char key[32];
        snprintf(key, sizeof(key), "\"%s\": {", ms_group_name(g));
        char *p = strstr(json, key);
        cr_assert_not_null(p);
        p = strstr(p, "\"std\": [") + strlen("\"std\": [");
        for (size_t k = 0; k < s->groups[g].nfeatures; k++) {
            char *end;
            double v = strtod(p, &end);
            cr_expect_eq(v, s->groups[g].features[k].std, "%s std[%zu]",
                         ms_group_name(g), k);
            p = end + 1;
        }
    }
    cr_expect(strstr(json, "\"samples\": {\"found\": 2, \"selected\": 2, "
                           "\"used\": 2") !=
              NULL);
    free(json);
    ms_stats_destroy(s);
    free(path);
}

Test(compute, json_is_byte_identical_across_memory_limits, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_generate(helper_dir, "det.h5", 3, 29, 70);
    static const uint64_t limits[] = {13 << 10, 16 << 10, 40 << 10,
                                      256 << 20};
    static const unsigned modes[] = {0, 5};
    char *first[2] = {NULL, NULL};
    for (size_t m = 0; m < MS_ARRAY_SIZE(modes); m++) {
        for (size_t l = 0; l < MS_ARRAY_SIZE(limits); l++) {
            struct ms_options o;
            ms_options_init(&o);
            o.memory_limit = limits[l];
            o.max_timesteps = modes[m];
            struct ms_stats *s = compute_ok(path, &o);
            char *json = json_of(s);
            if (first[m] == NULL) {
                first[m] = json;
            } else {
                cr_expect_str_eq(json, first[m], "limit %llu, -s %u",
                                 (unsigned long long)limits[l], modes[m]);
                free(json);
            }
            ms_stats_destroy(s);
        }
    }
    cr_expect_str_neq(first[0], first[1], "sampling changes the result");
    free(first[1]);
    free(first[0]);
    free(path);
}

static void
read_vector(hid_t f, const char *name, float *out)
{
    char p[128];
    snprintf(p, sizeof(p), "metadata/normalization_params/%s", name);
    hid_t d = H5Dopen2(f, p, H5P_DEFAULT);
    cr_assert_geq(d, 0, "%s missing", p);
    hid_t type = H5Dget_type(d);
    cr_expect_eq(H5Tget_size(type), 4, "%s is float32", name);
    H5Tclose(type);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(d);
}

Test(compute, write_back_is_read_back_and_samples_are_unchanged,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *path = square_file("wb.h5", 3);
    double before[8 * 3 * 4], after[8 * 3 * 4];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "data/0/nodal_data", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, before);
    H5Dclose(d);
    H5Fclose(f);

    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = compute_ok(path, &o);
    struct ms_error err;
    cr_assert_eq(ms_stats_write_back(s, path, &err), 0, "%s", err.message);

    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    float v[4];
    read_vector(f, "node_mean", v);
    cr_expect_eq(v[0], (float)0.75);
    read_vector(f, "node_std", v);
    cr_expect_eq(v[1], (float)1e-8, "a constant feature's std is clamped");
    read_vector(f, "edge_mean", v);
    cr_expect_eq(v[0], 0.0f);
    read_vector(f, "delta_max", v);
    cr_expect_eq(v[0], 1.0f);
    read_vector(f, "delta_min", v);
    cr_expect_eq(v[0], 0.0f);
    d = H5Dopen2(f, "data/0/nodal_data", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, after);
    H5Dclose(d);
    hid_t g = H5Gopen2(f, "metadata/normalization_params", H5P_DEFAULT);
    cr_expect_gt(H5Aexists(g, "mode"), 0);
    cr_expect_gt(H5Aexists(g, "meshstats_version"), 0);
    H5Gclose(g);
    H5Fclose(f);
    cr_expect_eq(memcmp(before, after, sizeof(before)), 0);
    /* A second write-back replaces the datasets. */
    cr_expect_eq(ms_stats_write_back(s, path, &err), 0, "%s", err.message);
    ms_stats_destroy(s);
    free(path);
}

Test(compute, write_back_after_hdf5_closed_takes_no_other_driver,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    /* HDF5 closed and reopened by the program hands out ids again: another
     * driver registered first gets the number the write-back's driver had.
     * A second write-back still writes the file, through its own driver. */
    char *path = square_file("wb-reopened.h5", 3);
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = compute_ok(path, &o);
    struct ms_error err;
    cr_assert_eq(ms_stats_write_back(s, path, &err), 0, "%s", err.message);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(H5Ldelete(f, "metadata", H5P_DEFAULT), 0);
    H5Fclose(f);
    H5close();
    H5open();
    hid_t other = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(other, 4096, 0); /* (it would write nothing to disk) */
    cr_assert_eq(ms_stats_write_back(s, path, &err), 0, "%s", err.message);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    float v[4];
    read_vector(f, "node_mean", v);
    cr_expect_eq(v[0], (float)0.75);
    H5Fclose(f);
    H5Pclose(other);
    ms_stats_destroy(s);
    free(path);
}

Test(compute, every_allocation_failure_returns_enomem, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_generate(helper_dir, "alloc.h5", 2, 5, 40);
    for (int quantiles = 0; quantiles < 2; quantiles++) {
    bool succeeded = false;
    uint64_t n;
    for (n = 1; n < 10000 && !succeeded; n++) {
        struct ms_options o;
        ms_options_init(&o);
        /* several units per sample (beside the sketches' 1.2 MB) */
        o.memory_limit = (16 << 10) + (quantiles ? 2 << 20 : 0);
        o.quantiles = quantiles; /* and their sketches' allocations */
        struct ms_stats *s = NULL;
        struct ms_error err;
        ms__alloc_fail_after(n);
        int rc = ms_stats_compute(path, &o, &s, &err);
        ms__alloc_fail_after(0);
        if (rc == 0) {
            succeeded = true;
            ms_stats_destroy(s);
            continue;
        }
        cr_expect_eq(rc, MS_ENOMEM, "allocation %llu: %s (%s)",
                     (unsigned long long)n, ms_err_name(rc), err.message);
        cr_expect_null(s);
    }
    /* The sweep reached the end of the pass: every allocation before it
     * was failed once (and there are many: the sweep swept). */
    cr_expect(succeeded, "the pass never succeeded within %llu allocations",
              (unsigned long long)n);
    cr_expect_gt(n, 40, "a pass with several units makes many allocations");
    }
    free(path);
}

Test(compute, empty_edge_group_reports_null_and_refuses_write_back,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *path = helper_path(helper_dir, "noedges.h5");
    double v[8 * 2 * 4];
    square_values(v, 2);
    hid_t f = helper_h5_create(path, 1);
    helper_h5_sample(f, "0", 8, 2, 4, v, NULL, 0); /* a point cloud */
    H5Fclose(f);
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s = compute_ok(path, &o);
    cr_expect_eq(s->groups[MS_GROUP_EDGE].count, 0);
    cr_expect_eq(s->groups[MS_GROUP_NODE].count, 8);
    char *json = json_of(s);
    cr_expect(strstr(json, "\"edge\": {\"count\": 0,\n    \"features\": "
                           "[\"r_x\", \"r_y\", \"r_z\", \"|r|\"],\n    "
                           "\"mean\": [null, null, null, null]") != NULL,
              "%s", json);
    free(json);
    struct ms_error err;
    cr_expect_eq(ms_stats_write_back(s, path, &err), MS_EEMPTY);
    cr_expect(strstr(err.message, "not opened for writing") != NULL);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_expect_eq(H5Lexists(f, "metadata", H5P_DEFAULT), 0);
    H5Fclose(f);
    ms_stats_destroy(s);
    free(path);
}

Test(compute, generate_fails_cleanly_on_allocation_failure, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_path(helper_dir, "gen-alloc.h5");
    struct ms_generate_options g;
    ms_generate_options_init(&g);
    g.samples = 1;
    g.timesteps = 3;
    g.nodes = 20;
    for (uint64_t n = 1; n < 100; n++) {
        struct ms_error err;
        ms__alloc_fail_after(n);
        int rc = ms_generate(path, &g, &err);
        ms__alloc_fail_after(0);
        if (rc == 0) {
            free(path);
            return;
        }
        cr_expect_eq(rc, MS_ENOMEM, "allocation %llu: %s",
                     (unsigned long long)n, err.message);
    }
    cr_expect_fail("generate never succeeded");
    free(path);
}
