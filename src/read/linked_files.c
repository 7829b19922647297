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
#include "read/hdf5_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ms__hdf5_file_at(const char *path)
{
    struct stat st;
    if (access(path, R_OK) != 0) {
        return errno;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        return ENODEV;
    }
    return H5Fis_hdf5(path) > 0 ? 0 : EINVAL;
}

/* dir "/" name into out; with origin (virtual datasets only: HDF5 1.10
 * expands it for those, not for external links) a leading ${ORIGIN} of
 * dir stands for the folder of the referring file. */
static void
join(char *out, size_t size, const char *dir, size_t dirlen,
     const char *origin, const char *name)
{
    const char *tag = "${ORIGIN}";
    size_t n = strlen(tag);
    if (origin != NULL && dirlen >= n && strncmp(dir, tag, n) == 0) {
        snprintf(out, size, "%s%.*s/%s", origin, (int)(dirlen - n), dir + n,
                 name);
    } else {
        snprintf(out, size, "%.*s/%s", (int)dirlen, dir, name);
    }
}

/* Keep the most telling problem: a file that is there beats none. */
static int
worse(int kept, int now)
{
    return kept == ENOENT || kept == 0 ? now : kept;
}

int
ms__find_linked_file(const char *referrer, const char *name,
                     const char *prefix_env, char *out, size_t size)
{
    int problem = ENOENT, e;
    snprintf(out, size, "%s", name);
    if (name[0] == '/') {
        if ((problem = ms__hdf5_file_at(name)) == 0) {
            return 0;
        }
        name = strrchr(name, '/') + 1;
    }
    char origin[4096];
    const char *slash = strrchr(referrer, '/');
    snprintf(origin, sizeof(origin), "%.*s",
             slash ? (int)(slash - referrer) : 1, slash ? referrer : ".");
    bool vds = strcmp(prefix_env, "HDF5_VDS_PREFIX") == 0;
    const char *dirs = getenv(prefix_env);
    while (dirs != NULL && *dirs != '\0') {
        size_t len = strcspn(dirs, ":");
        join(out, size, dirs, len, vds ? origin : NULL, name);
        if (len > 0 && (e = ms__hdf5_file_at(out)) == 0) {
            return 0;
        }
        problem = len > 0 ? worse(problem, e) : problem;
        dirs += len + (dirs[len] == ':');
    }
    join(out, size, origin, strlen(origin), NULL, name);
    if ((e = ms__hdf5_file_at(out)) == 0) {
        return 0;
    }
    problem = worse(problem, e);
    snprintf(out, size, "%s", name);
    if ((e = ms__hdf5_file_at(out)) == 0) {
        return 0;
    }
    return worse(problem, e);
}

const char *
ms__linked_file_problem(int problem, const char *referrer)
{
    static _Thread_local char text[4200];
    if (problem == ENOENT) {
        snprintf(text, sizeof(text),
                 "does not exist (looked for beside %s and from the "
                 "current directory)",
                 referrer);
    } else if (problem == EINVAL) {
        snprintf(text, sizeof(text), "is not an HDF5 file");
    } else if (problem == ENODEV) {
        snprintf(text, sizeof(text),
                 "is not a regular file (a folder, a named pipe or a "
                 "device)");
    } else {
        snprintf(text, sizeof(text), "cannot be read: %s", strerror(problem));
    }
    return text;
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
    int problem = ms__find_linked_file(referrer, file, "HDF5_EXT_PREFIX",
                                       found, sizeof(found));
    if (problem != 0) {
        snprintf(buf, size, "%s is an external link to %s in the file %s, "
                 "which %s",
                 path, obj, file, ms__linked_file_problem(problem, referrer));
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

/* The name of the file that holds the link at path (its parent group
 * may be in a file reached through another link), else referrer. */
static void
link_holder(hid_t loc, const char *path, const char *referrer, char *out,
            size_t size)
{
    char parent[1024];
    const char *slash = strrchr(path, '/');
    snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1,
             slash ? path : ".");
    hid_t obj = H5Oopen(loc, parent[0] != '\0' ? parent : "/", H5P_DEFAULT);
    if (obj < 0 || H5Fget_name(obj, out, size) <= 0) {
        snprintf(out, size, "%s", referrer);
    }
    if (obj >= 0) {
        H5Oclose(obj);
    }
}

bool
ms__explain_links(hid_t loc, const char *referrer, const char *path,
                  char *buf, size_t size)
{
    char prefix[1024];
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
            char holder[4096];
            link_holder(loc, prefix, referrer, holder, sizeof(holder));
            explain_external(loc, holder, prefix, info.u.val_size, buf,
                             size);
            return true;
        }
        if (info.type == H5L_TYPE_SOFT &&
            ms__object_type(loc, prefix) == H5I_UNINIT) {
            char target[1024] = "";
            H5Lget_val(loc, prefix, target, sizeof(target), H5P_DEFAULT);
            target[sizeof(target) - 1] = '\0';
            /* (the target named but not resolved: a link itself) */
            bool link = target[0] != '\0' &&
                        H5Lexists(loc, target, H5P_DEFAULT) > 0;
            /* (a missing folder on the way is an error, whose strings
             * this thread's error stack would otherwise keep, leaked) */
            H5Eclear2(H5E_DEFAULT);
            snprintf(buf, size,
                     link ? "%s is a soft link to %s, itself a link that "
                            "leads nowhere (a cycle of soft links, or a "
                            "chain ending at nothing)"
                          : "%s is a soft link to %s, which does not exist",
                     prefix, target);
            return true;
        }
    }
    return false;
}
