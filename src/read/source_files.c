/*
 * source_files.c: the files that hold a pass's datasets, each opened once
 * for direct reads.
 *
 * A dataset need not live in the file that was opened: an external link
 * (a whole sample group, or one dataset) makes HDF5 open the linked file,
 * and H5Dget_offset is then an address in that file.  So a direct read
 * (pread of contiguous data: direct_read.c, reader.c, trajectory_read.c)
 * takes its descriptor from the dataset itself: the file HDF5 holds it
 * in, the POSIX descriptor HDF5 reads that file through (file_driver.c's
 * or sec2's), duplicated because HDF5 closes a linked file with the last
 * object open in it.  One duplicate is kept per
 * distinct file (device and inode) until the dataset file is closed.
 * Where this cannot be established (another driver, a userblock,
 * more files than MS_MAX_SOURCE_FILES or a quarter of the descriptors the
 * process may still open, MESHSTATS_NO_PREAD=1), the answer is -1 and the
 * read goes through HDF5, which always reads the right file.
 * Called on any thread (the lock guards the list).
 */
#include "read/hdf5_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

struct ms_source_file {
    dev_t dev;
    ino_t ino;
    int fd;
};

void
ms__sources_init(struct ms_file *f)
{
    const char *off = getenv("MESHSTATS_NO_PREAD");
    f->direct = !(off != NULL && strcmp(off, "1") == 0);
    f->sources = NULL;
    f->nsources = 0;
    f->max_sources = MS_MAX_SOURCE_FILES;
    f->last_fileno = 0;
    f->last_fd = -2; /* nothing asked yet */
    /* A quarter of what the process may still open, less a reserve, so
     * that the pass's own descriptors (the event loop's, HDF5's files)
     * are never short: under a low limit, more reads go through HDF5. */
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
        rlim_t spare = lim.rlim_cur > 64 ? (lim.rlim_cur - 64) / 4 : 0;
        f->max_sources = spare < f->max_sources ? (size_t)spare
                                                : f->max_sources;
    }
    uv_mutex_init(&f->sources_lock);
}

void
ms__sources_close(struct ms_file *f)
{
    for (size_t i = 0; i < f->nsources; i++) {
        close(f->sources[i].fd);
    }
    ms__free(f->sources);
    f->sources = NULL;
    f->nsources = 0;
    uv_mutex_destroy(&f->sources_lock);
}

/* The POSIX descriptor HDF5 reads file through (file_driver.c's or
 * sec2's), if addresses in it are byte offsets of that descriptor (no
 * userblock shifts them); else -1. */
static int
driver_fd(hid_t file)
{
    int fd = -1;
    hid_t fapl = H5Fget_access_plist(file);
    hid_t fcpl = H5Fget_create_plist(file);
    hsize_t userblock = 1;
    void *handle = NULL;
    if (fapl >= 0 && fcpl >= 0 && ms__driver_posix(H5Pget_driver(fapl)) &&
        H5Pget_userblock(fcpl, &userblock) >= 0 && userblock == 0 &&
        H5Fget_vfd_handle(file, fapl, &handle) >= 0 && handle != NULL) {
        fd = *(int *)handle;
    }
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    if (fcpl >= 0) {
        H5Pclose(fcpl);
    }
    return fd;
}

/* Our descriptor of the file HDF5 reads through hfd (st: its status),
 * taken from the list or duplicated into it; -1 if the list is full.
 * Called with the lock held. */
static int
listed_fd(struct ms_file *f, int hfd, const struct stat *st)
{
    for (size_t i = 0; i < f->nsources; i++) {
        if (f->sources[i].dev == st->st_dev &&
            f->sources[i].ino == st->st_ino) {
            return f->sources[i].fd;
        }
    }
    if (f->nsources >= f->max_sources) {
        return -1;
    }
    if (f->sources == NULL) {
        f->sources = ms__calloc(MS_MAX_SOURCE_FILES, sizeof(*f->sources));
        if (f->sources == NULL) {
            return -1;
        }
    }
    int fd = fcntl(hfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        return -1; /* out of descriptors: HDF5 reads it */
    }
    f->sources[f->nsources++] =
        (struct ms_source_file){st->st_dev, st->st_ino, fd};
    return fd;
}

static int file_fd(struct ms_file *f, hid_t obj);

/* fileno known (or not): the file HDF5 holds obj in, by its number; the
 * last one asked about answers without a look at the file's property
 * lists. */
static int
source_fd(struct ms_file *f, hid_t obj, bool known, unsigned long fileno)
{
    if (!f->direct) {
        return -1;
    }
    uv_mutex_lock(&f->sources_lock);
    int last = known && f->last_fileno == fileno ? f->last_fd : -2;
    uv_mutex_unlock(&f->sources_lock);
    if (last != -2) {
        return last;
    }
    int fd = file_fd(f, obj);
    if (known) {
        uv_mutex_lock(&f->sources_lock);
        f->last_fileno = fileno;
        f->last_fd = fd;
        uv_mutex_unlock(&f->sources_lock);
    }
    return fd;
}

int
ms__source_fd(struct ms_file *f, hid_t obj)
{
    H5O_info_t info;
    bool known = f->direct && H5Oget_info2(obj, &info, H5O_INFO_BASIC) >= 0;
    return source_fd(f, obj, known, known ? info.fileno : 0);
}

int
ms__source_fd_known(struct ms_file *f, hid_t obj, unsigned long fileno)
{
    return source_fd(f, obj, true, fileno);
}

/* ms__source_fd's answer from the file's property lists. */
static int
file_fd(struct ms_file *f, hid_t obj)
{
    hid_t file = H5Iget_file_id(obj);
    if (file < 0) {
        return -1;
    }
    int fd = -1;
    int hfd = driver_fd(file);
    struct stat st;
    if (hfd >= 0 && fstat(hfd, &st) == 0) {
        uv_mutex_lock(&f->sources_lock);
        fd = listed_fd(f, hfd, &st);
        uv_mutex_unlock(&f->sources_lock);
    }
    H5Fclose(file);
    return fd;
}
