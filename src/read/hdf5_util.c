/*
 * hdf5_util.c: HDF5's errors and lookups, for every file that makes HDF5
 * calls while reading: its automatic error printing turned off, its
 * innermost message quoted, objects looked up by path without HDF5
 * printing or failing on a missing link, its version.  Calls nothing of
 * meshstats'.
 */
#include "read/hdf5_file.h"

#include <stdio.h>
#include <string.h>

void
ms__hdf5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct deepest {
    char *buf;
    size_t size;
};

static herr_t
keep_deepest(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    struct deepest *d = data;
    if (e->desc != NULL && e->desc[0] != '\0') {
        snprintf(d->buf, d->size, "%s", e->desc);
    }
    return 0;
}

void
ms__hdf5_last_error(char *buf, size_t size)
{
    struct deepest d = {buf, size};
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_deepest, &d);
    if (buf[0] == '\0') {
        snprintf(buf, size, "no detail from HDF5");
    }
}

H5I_type_t
ms__object_type(hid_t loc, const char *path)
{
    hid_t obj = ms__object_open(loc, path);
    if (obj < 0) {
        return (H5I_type_t)obj;
    }
    H5I_type_t type = H5Iget_type(obj);
    H5Oclose(obj);
    return type;
}

hid_t
ms__object_open(hid_t loc, const char *path)
{
    /* One lookup when the object is there; the existence test only to
     * say why not. */
    hid_t obj = H5Oopen(loc, path, H5P_DEFAULT);
    if (obj >= 0) {
        return obj;
    }
    hid_t why = H5Eget_current_stack(); /* the open's, for the message */
    htri_t exists = H5Lexists(loc, path, H5P_DEFAULT);
    if (exists == 0) {
        H5Eclose_stack(why);
        return (hid_t)H5I_BADID;
    }
    if (why >= 0 && exists > 0) {
        H5Eset_current_stack(why); /* (which closes it) */
    } else if (why >= 0) {
        H5Eclose_stack(why); /* the lookup's own error says more */
    }
    return (hid_t)H5I_UNINIT;
}

void
ms__hdf5_version(char *buf, size_t size)
{
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    snprintf(buf, size, "%u.%u.%u", major, minor, release);
}
