/*
 * writeback.c: the result stored in the dataset (docs/spec.md section 7).
 *
 * Called only after a successful pass; it is the only code that opens a
 * dataset file for writing.  It writes float32 datasets under
 * metadata/normalization_params (std clamped to at least 1e-8, as the
 * training loader expects), replacing datasets of the same names, and
 * attributes saying the mode and the version.  It checks everything it can
 * before it opens the file, and touches nothing outside that group.
 */
#include "read/read.h"
#include "results/results.h"

#include <hdf5.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PARAMS_GROUP "metadata/normalization_params"
#define MIN_STD 1e-8

/* Create group path under loc unless it exists. */
static hid_t
open_or_create_group(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) > 0) {
        return H5Gopen2(loc, path, H5P_DEFAULT);
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

static herr_t
write_vector(hid_t group, const char *name, const float *values, size_t n)
{
    if (H5Lexists(group, name, H5P_DEFAULT) > 0 &&
        H5Ldelete(group, name, H5P_DEFAULT) < 0) {
        return -1;
    }
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dset = H5Dcreate2(group, name, H5T_IEEE_F32LE, space, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = dset < 0 ? -1
                         : H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                    H5P_DEFAULT, values);
    if (dset >= 0) {
        H5Dclose(dset);
    }
    H5Sclose(space);
    return rc;
}

static herr_t
write_attribute(hid_t group, const char *name, hid_t mem_type,
                hid_t file_type, const void *value)
{
    if (H5Aexists(group, name) > 0 && H5Adelete(group, name) < 0) {
        return -1;
    }
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(group, name, file_type, space, H5P_DEFAULT,
                            H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, mem_type, value);
    if (attr >= 0) {
        H5Aclose(attr);
    }
    H5Sclose(space);
    return rc;
}

static herr_t
write_string_attribute(hid_t group, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    herr_t rc = write_attribute(group, name, type, type, value);
    H5Tclose(type);
    return rc;
}

/* One float32 vector of a group's statistic; std is clamped. */
static herr_t
write_field(hid_t group, const struct ms_stats *s, enum ms_group_kind kind,
            const char *field)
{
    const struct ms_group_stats *g = &s->groups[kind];
    float values[1024];
    for (size_t k = 0; k < g->nfeatures; k++) {
        const struct ms_feature_stats *f = &g->features[k];
        double v = strcmp(field, "mean") == 0  ? f->mean
                   : strcmp(field, "std") == 0 ? fmax(f->std, MIN_STD)
                   : strcmp(field, "min") == 0 ? f->min
                                               : f->max;
        values[k] = (float)v;
    }
    char name[32];
    snprintf(name, sizeof(name), "%s_%s", ms_group_name(kind), field);
    return write_vector(group, name, values, g->nfeatures);
}

/* Attributes node_features, edge_features and delta_features: each
 * group's feature names, comma-separated, in column order. */
static herr_t
write_feature_names(hid_t group, const struct ms_stats *s)
{
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        size_t n = s->groups[g].nfeatures, used = 0, size = 33 * n + 1;
        char *names = ms__malloc(size), attr[32];
        if (names == NULL) {
            return -1;
        }
        names[0] = '\0';
        for (size_t k = 0; k < n; k++) {
            char name[32];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            used += (size_t)snprintf(names + used, size - used, "%s%s",
                                     k ? "," : "", name);
        }
        snprintf(attr, sizeof(attr), "%s_features",
                 ms_group_name((enum ms_group_kind)g));
        herr_t rc = write_string_attribute(group, attr, names);
        ms__free(names);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

static herr_t
write_params(hid_t group, const struct ms_stats *s)
{
    static const struct {
        enum ms_group_kind kind;
        const char *field;
    } vectors[] = {
        {MS_GROUP_NODE, "mean"},  {MS_GROUP_NODE, "std"},
        {MS_GROUP_EDGE, "mean"},  {MS_GROUP_EDGE, "std"},
        {MS_GROUP_DELTA, "mean"}, {MS_GROUP_DELTA, "std"},
        {MS_GROUP_DELTA, "min"},  {MS_GROUP_DELTA, "max"},
    };
    for (size_t i = 0; i < MS_ARRAY_SIZE(vectors); i++) {
        if (write_field(group, s, vectors[i].kind, vectors[i].field) < 0) {
            return -1;
        }
    }
    unsigned mts = s->max_timesteps;
    unsigned long long used = s->samples_used;
    const char *mode = mts == 0 ? "full" : "sampled";
    if (write_string_attribute(group, "meshstats_version",
                               MS_VERSION_STRING) < 0 ||
        write_string_attribute(group, "model", ms_model_name(s->model)) < 0 ||
        write_feature_names(group, s) < 0 ||
        write_string_attribute(group, "mode", mode) < 0 ||
        write_string_attribute(group, "selection",
                               s->selection ? s->selection : "all") < 0 ||
        write_attribute(group, "max_timesteps_for_stats", H5T_NATIVE_UINT,
                        H5T_STD_U32LE, &mts) < 0 ||
        write_attribute(group, "input_var", H5T_NATIVE_UINT, H5T_STD_U32LE,
                        &s->input_var) < 0 ||
        write_attribute(group, "output_var", H5T_NATIVE_UINT, H5T_STD_U32LE,
                        &s->output_var) < 0 ||
        write_attribute(group, "edge_var", H5T_NATIVE_UINT, H5T_STD_U32LE,
                        &s->edge_var) < 0 ||
        write_attribute(group, "positional_features", H5T_NATIVE_UINT,
                        H5T_STD_U32LE, &s->positional_features) < 0 ||
        write_attribute(group, "samples_used", H5T_NATIVE_ULLONG,
                        H5T_STD_U64LE, &used) < 0) {
        return -1;
    }
    return 0;
}

/* What to tell the user when HDF5 could not open the file for writing. */
static int
open_error(const char *path, struct ms_error *err)
{
    char msg[256];
    ms__hdf5_last_error(msg, sizeof(msg));
    if (strstr(msg, "lock") != NULL) {
        return ms__error_set(
            err, MS_EIO,
            "%s: cannot open for writing: %s. Another program (a training "
            "run, h5py, HDFView) may hold the file open; close it and retry. "
            "If the file system does not support locking, set "
            "HDF5_USE_FILE_LOCKING=FALSE",
            path, msg);
    }
    return ms__error_set(err, MS_EIO, "%s: cannot open for writing: %s",
                         path, msg);
}

int
ms_stats_write_back(const struct ms_stats *s, const char *path,
                    struct ms_error *err)
{
    ms__hdf5_quiet();
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        if (s->groups[g].count == 0) {
            return ms__error_set(err, MS_EEMPTY,
                                 "%s: the %s group has no rows, so there are "
                                 "no statistics to write back; the file was "
                                 "not opened for writing",
                                 path, ms_group_name(g));
        }
        if (s->groups[g].nfeatures > 1024) {
            return ms__error_set(err, MS_EINVAL, "%s: too many features",
                                 path);
        }
    }
    if (access(path, W_OK) != 0) {
        return ms__error_set(err, errno == ENOENT ? MS_ENOENT : MS_EACCES,
                             "%s: cannot write back: %s (the statistics "
                             "were computed; see the output and --json)",
                             path, strerror(errno));
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) {
        return open_error(path, err);
    }
    int rc = 0;
    hid_t group = open_or_create_group(file, PARAMS_GROUP);
    if (group < 0 || write_params(group, s) < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        rc = ms__error_set(err, MS_EIO, "%s: %s: write-back failed: %s",
                           path, PARAMS_GROUP, msg);
    }
    if (group >= 0) {
        H5Gclose(group);
    }
    if (H5Fclose(file) < 0 && rc == 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        rc = ms__error_set(err, MS_EIO, "%s: closing after write-back: %s",
                           path, msg);
    }
    return rc;
}
