/*
 * writeback_keep.c: what a write-back carries from the old parameters
 * group into the new one (docs/spec.md section 7): a dataset builder's
 * own arrays, links and attributes, all but the names meshstats writes;
 * and the closing of HDF5 objects that keeps the error that ended the
 * work before it, for writeback.c's message.
 */
#include "results/results.h"

#include <hdf5.h>

#include <string.h>

/* Close id with close; when rc says the work before failed, keep HDF5's
 * error stack (closing clears it) so that the message can quote it. */
int
ms__close_keeping(int rc, int (*close)(int64_t), int64_t id)
{
    if (id < 0) {
        return rc;
    }
    if (rc >= 0) {
        return close(id) < 0 ? -1 : rc;
    }
    hid_t why = H5Eget_current_stack();
    close(id);
    if (why >= 0) {
        H5Eset_current_stack(why);
    }
    return rc;
}

/* The names meshstats writes in the group (datasets and attributes). */
static bool
ours(const char *name)
{
    static const char *const names[] = {
        "node_mean", "node_std", "edge_mean", "edge_std", "delta_mean",
        "delta_std", "delta_min", "delta_max", "meshstats_version", "model",
        "positional_features", "node_features", "edge_features",
        "delta_features", "mode", "selection", "max_timesteps_for_stats",
        "input_var", "output_var", "edge_var", "samples_used", "node_q01",
        "node_q50", "node_q99", "edge_q01", "edge_q50", "edge_q99",
        "delta_q01", "delta_q50", "delta_q99", "quantile_accuracy"};
    for (size_t i = 0; i < MS_ARRAY_SIZE(names); i++) {
        if (strcmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* A link of the old group, copied as what it is: an object only it
 * links to by value; an object linked from elsewhere too (a builder's
 * link to /data) as another hard link to it, never a copy of all it
 * holds; a soft or external link as a link to the same place. */
static herr_t
copy_link(hid_t old, const char *name, const H5L_info_t *info, void *to)
{
    hid_t into = *(hid_t *)to;
    if (ours(name)) {
        return 0;
    }
    if (info->type == H5L_TYPE_HARD) {
        H5O_info_t oi;
        if (H5Oget_info_by_name2(old, name, &oi, H5O_INFO_BASIC,
                                 H5P_DEFAULT) >= 0 &&
            oi.rc > 1) {
            return H5Lcreate_hard(old, name, into, name, H5P_DEFAULT,
                                  H5P_DEFAULT);
        }
        return H5Ocopy(old, name, into, name, H5P_DEFAULT, H5P_DEFAULT);
    }
    char *val = ms__malloc(info->u.val_size + 1);
    const char *file = NULL, *obj = NULL;
    unsigned flags = 0;
    herr_t rc = val == NULL ? -1
                            : H5Lget_val(old, name, val, info->u.val_size,
                                         H5P_DEFAULT);
    if (rc >= 0 && info->type == H5L_TYPE_SOFT) {
        val[info->u.val_size] = '\0';
        rc = H5Lcreate_soft(val, into, name, H5P_DEFAULT, H5P_DEFAULT);
    } else if (rc >= 0 && info->type == H5L_TYPE_EXTERNAL) {
        rc = H5Lunpack_elink_val(val, info->u.val_size, &flags, &file, &obj);
        rc = rc < 0 ? -1
                    : H5Lcreate_external(file, obj, into, name, H5P_DEFAULT,
                                         H5P_DEFAULT);
    }
    ms__free(val);
    return rc;
}

static herr_t
copy_attribute(hid_t old, const char *name, const H5A_info_t *info, void *to)
{
    (void)info;
    if (ours(name)) {
        return 0;
    }
    hid_t a = H5Aopen(old, name, H5P_DEFAULT);
    hid_t type = a >= 0 ? H5Aget_type(a) : -1;
    hid_t space = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    size_t bytes = type >= 0 && n >= 0 ? H5Tget_size(type) * (size_t)n : 0;
    void *buf = ms__calloc(bytes ? bytes : 1, 1);
    hid_t b = buf != NULL && type >= 0 && space >= 0
                  ? H5Acreate2(*(hid_t *)to, name, type, space, H5P_DEFAULT,
                               H5P_DEFAULT)
                  : -1;
    herr_t rc = b >= 0 && H5Aread(a, type, buf) >= 0 &&
                        H5Awrite(b, type, buf) >= 0
                    ? 0
                    : -1;
    if (rc == 0 && H5Tdetect_class(type, H5T_VLEN) > 0) {
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
    } else if (rc == 0 && H5Tget_class(type) == H5T_STRING &&
               H5Tis_variable_str(type) > 0) {
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
    }
    ms__free(buf);
    rc = ms__close_keeping(rc, H5Aclose, b);
    rc = ms__close_keeping(rc, H5Sclose, space);
    rc = ms__close_keeping(rc, H5Tclose, type);
    return ms__close_keeping(rc, H5Aclose, a);
}

int
ms__keep_others(int64_t file, const char *group, int64_t params)
{
    if (H5Lexists(file, "metadata", H5P_DEFAULT) <= 0 ||
        H5Lexists(file, group, H5P_DEFAULT) <= 0) {
        return 0;
    }
    hid_t old = H5Gopen2(file, group, H5P_DEFAULT);
    hsize_t at = 0;
    herr_t rc = old < 0 ? -1
                        : H5Literate(old, H5_INDEX_NAME, H5_ITER_INC, &at,
                                     copy_link, &params);
    at = 0;
    rc = rc < 0 ? -1
                : H5Aiterate2(old, H5_INDEX_NAME, H5_ITER_INC, &at,
                              copy_attribute, &params);
    return ms__close_keeping(rc, H5Gclose, old);
}
