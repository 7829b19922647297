/*
 * external_check.c: whether a dataset kept in external raw files
 * (H5Pset_external, h5py's `external=`) has all its bytes there.
 *
 * HDF5 reads such a dataset from the raw files its list names, each from
 * an offset for a size, and gives zeros, without an error, for every byte
 * past the end of a file that is too short.  Those zeros would enter the
 * statistics as if a simulation had written them (for an edge list: edges
 * from node 0 to node 0), so the sample is refused instead, naming the
 * raw file.  A name is resolved as HDF5 1.10 resolves it: an absolute
 * name as it is; a relative one under the prefix HDF5 keeps for the
 * dataset (HDF5_EXTFILE_PREFIX, else the dataset's own H5Pset_efile_prefix,
 * "${ORIGIN}" at its start meaning the folder of the file holding the
 * dataset); with none, from the working directory.
 */
#include "read/hdf5_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The prefix relative names of dset's raw files are under ("" for
 * none): HDF5 1.10.8 keeps the one it resolved (HDF5_EXTFILE_PREFIX as
 * it read it, or the dataset's own, "${ORIGIN}" expanded) in the
 * dataset's access list, so the check reads what HDF5 reads. */
static void
raw_prefix(hid_t dset, char *out, size_t size)
{
    hid_t dapl = H5Dget_access_plist(dset);
    out[0] = '\0';
    if (dapl >= 0) {
        if (H5Pget_efile_prefix(dapl, out, size) < 0) {
            out[0] = '\0';
        }
        H5Pclose(dapl);
    }
    out[size - 1] = '\0';
    if (strcmp(out, ".") == 0) {
        out[0] = '\0';
    }
}

/* Raw file `name` as HDF5 opens it, into out. */
static void
raw_path(const char *prefix, const char *name, char *out, size_t size)
{
    if (name[0] == '/' || prefix[0] == '\0') {
        snprintf(out, size, "%s", name);
    } else {
        size_t n = strlen(prefix);
        snprintf(out, size, "%s%s%s", prefix,
                 n > 0 && prefix[n - 1] == '/' ? "" : "/", name);
    }
}

/* The sample fails: raw file path holds `has` of the `need` bytes it
 * should from offset, or cannot be opened (has < 0, errno_ its error). */
static int
refuse(struct ms_file *f, const struct ms_sample_name *s, const char *leaf,
       const char *path, long long has, hsize_t need, long long offset,
       int errno_, struct ms_error *err)
{
    if (has < 0) {
        return ms__error_set(err, MS_ELAYOUT,
                             "%s: sample %lld: %s%s/%s: its values are "
                             "stored in the external file %s, which cannot "
                             "be opened: %s",
                             f->path, (long long)s->id, f->prefix, s->name,
                             leaf, path, strerror(errno_));
    }
    return ms__error_set(err, MS_ELAYOUT,
                         "%s: sample %lld: %s%s/%s: its values are stored in "
                         "the external file %s, which holds %lld of the %llu "
                         "bytes it should from offset %lld (the rest would "
                         "read as zeros)",
                         f->path, (long long)s->id, f->prefix, s->name, leaf,
                         path, has, (unsigned long long)need, offset);
}

int
ms__external_check(struct ms_file *f, const struct ms_sample_name *s,
                   const char *leaf, hid_t dset, hid_t dcpl, int count,
                   hsize_t want, struct ms_error *err)
{
    char prefix[2048], name[1024], path[4096];
    raw_prefix(dset, prefix, sizeof(prefix));
    hsize_t placed = 0; /* the dataset's bytes the files before hold */
    for (int i = 0; i < count && placed < want; i++) {
        off_t offset = 0;
        hsize_t size = 0;
        name[sizeof(name) - 1] = '\0';
        if (H5Pget_external(dcpl, (unsigned)i, sizeof(name), name, &offset,
                            &size) < 0 ||
            strnlen(name, sizeof(name)) >= sizeof(name) - 1) {
            /* (a name as long as the buffer may be cut short: HDF5
             * copies it without a terminator) */
            return ms__error_set(err, MS_ELAYOUT,
                                 "%s: sample %lld: %s%s/%s: its external "
                                 "file list cannot be read (entry %d, or "
                                 "a name of 1023 bytes or more)",
                                 f->path, (long long)s->id, f->prefix,
                                 s->name, leaf, i);
        }
        hsize_t need = want - placed < size ? want - placed : size;
        raw_path(prefix, name, path, sizeof(path));
        struct stat st;
        if (stat(path, &st) != 0) {
            return refuse(f, s, leaf, path, -1, need, offset, errno, err);
        }
        long long has = S_ISREG(st.st_mode) && st.st_size > offset
                            ? (long long)(st.st_size - offset)
                            : 0;
        if ((hsize_t)has < need) {
            return refuse(f, s, leaf, path, has, need, offset, 0, err);
        }
        placed += need;
    }
    return 0;
}
