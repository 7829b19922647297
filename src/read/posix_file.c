/*
 * posix_file.c: the parts of an HDF5 file driver on one POSIX descriptor
 * that meshstats' two drivers share (posix_file.h): opening, closing,
 * reading as sec2 reads (zeros past the end of the file), the file's
 * identity and its ends (called by HDF5 under its lock); and keeping the
 * driver registered.
 */
#include "read/posix_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Only a regular file: a named pipe would be waited on for ever (for a
 * writer: so it is opened without waiting, then refused), a device read
 * without an end.  HDF5 opens linked files through this too. */
int
ms__posix_open(struct ms_posix_file *f, const char *name, int open_flags)
{
    int fd = open(name, open_flags | O_CLOEXEC | O_NONBLOCK, 0666);
    if (fd < 0) {
        return -1;
    }
    struct stat st;
    int e = fstat(fd, &st) != 0   ? errno
            : !S_ISREG(st.st_mode) ? ENODEV
            : fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0
                ? errno
                : 0;
    if (e != 0) {
        close(fd);
        errno = e;
        return -1;
    }
    f->fd = fd;
    f->eof = (haddr_t)st.st_size;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    return 0;
}

int
ms__posix_close(struct ms_posix_file *f)
{
    return close(f->fd);
}

ssize_t
ms__posix_pread(int fd, void *buf, size_t size, haddr_t addr)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, p + got, size - got, (off_t)(addr + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            memset(p + got, 0, size - got); /* past the end */
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int
ms__posix_cmp(const H5FD_t *a, const H5FD_t *b)
{
    const struct ms_posix_file *x = (const void *)a, *y = (const void *)b;
    if (x->dev != y->dev) {
        return x->dev < y->dev ? -1 : 1;
    }
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

haddr_t
ms__posix_get_eoa(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const struct ms_posix_file *)file)->eoa;
}

herr_t
ms__posix_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr)
{
    (void)type;
    ((struct ms_posix_file *)file)->eoa = addr;
    return 0;
}

haddr_t
ms__posix_get_eof(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const struct ms_posix_file *)file)->eof;
}

herr_t
ms__posix_get_handle(H5FD_t *file, hid_t fapl, void **handle)
{
    (void)fapl;
    *handle = &((struct ms_posix_file *)file)->fd;
    return 0;
}

hid_t
ms__posix_register(struct ms_posix_registry *r)
{
    pthread_mutex_lock(&r->lock);
    if (atomic_load(&r->id) < 0) {
        atomic_store(&r->id, H5FDregister(r->cls));
    }
    hid_t id = atomic_load(&r->id);
    pthread_mutex_unlock(&r->lock);
    return id;
}

void
ms__posix_forget(struct ms_posix_registry *r)
{
    atomic_store(&r->id, -1);
}
