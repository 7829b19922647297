/*
 * hdf5_file.c: the dataset file opened read-only, and its samples listed.
 *
 * Opening checks what can be told before HDF5 parses anything (missing,
 * a directory, unreadable, no HDF5 signature) and words HDF5's failure to
 * open (a lock held by a writer, with the way out); the descriptors that
 * direct reads use come later, as datasets need them (source_files.c).
 * It tells the layout
 * from the groups: data/ for the nodal layout, else groups named by
 * integers at the root for DeepMind's trajectories.  Listing takes the
 * sample groups (under data/, or at the root) whose names are decimal
 * sample ids, in id order, and warns about the others.  It never writes.
 */
#include "read/hdf5_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ID_DIGITS 18

/* How the file is opened: HDF5's metadata cache held at a fixed, small
 * size.  Its default grows while its hit rate is low, as it is when every
 * object header is read once (a pass looks at each sample's once:
 * thousands of small samples grew it by about 1 KB a sample).  And the
 * size it counts is the entries' bytes on disk, not what HDF5 decodes from
 * them and keeps with a cached header (a dataset's layout: about 2.8 KB):
 * 2 MB of headers held 15 MB (massif, 2,000 small samples), 256 KB holds
 * a tenth of it (docs/performance.md).  But the sample group's own index
 * must stay: its heap of names alone is one entry of about 8 bytes a
 * sample, read again for every lookup once it no longer fits (60,000
 * samples took twice as long at 256 KB); so, once the samples are listed,
 * MDC_PER_SAMPLE more a sample (set_cache). */
#define MDC_BYTES (256u << 10)
#define MDC_PER_SAMPLE 16u
#define MDC_MAX_BYTES (64u << 20) /* (HDF5 refuses more than 128 MB) */

static void
fixed_cache(H5AC_cache_config_t *mdc, size_t bytes)
{
    mdc->set_initial_size = true;
    mdc->initial_size = bytes;
    mdc->max_size = bytes;
    mdc->min_size = bytes / 4;
    mdc->incr_mode = H5C_incr__off;
    mdc->flash_incr_mode = H5C_flash_incr__off;
    mdc->decr_mode = H5C_decr__off;
}

/* A file access list as described above, reading through meshstats'
 * file driver (file_driver.c) where it can. */
static hid_t
access_list(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5AC_cache_config_t mdc = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
    if (fapl < 0 || H5Pget_mdc_config(fapl, &mdc) < 0) {
        return fapl;
    }
    fixed_cache(&mdc, MDC_BYTES);
    H5Pset_mdc_config(fapl, &mdc);
    ms__driver_use(fapl);
    return fapl;
}

/* The cache with room for the index of n samples (best effort: HDF5 keeps
 * the size it had if it refuses). */
static void
set_cache(hid_t file, size_t n)
{
    H5AC_cache_config_t mdc = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
    size_t bytes = n < (MDC_MAX_BYTES - MDC_BYTES) / MDC_PER_SAMPLE
                       ? MDC_BYTES + MDC_PER_SAMPLE * n
                       : MDC_MAX_BYTES;
    if (H5Fget_mdc_config(file, &mdc) >= 0) {
        fixed_cache(&mdc, bytes);
        H5Fset_mdc_config(file, &mdc);
    }
}

/* H5Fopen read-only with access_list(); on failure, HDF5's reason in
 * msg (before closing the list clears it). */
static hid_t
open_read_only(const char *path, char *msg, size_t size)
{
    hid_t fapl = access_list();
    hid_t id = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (id < 0) {
        ms__hdf5_last_error(msg, size);
    }
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    return id;
}

/* A file just opened holds no other HDF5 object, source file or type. */
static void
hold_nothing(struct ms_file *f)
{
    ms__sources_init(f);
    f->samples = -1;
    for (size_t i = 0; i < MS_ARRAY_SIZE(f->known_types); i++) {
        f->known_types[i].type = -1;
    }
}

/* That path names a regular file this process may read: 0, or an error
 * saying what it is instead. */
static int
check_path(const char *path, struct ms_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int code = errno == EACCES ? MS_EACCES : MS_ENOENT;
        return ms__error_set(err, code, "%s: cannot open: %s", path,
                             strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return ms__error_set(err, MS_ENOENT,
                             "%s: is a directory, not an HDF5 dataset file",
                             path);
    }
    if (!S_ISREG(st.st_mode)) {
        /* (opening a FIFO would wait for a writer, for ever) */
        return ms__error_set(err, MS_ENOTHDF5,
                             "%s: is not a regular file (a %s), not an HDF5 "
                             "dataset file",
                             path,
                             S_ISFIFO(st.st_mode)    ? "named pipe"
                             : S_ISSOCK(st.st_mode)  ? "socket"
                                                     : "device");
    }
    if (access(path, R_OK) != 0) {
        return ms__error_set(err, MS_EACCES, "%s: cannot read: %s", path,
                             strerror(errno));
    }
    return 0;
}

int
ms__file_open(const char *path, struct ms_file **out, struct ms_error *err)
{
    ms__hdf5_quiet();
    *out = NULL;
    int rc = check_path(path, err);
    if (rc != 0) {
        return rc;
    }
    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 <= 0) {
        return ms__error_set(err, MS_ENOTHDF5,
                             "%s: not an HDF5 file (no HDF5 signature found)",
                             path);
    }
    struct ms_file *f = ms__calloc(1, sizeof(*f));
    if (f == NULL) {
        goto fail_alloc;
    }
    f->path = ms__strdup(path);
    if (f->path == NULL) {
        goto fail_path;
    }
    f->layout = MS_LAYOUT_NODAL;
    f->prefix = "data/";
    char msg[256];
    f->id = open_read_only(path, msg, sizeof(msg));
    if (f->id < 0) {
        ms__free(f->path);
        ms__free(f);
        return ms__error_set(
            err, MS_EIO, "%s: cannot open with HDF5: %s%s", path, msg,
            strstr(msg, "unable to lock") == NULL
                ? ""
                : ". Another program has it open for writing; wait for it "
                  "or close it. Only if the file system does not support "
                  "locking, set HDF5_USE_FILE_LOCKING=FALSE");
    }
    hold_nothing(f);
    *out = f;
    return 0;

fail_path:
    ms__free(f);
fail_alloc:
    return ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
}

void
ms__file_close(struct ms_file *f)
{
    if (f == NULL) {
        return;
    }
    ms__hdf5_quiet();
    for (size_t i = 0; i < MS_ARRAY_SIZE(f->known_types); i++) {
        if (f->known_types[i].type >= 0) {
            H5Tclose(f->known_types[i].type);
        }
    }
    if (f->samples >= 0) {
        H5Gclose(f->samples);
    }
    H5Fclose(f->id);
    ms__sources_close(f);
    ms__free(f->path);
    ms__free(f);
}

struct listing {
    struct ms_sample_name *names;
    size_t count, cap;
    ms_warning_fn warn;
    void *userdata;
    const char *path;
    const char *where; /* "data/" or "" */
    int rc;
};

/* A sample id is a non-empty run of decimal digits (at most 18 of them,
 * after leading zeros, so it fits an int64). */
static bool
parse_sample_id(const char *name, int64_t *id)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64) {
        return false;
    }
    int64_t value = 0;
    size_t digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9') {
            return false;
        }
        if (value != 0 || name[i] != '0') {
            digits++;
        }
        if (digits > MAX_ID_DIGITS) {
            return false;
        }
        value = value * 10 + (name[i] - '0');
    }
    *id = value;
    return true;
}

static herr_t
collect_name(hid_t group, const char *name, const H5L_info_t *info,
             void *data)
{
    (void)group;
    (void)info;
    struct listing *l = data;
    int64_t id;
    if (!parse_sample_id(name, &id)) {
        /* A trajectory file's root also holds what meshstats writes
         * back (metadata/) and may hold its splits: not samples. */
        if (l->warn != NULL && strcmp(name, "metadata") != 0) {
            char msg[512];
            ms__format_message(msg, sizeof(msg),
                               "%s: %s%s: group name is not a sample id (a "
                               "decimal integer); skipped",
                               l->path, l->where, name);
            l->warn(l->userdata, -1, msg);
        }
        return 0;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *grown = ms__reallocarray(l->names, cap, sizeof(*l->names));
        if (grown == NULL) {
            l->rc = MS_ENOMEM;
            return -1;
        }
        l->names = grown;
        l->cap = cap;
    }
    char *copy = ms__strdup(name);
    if (copy == NULL) {
        l->rc = MS_ENOMEM;
        return -1;
    }
    l->names[l->count++] = (struct ms_sample_name){id, copy};
    return 0;
}

/* By id; names of one id by length ("7" before "007"), then bytes. */
static int
compare_names(const void *a, const void *b)
{
    const struct ms_sample_name *x = a, *y = b;
    if (x->id != y->id) {
        return x->id < y->id ? -1 : 1;
    }
    size_t lx = strlen(x->name), ly = strlen(y->name);
    if (lx != ly) {
        return lx < ly ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

/* A name that spells the id of the name before it again ("007" after
 * "7") is the same sample twice: a loader reads data/<id>, one group, so
 * only the first (the shortest) is kept, the others warned of. */
static void
drop_repeated_ids(struct listing *l)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (kept == 0 || l->names[i].id != l->names[kept - 1].id) {
            l->names[kept++] = l->names[i];
            continue;
        }
        if (l->warn != NULL) {
            char msg[512];
            ms__format_message(
                msg, sizeof(msg),
                "%s: %s%s: the same sample id as %s%s (%lld); skipped: only "
                "%s%s is read",
                l->path, l->where, l->names[i].name, l->where,
                l->names[kept - 1].name, (long long)l->names[i].id, l->where,
                l->names[kept - 1].name);
            l->warn(l->userdata, -1, msg);
        }
        ms__free(l->names[i].name);
    }
    l->count = kept;
}

void
ms__sample_names_free(struct ms_sample_name *names, size_t count)
{
    for (size_t i = 0; names != NULL && i < count; i++) {
        ms__free(names[i].name);
    }
    ms__free(names);
}

/* Stops the iteration at the first name that is a sample id. */
static herr_t
find_id(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    (void)info;
    int64_t id;
    *(bool *)data = parse_sample_id(name, &id);
    return *(bool *)data ? 1 : 0;
}

/* Whether group holds a name that is a sample id. */
static bool
holds_ids(hid_t loc, const char *group)
{
    bool found = false;
    hid_t g = H5Gopen2(loc, group, H5P_DEFAULT);
    if (g >= 0) {
        hsize_t idx = 0;
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, find_id, &found);
        H5Gclose(g);
    }
    return found;
}

int
ms__file_detect_layout(struct ms_file *f, struct ms_error *err)
{
    ms__hdf5_quiet();
    bool data = ms__object_type(f->id, "data") == H5I_GROUP;
    bool roots = holds_ids(f->id, "/");
    /* data/ wins, unless it holds no sample and the root does. */
    if (data && (!roots || holds_ids(f->id, "data"))) {
        f->layout = MS_LAYOUT_NODAL;
        f->prefix = "data/";
        return 0;
    }
    if (!roots) {
        return ms__error_set(err, MS_ELAYOUT,
                             "%s: no group 'data' (expected data/<id>/"
                             "nodal_data and data/<id>/mesh_edge) and no "
                             "trajectory groups named by integers at the "
                             "root (0/world_pos, ...)",
                             f->path);
    }
    f->layout = MS_LAYOUT_TRAJECTORY;
    f->prefix = "";
    return 0;
}

const char *
ms__file_path(const struct ms_file *f)
{
    return f->path;
}

enum ms_layout
ms__file_layout(const struct ms_file *f)
{
    return f->layout;
}

int
ms__file_list_samples(struct ms_file *f, ms_warning_fn warn, void *userdata,
                      struct ms_sample_name **out, size_t *count,
                      struct ms_error *err)
{
    ms__hdf5_quiet();
    *out = NULL;
    *count = 0;
    bool nodal = f->layout == MS_LAYOUT_NODAL;
    const char *where = nodal ? "data" : "/";
    if (nodal && ms__object_type(f->id, "data") != H5I_GROUP) {
        return ms__error_set(err, MS_ELAYOUT,
                             "%s: no group 'data' (expected data/<id>/"
                             "nodal_data and data/<id>/mesh_edge)",
                             f->path);
    }
    hid_t group = H5Gopen2(f->id, where, H5P_DEFAULT);
    if (group < 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        return ms__error_set(err, MS_EIO, "%s: %s: cannot open group: %s",
                             f->path, where, msg);
    }
    struct listing l = {.warn = warn, .userdata = userdata,
                        .path = f->path, .where = f->prefix};
    hsize_t idx = 0;
    herr_t status = H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx,
                               collect_name, &l);
    if (f->samples >= 0) {
        H5Gclose(f->samples);
    }
    f->samples = group;
    if (l.rc != 0 || status < 0) {
        ms__sample_names_free(l.names, l.count);
        if (l.rc == MS_ENOMEM) {
            return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                                 f->path);
        }
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        return ms__error_set(err, MS_EIO, "%s: %s: cannot list: %s",
                             f->path, where, msg);
    }
    if (l.count > 1) {
        qsort(l.names, l.count, sizeof(*l.names), compare_names);
        drop_repeated_ids(&l);
    }
    *out = l.names;
    *count = l.count;
    set_cache(f->id, l.count);
    return 0;
}
