/*
 * generate_util.c: what both dataset generators use: a seeded
 * splitmix64 stream, and the train/val/test splits a dataset builder
 * stores at metadata/splits.
 */
#include "generate/generate.h"

#include <hdf5.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
ms__gen_create(struct ms_gen_file *g, const char *path, struct ms_error *err)
{
    *g = (struct ms_gen_file){.file = -1};
    /* .NAME.meshstats.PID.tmp beside it: this process's own, made anew
     * (never through a link, never another run's) */
    size_t size = strlen(path) + sizeof("..meshstats..tmp") + 24;
    g->temp = ms__malloc(size);
    if (g->temp == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory", path);
    }
    const char *slash = strrchr(path, '/');
    int dir = slash ? (int)(slash - path) + 1 : 0;
    snprintf(g->temp, size, "%.*s.%s.meshstats.%ld.tmp", dir, path,
             path + dir, (long)getpid());
    unlink(g->temp);
    hid_t fapl = ms__writeback_fapl(&g->failed, true);
    g->file = fapl < 0 ? -1
                       : H5Fcreate(g->temp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    char msg[256];
    ms__hdf5_last_error(msg, sizeof(msg)); /* (before H5Pclose clears it) */
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    if (g->file < 0) {
        int rc = g->failed == ENOMEM || fapl < 0 ? MS_ENOMEM : MS_EIO;
        ms__error_set(err, rc, "%s: cannot create: %s", path,
                      rc == MS_ENOMEM ? "out of memory" : msg);
        ms__free(g->temp);
        g->temp = NULL;
        return rc;
    }
    return 0;
}

int
ms__gen_finish(struct ms_gen_file *g, const char *path, int rc,
               struct ms_error *err)
{
    bool closed = H5Fclose(g->file) >= 0;
    if (g->failed != 0 && (rc == 0 || rc == MS_EIO)) {
        rc = ms__error_set(err, MS_EIO, "%s: writing failed: %s", path,
                           strerror(g->failed));
    } else if (!closed && rc == 0) {
        char msg[256];
        ms__hdf5_last_error(msg, sizeof(msg));
        rc = ms__error_set(err, MS_EIO, "%s: closing failed: %s", path, msg);
    }
    if (rc == 0 && rename(g->temp, path) != 0) {
        rc = ms__error_set(err, MS_EIO, "%s: cannot put the file in place: %s",
                           path, strerror(errno));
    }
    if (rc != 0) {
        unlink(g->temp);
    }
    ms__free(g->temp);
    g->temp = NULL;
    return rc;
}

uint64_t
ms__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
double
ms__uniform(uint64_t *state)
{
    return (double)(ms__splitmix64(state) >> 11) * 0x1.0p-53;
}

/* metadata/splits/{train,val,test}: the first 80% of the ids, the next
 * 10%, the rest (each non-empty where the sample count allows). */
int
ms__write_splits(hid_t file, unsigned samples)
{
    unsigned train = samples * 8 / 10, val = samples / 10;
    if (train == 0) {
        train = 1;
    }
    if (samples - train > 1 && val == 0) {
        val = 1;
    }
    if (train + val > samples) {
        val = samples - train;
    }
    const char *names[3] = {"train", "val", "test"};
    unsigned first[3] = {0, train, train + val};
    unsigned count[3] = {train, val, samples - train - val};
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    herr_t rc = 0;
    for (int i = 0; rc >= 0 && i < 3; i++) {
        int64_t *ids = ms__calloc(count[i] ? count[i] : 1, sizeof(*ids));
        if (ids == NULL) {
            H5Pclose(lcpl);
            return MS_ENOMEM;
        }
        for (unsigned k = 0; k < count[i]; k++) {
            ids[k] = first[i] + k;
        }
        char path[64];
        snprintf(path, sizeof(path), "metadata/splits/%s", names[i]);
        hsize_t dims[1] = {count[i]};
        hid_t space = H5Screate_simple(1, dims, NULL);
        hid_t d = H5Dcreate2(file, path, H5T_STD_I64LE, space, lcpl,
                             H5P_DEFAULT, H5P_DEFAULT);
        rc = d < 0 ? -1
                   : H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, ids);
        if (d >= 0) {
            H5Dclose(d);
        }
        H5Sclose(space);
        ms__free(ids);
    }
    H5Pclose(lcpl);
    return rc < 0 ? MS_EIO : 0;
}

