/*
 * file_driver.c: the HDF5 file driver a dataset file is read through.
 *
 * It reads as HDF5's default driver (sec2) does: POSIX pread on one
 * descriptor, a read beyond the end of the file filled with zeros, the
 * file known by its device and inode, a shared flock taken when HDF5 asks
 * for one, its descriptor handed out as sec2's is (source_files.c reads
 * contiguous data with it).  What it adds: the metadata's small reads
 * (object headers, B-tree nodes, heaps: 300 to 550 bytes each, about 6.6
 * a sample of a file of many small samples) are served from BLOCKS cached
 * blocks of BLOCK bytes, least recently used replaced, so that one pread
 * brings in the metadata of a sample that HDF5 would have fetched in
 * several (1.7 preads a sample instead of 6.6 on the many-samples bench:
 * docs/performance.md).  Raw data (H5FD_MEM_DRAW) and larger reads go to
 * pread as they are.  The file is only read: opening it for writing
 * fails.  While this process has an HDF5 file open for writing, files are
 * left to HDF5's own driver (writing_here says why).
 *
 * HDF5 calls a driver only under its global lock, so the blocks need no
 * lock of their own.  MESHSTATS_HDF5_DRIVER=sec2 leaves files to HDF5's
 * own driver (to compare, or to rule this one out).
 */
#include "read/hdf5_file.h"
#include "read/posix_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#define BLOCK 4096u
#define BLOCKS 16
/* The largest offset pread takes (off_t is signed). */
#define MAX_ADDR ((haddr_t)INT64_MAX)

struct block {
    haddr_t start; /* HADDR_UNDEF: empty */
    uint64_t used; /* when last read from, for replacement */
    unsigned char *bytes; /* BLOCK of them (the file's; zeros past its
                           * end), allocated when first used */
};

struct driver_file {
    struct ms_posix_file base; /* (first: HDF5 sees its first member) */
    bool ignore_disabled_locks; /* flock unsupported is no failure */
    uint64_t clock;
    struct block blocks[BLOCKS];
};

static atomic_ulong asked, fetched; /* (ms__driver_counts) */

/* An error on HDF5's stack, as its own drivers push them. */
#define PUSH(maj, min, ...)                                                  \
    H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, (maj),  \
             (min), __VA_ARGS__)

/* Whether a file system without flock is no reason to refuse a file:
 * HDF5_USE_FILE_LOCKING=BEST_EFFORT says yes, TRUE or 1 no, as for sec2;
 * otherwise the access list says. */
static bool
ignore_disabled_locks(hid_t fapl)
{
    const char *env = getenv("HDF5_USE_FILE_LOCKING");
    if (env != NULL && strcmp(env, "BEST_EFFORT") == 0) {
        return true;
    }
    if (env != NULL && (strcmp(env, "TRUE") == 0 || strcmp(env, "1") == 0)) {
        return false;
    }
    hbool_t use = 1, ignore = 0;
    return H5Pget_file_locking(fapl, &use, &ignore) >= 0 && ignore;
}

static H5FD_t *
driver_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    if (name == NULL || *name == '\0' || maxaddr == 0 ||
        maxaddr == HADDR_UNDEF || maxaddr > MAX_ADDR) {
        PUSH(H5E_ARGS, H5E_BADVALUE, "invalid file name or maximum address");
        return NULL;
    }
    if (flags & (H5F_ACC_RDWR | H5F_ACC_TRUNC | H5F_ACC_CREAT)) {
        PUSH(H5E_FILE, H5E_CANTOPENFILE, "meshstats' driver only reads");
        return NULL;
    }
    struct driver_file *f = calloc(1, sizeof(*f)); /* (2 pages) */
    if (f == NULL) {
        PUSH(H5E_RESOURCE, H5E_NOSPACE, "unable to allocate file struct");
        return NULL;
    }
    if (ms__posix_open(&f->base, name, O_RDONLY) != 0) {
        int e = errno;
        free(f);
        PUSH(H5E_FILE, H5E_CANTOPENFILE,
             "unable to open file: name = '%s', errno = %d, error message "
             "= '%s'", name, e, strerror(e));
        return NULL;
    }
    f->ignore_disabled_locks = ignore_disabled_locks(fapl);
    for (int i = 0; i < BLOCKS; i++) {
        f->blocks[i].start = HADDR_UNDEF;
    }
    return &f->base.pub;
}

static herr_t
driver_close(H5FD_t *file)
{
    struct driver_file *f = (struct driver_file *)file;
    for (int i = 0; i < BLOCKS; i++) {
        free(f->blocks[i].bytes);
    }
    int rc = ms__posix_close(&f->base);
    free(f);
    if (rc != 0) {
        PUSH(H5E_IO, H5E_CANTCLOSEFILE, "unable to close file");
        return -1;
    }
    return 0;
}

static herr_t
driver_query(const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    if (flags != NULL) {
        /* As sec2 for reading: HDF5's sieve buffer for raw data, and
         * the descriptor is a POSIX one. */
        *flags = H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
                 H5FD_FEAT_POSIX_COMPAT_HANDLE;
    }
    return 0;
}

/* ms__posix_pread, counted. */
static ssize_t
pread_full(int fd, void *buf, size_t size, haddr_t addr)
{
    atomic_fetch_add_explicit(&fetched, 1, memory_order_relaxed);
    return ms__posix_pread(fd, buf, size, addr);
}

/* The cached block that starts at start, read in if it is not (NULL, and
 * errno set, if it cannot be). */
static struct block *
block_at(struct driver_file *f, haddr_t start)
{
    struct block *victim = &f->blocks[0];
    for (int i = 0; i < BLOCKS; i++) {
        struct block *b = &f->blocks[i];
        if (b->start == start) {
            b->used = ++f->clock;
            return b;
        }
        victim = b->used < victim->used ? b : victim;
    }
    victim->start = HADDR_UNDEF;
    if (victim->bytes == NULL && (victim->bytes = malloc(BLOCK)) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    /* (No byte beyond the largest offset pread takes: those read as 0.) */
    size_t size = MAX_ADDR - start < BLOCK ? (size_t)(MAX_ADDR - start)
                                           : BLOCK;
    memset(victim->bytes + size, 0, BLOCK - size);
    if (pread_full(f->base.fd, victim->bytes, size, start) < 0) {
        return NULL;
    }
    victim->start = start;
    victim->used = ++f->clock;
    return victim;
}

/* A small read of metadata from the blocks (it spans one or two). */
static int
read_cached(struct driver_file *f, haddr_t addr, size_t size,
            unsigned char *buf)
{
    while (size > 0) {
        haddr_t start = addr - addr % BLOCK;
        struct block *b = block_at(f, start);
        if (b == NULL) {
            return -1;
        }
        size_t at = (size_t)(addr - start);
        size_t n = BLOCK - at < size ? BLOCK - at : size;
        memcpy(buf, b->bytes + at, n);
        buf += n;
        addr += n;
        size -= n;
    }
    return 0;
}

static herr_t
driver_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr,
            size_t size, void *buf)
{
    (void)dxpl;
    struct driver_file *f = (struct driver_file *)file;
    if (addr == HADDR_UNDEF || addr > MAX_ADDR || size > MAX_ADDR - addr) {
        PUSH(H5E_ARGS, H5E_OVERFLOW, "addr overflow, addr = %llu, size = %zu",
             (unsigned long long)addr, size);
        return -1;
    }
    atomic_fetch_add_explicit(&asked, 1, memory_order_relaxed);
    int rc = type != H5FD_MEM_DRAW && size <= BLOCK / 2
                 ? read_cached(f, addr, size, buf)
                 : (pread_full(f->base.fd, buf, size, addr) < 0 ? -1 : 0);
    if (rc != 0) {
        int e = errno;
        PUSH(H5E_IO, H5E_READERROR,
             "file read failed: offset = %llu, size = %zu, errno = %d, "
             "error message = '%s'",
             (unsigned long long)addr, size, e, strerror(e));
        return -1;
    }
    return 0;
}

static herr_t
driver_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr,
             size_t size, const void *buf)
{
    (void)file, (void)type, (void)dxpl, (void)addr, (void)size, (void)buf;
    PUSH(H5E_IO, H5E_WRITEERROR, "meshstats' driver only reads");
    return -1;
}

static herr_t
driver_lock(H5FD_t *file, hbool_t rw)
{
    struct driver_file *f = (struct driver_file *)file;
    if (flock(f->base.fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 ||
        (errno == ENOSYS && f->ignore_disabled_locks)) {
        return 0;
    }
    PUSH(H5E_VFL, H5E_CANTLOCKFILE, "unable to lock file, errno = %d, error "
         "message = '%s'", errno, strerror(errno));
    return -1;
}

static herr_t
driver_unlock(H5FD_t *file)
{
    struct driver_file *f = (struct driver_file *)file;
    if (flock(f->base.fd, LOCK_UN) == 0 ||
        (errno == ENOSYS && f->ignore_disabled_locks)) {
        return 0;
    }
    PUSH(H5E_VFL, H5E_CANTUNLOCKFILE, "unable to unlock file, errno = %d, "
         "error message = '%s'", errno, strerror(errno));
    return -1;
}

static herr_t driver_terminate(void);

static const H5FD_class_t driver_class = {
    .name = "meshstats",
    .terminate = driver_terminate,
    .maxaddr = MAX_ADDR,
    .fc_degree = H5F_CLOSE_WEAK,
    .open = driver_open,
    .close = driver_close,
    .cmp = ms__posix_cmp,
    .query = driver_query,
    .get_eoa = ms__posix_get_eoa,
    .set_eoa = ms__posix_set_eoa,
    .get_eof = ms__posix_get_eof,
    .get_handle = ms__posix_get_handle,
    .read = driver_read,
    .write = driver_write,
    .lock = driver_lock,
    .unlock = driver_unlock,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

static struct ms_posix_registry registry = MS_POSIX_REGISTRY(&driver_class);

/* HDF5 closes (H5close, or at exit): the id is no longer this driver's,
 * and may later be another's. */
static herr_t
driver_terminate(void)
{
    ms__posix_forget(&registry);
    return 0;
}

/* Whether a file is open for writing in this process's HDF5 (h5py's "r+"
 * in the Python that calls meshstats): HDF5 shares an open file with a
 * second open of it only through the same driver, and a second driver
 * would read it from disk, without what the writer holds unwritten (or,
 * with file locking on, be refused by the writer's lock). */
static bool
writing_here(void)
{
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
    hid_t *ids = n > 0 ? malloc((size_t)n * sizeof(*ids)) : NULL;
    bool writing = n > 0 && ids == NULL; /* (unknown: as if) */
    if (ids != NULL) {
        n = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)n, ids);
        for (ssize_t i = 0; i < n && !writing; i++) {
            unsigned intent = 0;
            writing = H5Fget_intent(ids[i], &intent) >= 0 &&
                      (intent & H5F_ACC_RDWR) != 0;
        }
    }
    free(ids);
    return writing;
}

bool
ms__driver_use(hid_t fapl)
{
    const char *which = getenv("MESHSTATS_HDF5_DRIVER");
    if ((which != NULL && strcmp(which, "sec2") == 0) || writing_here()) {
        return false;
    }
    hid_t id = ms__posix_register(&registry);
    return id >= 0 && H5Pset_driver(fapl, id, NULL) >= 0;
}

bool
ms__driver_posix(hid_t driver)
{
    return driver == H5FD_SEC2 ||
           (driver >= 0 && driver == atomic_load(&registry.id));
}

void
ms__driver_counts(unsigned long *reads_asked, unsigned long *preads)
{
    *reads_asked = atomic_load(&asked);
    *preads = atomic_load(&fetched);
}
