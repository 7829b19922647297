/*
 * posix_file.h: what meshstats' two HDF5 file drivers share (posix_file.c):
 * read/file_driver.c's, which reads a dataset file, and
 * results/writeback_file.c's, which writes results into one.  Each keeps
 * its file on one POSIX descriptor, as HDF5's sec2 driver does, in a struct
 * of its own that begins with struct ms_posix_file, and hands HDF5 these
 * functions for the parts they do alike.
 */
#ifndef MESHSTATS_POSIX_FILE_H
#define MESHSTATS_POSIX_FILE_H

#include <hdf5.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

struct ms_posix_file {
    H5FD_t pub; /* first: HDF5's part */
    int fd;
    haddr_t eoa, eof;
    dev_t dev; /* the file's identity (HDF5 compares open files by it) */
    ino_t ino;
};

/* name opened with open_flags (O_RDONLY or O_RDWR, with O_CREAT: mode
 * 0666 less the umask; close-on-exec) into
 * f (the start of the driver's own struct, which the driver allocates
 * and frees): the descriptor, the file's size as its end, its identity;
 * 0, or -1 with errno set. */
int ms__posix_open(struct ms_posix_file *f, const char *name, int open_flags);
/* Close f's descriptor: 0, or -1 with errno set. */
int ms__posix_close(struct ms_posix_file *f);
/* size bytes at addr into buf with pread, zeros past the end of the
 * file: the bytes the file had, or -1 (errno set). */
ssize_t ms__posix_pread(int fd, void *buf, size_t size, haddr_t addr);

/* The H5FD_class_t functions both drivers use as they are. */
int ms__posix_cmp(const H5FD_t *a, const H5FD_t *b);
haddr_t ms__posix_get_eoa(const H5FD_t *file, H5FD_mem_t type);
herr_t ms__posix_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr);
haddr_t ms__posix_get_eof(const H5FD_t *file, H5FD_mem_t type);
/* The descriptor, for H5Fget_vfd_handle (HDF5 passes a valid handle). */
herr_t ms__posix_get_handle(H5FD_t *file, hid_t fapl, void **handle);

/* A driver's registration with HDF5 (static storage, MS_POSIX_REGISTRY):
 * its id, registered the first time it is asked for and again once HDF5
 * has closed and reopened (H5close in the program), so that a stale id,
 * which HDF5 may since have given another driver, is never used; -1 if
 * HDF5 refuses it.  The driver's terminate callback, which HDF5 calls as
 * it closes, calls ms__posix_forget. */
struct ms_posix_registry {
    const H5FD_class_t *cls;
    _Atomic hid_t id;
    pthread_mutex_t lock;
};
#define MS_POSIX_REGISTRY(cls) {(cls), -1, PTHREAD_MUTEX_INITIALIZER}
hid_t ms__posix_register(struct ms_posix_registry *r);
void ms__posix_forget(struct ms_posix_registry *r);

#endif
