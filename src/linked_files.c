/*
 * linked_files.c: the files a dataset file refers to, found as HDF5 finds
 * them, to explain a lookup that failed.
 *
 * An external link names a file and an object in it; a virtual dataset
 * names, for each part, a source file and dataset.  HDF5 1.10 looks for a
 * relative file name in the folders of HDF5_EXT_PREFIX (links) or
 * HDF5_VDS_PREFIX (virtual datasets), then beside the file that refers to
 * it, then from the current directory; an absolute name as written, then
 * by its last component the same way.  When a lookup through a link fails,
 * this says which link, to what, and why: no such file, a file HDF5
 * cannot open, no such object in it, or a soft link to nothing.
 */
#include "hdf5_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether path names a readable HDF5 file. */
static bool
is_hdf5_file(const char *path)
{
    return access(path, R_OK) == 0 && H5Fis_hdf5(path) > 0;
}

/* dir "/" name into out, dir's ${ORIGIN} standing for origin (the folder
 * of the referring file). */
static void
join(char *out, size_t size, const char *dir, size_t dirlen,
     const char *origin, const char *name)
{
    const char *tag = "${ORIGIN}";
    if (dirlen >= strlen(tag) && strncmp(dir, tag, strlen(tag)) == 0) {
        snprintf(out, size, "%s%.*s/%s", origin,
                 (int)(dirlen - strlen(tag)), dir + strlen(tag), name);
    } else {
        snprintf(out, size, "%.*s/%s", (int)dirlen, dir, name);
    }
}

bool
ms__find_linked_file(const char *referrer, const char *name,
                     const char *prefix_env, char *out, size_t size)
{
    snprintf(out, size, "%s", name);
    if (name[0] == '/') {
        if (is_hdf5_file(name)) {
            return true;
        }
        const char *last = strrchr(name, '/');
        name = last + 1;
    }
    char origin[4096];
    const char *slash = strrchr(referrer, '/');
    snprintf(origin, sizeof(origin), "%.*s",
             slash ? (int)(slash - referrer) : 1, slash ? referrer : ".");
    const char *dirs = getenv(prefix_env);
    while (dirs != NULL && *dirs != '\0') {
        size_t len = strcspn(dirs, ":");
        join(out, size, dirs, len, origin, name);
        if (len > 0 && is_hdf5_file(out)) {
            return true;
        }
        dirs += len + (dirs[len] == ':');
    }
    join(out, size, origin, strlen(origin), origin, name);
    if (is_hdf5_file(out)) {
        return true;
    }
    snprintf(out, size, "%s", name);
    return is_hdf5_file(out);
}

/* Why the external link at path (in loc) leads nowhere, into buf. */
static void
explain_external(hid_t loc, const char *referrer, const char *path,
                 size_t val_size, char *buf, size_t size)
{
    char *val = ms__malloc(val_size ? val_size : 1);
    const char *file = NULL, *obj = NULL;
    unsigned flags = 0;
    if (val == NULL || H5Lget_val(loc, path, val, val_size, H5P_DEFAULT) < 0 ||
        H5Lunpack_elink_val(val, val_size, &flags, &file, &obj) < 0) {
        snprintf(buf, size, "%s is an external link that cannot be read",
                 path);
        ms__free(val);
        return;
    }
    char found[4096];
    if (!ms__find_linked_file(referrer, file, "HDF5_EXT_PREFIX", found,
                              sizeof(found))) {
        snprintf(buf, size,
                 "%s is an external link to %s in the file %s, which does "
                 "not exist or is not an HDF5 file (looked for beside %s "
                 "and from the current directory)",
                 path, obj, file, referrer);
    } else {
        hid_t other = H5Fopen(found, H5F_ACC_RDONLY, H5P_DEFAULT);
        bool has = other >= 0 && ms__object_type(other, obj) > H5I_BADID;
        snprintf(buf, size, "%s is an external link to %s in the file %s, %s",
                 path, obj, found,
                 other < 0 ? "which HDF5 cannot open"
                 : has     ? "which cannot be opened"
                           : "which has no such object");
        if (other >= 0) {
            H5Fclose(other);
        }
    }
    ms__free(val);
}

bool
ms__explain_links(hid_t loc, const char *referrer, const char *path,
                  char *buf, size_t size)
{
    char prefix[512];
    size_t len = strlen(path);
    for (size_t end = 1; end <= len && end < sizeof(prefix); end++) {
        if (end < len && path[end] != '/') {
            continue;
        }
        snprintf(prefix, sizeof(prefix), "%.*s", (int)end, path);
        H5L_info_t info;
        if (H5Lexists(loc, prefix, H5P_DEFAULT) <= 0 ||
            H5Lget_info(loc, prefix, &info, H5P_DEFAULT) < 0) {
            return false;
        }
        if (info.type == H5L_TYPE_EXTERNAL &&
            ms__object_type(loc, prefix) == H5I_UNINIT) {
            explain_external(loc, referrer, prefix, info.u.val_size, buf,
                             size);
            return true;
        }
        if (info.type == H5L_TYPE_SOFT &&
            ms__object_type(loc, prefix) == H5I_UNINIT) {
            char target[256] = "";
            H5Lget_val(loc, prefix, target, sizeof(target), H5P_DEFAULT);
            target[sizeof(target) - 1] = '\0';
            snprintf(buf, size,
                     "%s is a soft link to %s, which does not exist", prefix,
                     target);
            return true;
        }
    }
    return false;
}
