/*
 * writeback.c: the result stored in the dataset (docs/spec.md section 7).
 *
 * Called only after a successful pass; it is the only code that opens a
 * dataset file for writing.  It writes float32 datasets under
 * metadata/normalization_params (std clamped to at least 1e-8, as the
 * training loader expects) and attributes saying the mode and the
 * version, and touches nothing outside that group.
 *
 * HDF5 1.10 has no journal, so the writes are ordered to leave a good
 * file at every moment: the new group and its arrays are built where
 * nothing links to them (H5Gcreate_anon) and flushed, so that what a kill
 * or a full disk interrupts is unreachable; then one step makes them
 * visible: a link in metadata/ where there was none (or metadata/ itself,
 * built the same way, linked at the root), or, where the old group is
 * there, its link retargeted in one write (writeback_swap.c).  A write
 * error is named in one line; the file is left as it was.
 */
#include "read/read.h"
#include "results/results.h"

#include <hdf5.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PARAMS_GROUP "metadata/normalization_params"
#define MIN_STD 1e-8

static herr_t
write_vector(hid_t group, const char *name, const float *values, size_t n)
{
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dset = H5Dcreate2(group, name, H5T_IEEE_F32LE, space, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = dset < 0 ? -1
                         : H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                    H5P_DEFAULT, values);
    /* Closing writes what HDF5 buffered: its failure is the write's. */
    rc = ms__close_keeping(rc, H5Dclose, dset);
    return ms__close_keeping(rc, H5Sclose, space);
}

static herr_t
write_attribute(hid_t group, const char *name, hid_t mem_type,
                hid_t file_type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(group, name, file_type, space, H5P_DEFAULT,
                            H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, mem_type, value);
    rc = ms__close_keeping(rc, H5Aclose, attr);
    return ms__close_keeping(rc, H5Sclose, space);
}

static herr_t
write_string_attribute(hid_t group, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    herr_t rc = write_attribute(group, name, type, type, value);
    return ms__close_keeping(rc, H5Tclose, type);
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

/* With quantiles: <group>_q01, _q50 and _q99 (quantiles 1, 4 and 7)
 * and their accuracy; q99 kept at least q01 + MIN_STD in float32, as std
 * is clamped: a loader divides by q99 - q01. */
static herr_t
write_quantiles(hid_t group, const struct ms_stats *s)
{
    enum { Q01, Q50, Q99 };
    static const struct {
        size_t q;
        const char *name;
    } kept[] = {[Q01] = {1, "q01"}, [Q50] = {4, "q50"}, [Q99] = {7, "q99"}};
    for (int g = 0; s->quantile_accuracy > 0 && g < MS_GROUP_COUNT; g++) {
        const struct ms_group_stats *gs = &s->groups[g];
        const double *q = gs->quantiles;
        size_t n = gs->nfeatures;
        for (size_t i = 0; i < MS_ARRAY_SIZE(kept); i++) {
            float values[1024];
            for (size_t k = 0; k < n; k++) {
                values[k] = (float)q[kept[i].q * n + k];
                float q01 = (float)q[kept[Q01].q * n + k];
                float least = i == Q99 ? nextafterf((float)((double)q01 +
                                                            MIN_STD),
                                                    INFINITY)
                                       : -INFINITY;
                values[k] = values[k] < least ? least : values[k];
            }
            char name[32];
            snprintf(name, sizeof(name), "%s_%s",
                     ms_group_name((enum ms_group_kind)g), kept[i].name);
            if (write_vector(group, name, values, gs->nfeatures) < 0) {
                return -1;
            }
        }
    }
    return s->quantile_accuracy > 0
               ? write_attribute(group, "quantile_accuracy",
                                 H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE,
                                 &s->quantile_accuracy)
               : 0;
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
    if (write_quantiles(group, s) < 0) {
        return -1;
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

/* HDF5's reason for what just failed: the system's words when it quotes
 * them ("No space left on device" out of its report of a failed write),
 * else its innermost message. */
static void
hdf5_reason(char *out, size_t size)
{
    char msg[512];
    ms__hdf5_last_error(msg, sizeof(msg));
    const char *quote = strstr(msg, "error message = '");
    if (quote != NULL) {
        quote += strlen("error message = '");
        snprintf(out, size, "%.*s", (int)strcspn(quote, "'"), quote);
    } else {
        snprintf(out, size, "%s", msg);
    }
}

/* What to tell the user when HDF5 could not open the file for writing. */
static int
open_error(const char *path, struct ms_error *err)
{
    char msg[512];
    hdf5_reason(msg, sizeof(msg));
    if (strstr(msg, "unable to lock") != NULL) {
        return ms__error_set(
            err, MS_EIO,
            "%s: cannot open for writing: %s. Another program (a training "
            "run, h5py, HDFView) may hold the file open; close it and retry. "
            "Only if the file system does not support locking, set "
            "HDF5_USE_FILE_LOCKING=FALSE: writing while another program has "
            "the file open damages it",
            path, msg);
    }
    return ms__error_set(err, MS_EIO, "%s: cannot open for writing: %s",
                         path, msg);
}

/* "No space left on device" out of HDF5's report of a failed write (its
 * innermost message quotes the system's), else that message. */
static int
write_error(const char *path, const char *stage, struct ms_error *err)
{
    char msg[512];
    hdf5_reason(msg, sizeof(msg));
    return ms__error_set(err, MS_EIO,
                         "%s: %s: write-back failed %s: %s; the previous "
                         "parameters are unchanged",
                         path, PARAMS_GROUP, stage, msg);
}

/* Whether obj's file is in the classic format writeback_swap.c edits, and
 * where its addresses start (the userblock). */
static bool
classic_format(hid_t file, hid_t metadata, uint64_t *base)
{
    H5F_info2_t info;
    H5G_info_t g;
    hid_t fcpl = H5Fget_create_plist(file);
    hsize_t userblock = 0;
    size_t sizeof_addr = 0, sizeof_size = 0;
    bool ok = fcpl >= 0 && H5Pget_userblock(fcpl, &userblock) >= 0 &&
              H5Pget_sizes(fcpl, &sizeof_addr, &sizeof_size) >= 0 &&
              sizeof_addr == 8 && sizeof_size == 8 &&
              H5Fget_info2(file, &info) >= 0 && info.super.version <= 1 &&
              H5Gget_info(metadata, &g) >= 0 &&
              g.storage_type == H5G_STORAGE_TYPE_SYMBOL_TABLE;
    if (fcpl >= 0) {
        H5Pclose(fcpl);
    }
    *base = userblock;
    return ok;
}

/* Link obj, which nothing links to yet, at parent/name, counting the link
 * in obj's header first and flushing: HDF5 writes the header after the
 * parent's symbol table node, and a kill between them would leave a
 * linked object counted 0, which h5py then refuses to delete.  (Counted
 * twice once linked: a delete leaves it unreachable, never an error.) */
static herr_t
counted_link(hid_t file, hid_t obj, hid_t parent, const char *name)
{
    herr_t rc = H5Oincr_refcount(obj);
    rc = rc < 0 ? -1 : H5Fflush(file, H5F_SCOPE_GLOBAL);
    rc = rc < 0 ? -1 : H5Olink(obj, parent, name, H5P_DEFAULT, H5P_DEFAULT);
    return rc < 0 ? -1 : H5Fflush(file, H5F_SCOPE_GLOBAL);
}

/* Make the new group params visible as metadata/normalization_params: a
 * link where there was none, or (sw->name set) a swap to do once the file
 * is closed. */
static herr_t
publish(hid_t file, hid_t params, struct ms_swap *sw)
{
    if (H5Lexists(file, "metadata", H5P_DEFAULT) <= 0) {
        hid_t m = H5Gcreate_anon(file, H5P_DEFAULT, H5P_DEFAULT);
        herr_t rc = m < 0 ? -1 : H5Olink(params, m, "normalization_params",
                                         H5P_DEFAULT, H5P_DEFAULT);
        rc = rc < 0 ? -1 : counted_link(file, m, file, "metadata");
        return ms__close_keeping(rc, H5Gclose, m);
    }
    hid_t metadata = H5Gopen2(file, "metadata", H5P_DEFAULT);
    if (metadata < 0) {
        return -1;
    }
    herr_t rc = 0;
    if (H5Lexists(metadata, "normalization_params", H5P_DEFAULT) <= 0) {
        rc = counted_link(file, params, metadata, "normalization_params");
    } else {
        H5L_info_t link;
        H5O_info_t group, fresh;
        if (!classic_format(file, metadata, &sw->base) ||
            H5Lget_info(metadata, "normalization_params", &link,
                        H5P_DEFAULT) < 0 ||
            link.type != H5L_TYPE_HARD ||
            H5Oget_info(metadata, &group) < 0 ||
            H5Oget_info(params, &fresh) < 0) {
            /* Another format: through HDF5, not proof against a kill. */
            rc = H5Ldelete(metadata, "normalization_params", H5P_DEFAULT);
            rc = rc < 0 ? -1 : counted_link(file, params, metadata,
                                            "normalization_params");
        } else if (H5Oincr_refcount(params) < 0) {
            /* (counted as linked, it outlives the file's close) */
            rc = -1;
        } else {
            sw->group_addr = group.addr;
            sw->old_addr = link.u.address;
            sw->new_addr = fresh.addr;
            sw->name = "normalization_params";
        }
    }
    return ms__close_keeping(rc, H5Gclose, metadata);
}

/* The old parameters, if their name is a link (soft or external) that
 * leads nowhere: said in err (their objects cannot be kept), else 0. */
static int
check_old_link(hid_t file, const char *path, struct ms_error *err)
{
    H5L_info_t info;
    if (H5Lexists(file, "metadata", H5P_DEFAULT) <= 0 ||
        H5Lexists(file, PARAMS_GROUP, H5P_DEFAULT) <= 0 ||
        H5Lget_info(file, PARAMS_GROUP, &info, H5P_DEFAULT) < 0 ||
        info.type == H5L_TYPE_HARD ||
        H5Oexists_by_name(file, PARAMS_GROUP, H5P_DEFAULT) > 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    H5Eclear2(H5E_DEFAULT);
    return ms__error_set(err, MS_EIO,
                         "%s: %s is a %s link that leads nowhere, so the "
                         "parameters it stood for cannot be kept; remove "
                         "the link (h5py: del f['%s']) and write back again; "
                         "nothing was written",
                         path, PARAMS_GROUP,
                         info.type == H5L_TYPE_SOFT ? "soft" : "external",
                         PARAMS_GROUP);
}

/* The new group, built and flushed where nothing links to it, then made
 * visible (or left for the swap). */
static int
stage(hid_t file, const struct ms_stats *s, const char *path,
      struct ms_swap *sw, struct ms_error *err)
{
    int dangling = check_old_link(file, path, err);
    if (dangling != 0) {
        return dangling;
    }
    hid_t params = H5Gcreate_anon(file, H5P_DEFAULT, H5P_DEFAULT);
    if (params < 0 || write_params(params, s) < 0 ||
        ms__keep_others(file, PARAMS_GROUP, params) < 0 ||
        H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
        int rc = write_error(path, "writing the new parameters", err);
        if (params >= 0) {
            H5Gclose(params);
        }
        return rc;
    }
    herr_t linked = ms__close_keeping(publish(file, params, sw), H5Gclose,
                                  params);
    return linked < 0 ? write_error(path, "linking the new parameters", err)
                      : 0;
}

/* A write that failed stopped the write-back there: the file holds what
 * was written before it, which is a good file (spec.md section 7). */
static int
stopped(const char *path, int e, struct ms_error *err)
{
    return ms__error_set(err, MS_EIO,
                         "%s: %s: write-back failed: %s; nothing was written "
                         "after the failed write (see docs/spec.md section "
                         "7; run it again when there is room)",
                         path, PARAMS_GROUP, strerror(e));
}

/* The file is an HDF5 file already (a regular one: a FIFO would wait
 * for a writer): an empty or other file is not made into one. */
static int
check_hdf5(const char *path, struct ms_error *err)
{
    int problem = ms__hdf5_file_at(path);
    if (problem == ENODEV) {
        return ms__error_set(err, MS_ENOTHDF5,
                             "%s: cannot write back: not a regular file; "
                             "the file was not opened for writing",
                             path);
    }
    if (problem == EINVAL) {
        return ms__error_set(err, MS_ENOTHDF5,
                             "%s: cannot write back: not an HDF5 file (no "
                             "HDF5 signature found); the file was not "
                             "opened for writing",
                             path);
    }
    return 0;
}

/* Room for the new group, before the file is opened for writing. */
static int
check_space(const char *path, struct ms_error *err)
{
    struct statvfs fs;
    if (statvfs(path, &fs) == 0 &&
        (uint64_t)fs.f_bavail * fs.f_frsize < (1u << 20)) {
        return ms__error_set(err, MS_EIO,
                             "%s: cannot write back: less than 1 MiB free on "
                             "its file system (No space left on device); "
                             "the file was not opened for writing",
                             path);
    }
    return 0;
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
                             "were computed; only the write-back failed)",
                             path, strerror(errno));
    }
    int rc = check_hdf5(path, err);
    if (rc != 0) {
        return rc;
    }
    rc = check_space(path, err);
    if (rc != 0) {
        return rc;
    }
    int failed = 0; /* the first failed write's errno */
    hid_t fapl = ms__writeback_fapl(&failed, false);
    hid_t file = fapl < 0 ? -1 : H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (file < 0) {
        rc = failed ? stopped(path, failed, err) : open_error(path, err);
    }
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    if (file < 0) {
        return rc;
    }
    struct ms_swap sw = {0};
    rc = stage(file, s, path, &sw, err);
    if (H5Fclose(file) < 0 && rc == 0) {
        rc = write_error(path, "closing the file", err);
    }
    if (failed != 0) {
        return stopped(path, failed, err);
    }
    if (rc == 0 && sw.name != NULL) {
        rc = ms__swap_link(path, &sw, err);
    }
    return rc;
}
