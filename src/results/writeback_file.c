/*
 * writeback_file.c: the HDF5 file driver of a write-back: sec2's reads
 * and writes on one descriptor, with HDF5's writes held until a flush and
 * then written in an order that leaves a good file after each of them,
 * and the first write that fails (a full disk, a quota, an I/O error)
 * stopping all writing.
 *
 * HDF5 1.10 writes its dirty metadata at a flush in address order and the
 * superblock last, so when a link insertion grows a group's name heap the
 * heap header (low address) pointing at the new heap block goes out
 * before that block (at the end of the file) and before the superblock
 * whose end-of-file covers it: a kill in between leaves the group
 * unreadable.  This driver writes a flush's blocks in this order instead:
 * first everything past what the file held (new space, which nothing on
 * disk refers to yet), then the superblock, then the blocks that were
 * there, symbol table nodes last (they are what makes a new name
 * visible).  A write that fails must leave that prefix alone: HDF5 would
 * retry it at close in its own order, and after a close that failed it
 * crashes at exit closing the file again; so the driver remembers the
 * failure, reports success to HDF5 and drops every later write;
 * writeback.c reports it.  The generator's files (generate/) use the same
 * driver "direct": written through at once, in HDF5's order (a new file
 * has nothing to keep), with the same stop at the first failure.
 */
#include "read/posix_file.h"
#include "results/results.h"

#include <hdf5.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* A write held until the next flush. */
struct held {
    haddr_t addr;
    size_t size;
    unsigned char *data;
    int rank;     /* where it goes in the flush's order (rank_of) */
    size_t order; /* its place among the flush's writes */
};

struct wb_file {
    struct ms_posix_file base; /* first: HDF5's part is its first */
    haddr_t on_disk; /* the file's size after the last flush */
    bool truncate;   /* to eoa, once the held writes are out */
    int *failed; /* the first failed write's errno, else 0 */
    bool direct; /* each write at once, no flush's order, no fsync */
    struct held *held;
    size_t nheld, cap;
};

/* The driver's fapl information: where to report a failure. */
struct wb_info {
    int *failed;
    bool direct;
};

static void *
info_copy(const void *info)
{
    struct wb_info *copy = H5allocate_memory(sizeof(*copy), false);
    if (copy != NULL) {
        memcpy(copy, info, sizeof(*copy));
    }
    return copy;
}

static herr_t
info_free(void *info)
{
    H5free_memory(info);
    return 0;
}

static H5FD_t *
wb_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    const struct wb_info *info = H5Pget_driver_info(fapl);
    struct wb_file *f = ms__calloc(1, sizeof(*f));
    /* (a file it creates, it creates anew: never through a link) */
    int how = ((flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY) |
              ((flags & H5F_ACC_CREAT) ? O_CREAT | O_NOFOLLOW : 0) |
              ((flags & H5F_ACC_TRUNC) ? O_TRUNC : 0) |
              ((flags & H5F_ACC_EXCL) ? O_EXCL : 0);
    if (f == NULL || ms__posix_open(&f->base, name, how) != 0) {
        if (f == NULL && info != NULL && *info->failed == 0) {
            *info->failed = ENOMEM; /* (not HDF5's to say) */
        } else if (f != NULL) {
            H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS,
                     H5E_VFL, H5E_CANTOPENFILE, "unable to open file: %s",
                     strerror(errno));
        }
        ms__free(f);
        return NULL;
    }
    f->on_disk = f->base.eof;
    f->failed = info != NULL ? info->failed : NULL;
    f->direct = info != NULL && info->direct;
    return &f->base.pub;
}

static void write_held(struct wb_file *f);

static herr_t
wb_close(H5FD_t *file)
{
    struct wb_file *f = (struct wb_file *)file;
    write_held(f);
    for (size_t i = 0; i < f->nheld; i++) {
        ms__free(f->held[i].data);
    }
    ms__free(f->held);
    int rc = ms__posix_close(&f->base);
    ms__free(f);
    return rc == 0 ? 0 : -1;
}

static herr_t
wb_query(const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA |
             H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA |
             H5FD_FEAT_POSIX_COMPAT_HANDLE;
    return 0;
}

static herr_t
wb_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
        void *buf)
{
    (void)type;
    (void)dxpl;
    struct wb_file *f = (struct wb_file *)file;
    return ms__posix_pread(f->base.fd, buf, size, addr) < 0 ? -1 : 0;
}

/* Read, then lay the held writes over what was read, in their order. */
static herr_t
wb_read_held(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr,
             size_t size, void *buf)
{
    if (wb_read(file, type, dxpl, addr, size, buf) < 0) {
        return -1;
    }
    struct wb_file *f = (struct wb_file *)file;
    for (size_t i = 0; i < f->nheld; i++) {
        const struct held *h = &f->held[i];
        haddr_t lo = h->addr > addr ? h->addr : addr;
        haddr_t hi = h->addr + h->size < addr + size ? h->addr + h->size
                                                      : addr + size;
        if (lo < hi) {
            memcpy((unsigned char *)buf + (lo - addr), h->data + (lo - h->addr),
                   hi - lo);
        }
    }
    return 0;
}

/* Note the first failure; every write after it is dropped. */
static void
fail(struct wb_file *f, int e)
{
    if (f->failed != NULL && *f->failed == 0) {
        *f->failed = e != 0 ? e : EIO;
    }
}

static bool
stopped(const struct wb_file *f)
{
    return f->failed != NULL && *f->failed != 0;
}

/* Write one range now: the first failure stops every later write. */
static void
write_now(struct wb_file *f, haddr_t addr, size_t size,
          const unsigned char *p)
{
    while (size > 0 && !stopped(f)) {
        ssize_t n = pwrite(f->base.fd, p, size, (off_t)addr);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail(f, n < 0 ? errno : EIO);
            break;
        }
        p += n;
        addr += (haddr_t)n;
        size -= (size_t)n;
        f->on_disk = addr > f->on_disk ? addr : f->on_disk;
    }
}

static herr_t
wb_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr,
         size_t size, const void *buf)
{
    (void)type;
    (void)dxpl;
    struct wb_file *f = (struct wb_file *)file;
    if (stopped(f) || size == 0) {
        return 0;
    }
    if (f->direct) {
        write_now(f, addr, size, buf);
        f->base.eof = addr + size > f->base.eof ? addr + size : f->base.eof;
        return 0;
    }
    if (f->nheld == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 32;
        struct held *grown = ms__reallocarray(f->held, cap, sizeof(*grown));
        if (grown == NULL) {
            fail(f, ENOMEM);
            return 0;
        }
        f->held = grown;
        f->cap = cap;
    }
    unsigned char *copy = ms__malloc(size);
    if (copy == NULL) {
        fail(f, ENOMEM);
        return 0;
    }
    memcpy(copy, buf, size);
    f->held[f->nheld++] = (struct held){addr, size, copy, 0, 0};
    f->base.eof = addr + size > f->base.eof ? addr + size : f->base.eof;
    return 0;
}

/* The rank of a held write in the order it goes to disk: new space, the
 * superblock, blocks that were there, symbol table nodes. */
static int
rank_of(const struct held *h, haddr_t on_disk)
{
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F',
                                               '\r', '\n', 0x1a, '\n'};
    if (h->addr >= on_disk) {
        return 0;
    }
    if (h->size >= 8 && memcmp(h->data, signature, 8) == 0) {
        return 1;
    }
    return h->size >= 4 && memcmp(h->data, "SNOD", 4) == 0 ? 3 : 2;
}

/* Whether the bytes of held write i are all written again by a later
 * one (then it is left out: the later one has the newer bytes). */
static bool
overwritten(const struct wb_file *f, size_t i)
{
    const struct held *h = &f->held[i];
    for (size_t j = i + 1; j < f->nheld; j++) {
        const struct held *g = &f->held[j];
        if (g->addr <= h->addr && g->addr + g->size >= h->addr + h->size) {
            return true;
        }
    }
    return false;
}

/* By rank, then address, then the order HDF5 wrote them in. */
static int
compare_held(const void *pa, const void *pb)
{
    const struct held *a = pa, *b = pb;
    if (a->rank != b->rank) {
        return a->rank < b->rank ? -1 : 1;
    }
    if (a->addr != b->addr) {
        return a->addr < b->addr ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Write what is held, by rank, each rank in address order, leaving out
 * what a later write covers whole (a write some later one partly
 * overlaps keeps its place after it: HDF5 writes each block whole, so
 * that does not happen in a write-back). */
static void
write_held(struct wb_file *f)
{
    for (size_t i = 0; i < f->nheld; i++) {
        struct held *h = &f->held[i];
        h->rank = overwritten(f, i) ? -1 : rank_of(h, f->on_disk);
        h->order = i;
    }
    if (f->nheld > 1) {
        qsort(f->held, f->nheld, sizeof(*f->held), compare_held);
    }
    for (size_t i = 0; i < f->nheld; i++) {
        struct held *h = &f->held[i];
        if (h->rank >= 0) {
            write_now(f, h->addr, h->size, h->data);
        }
        ms__free(h->data);
    }
    f->nheld = 0;
    if (f->truncate && !stopped(f) && f->base.eoa != f->on_disk) {
        if (ftruncate(f->base.fd, (off_t)f->base.eoa) != 0) {
            fail(f, errno);
        } else {
            f->base.eof = f->on_disk = f->base.eoa;
        }
    }
    f->truncate = false;
}

static herr_t
wb_flush(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl;
    (void)closing;
    struct wb_file *f = (struct wb_file *)file;
    write_held(f);
    if (!f->direct && !stopped(f) && fsync(f->base.fd) != 0) {
        fail(f, errno);
    }
    return 0;
}

static herr_t
wb_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl;
    (void)closing;
    /* HDF5 truncates between two flushes of its cache, the superblock
     * in the second: done after the held writes, not before. */
    struct wb_file *f = (struct wb_file *)file;
    f->truncate = true;
    if (f->direct) {
        write_held(f); /* (nothing held: the truncation alone) */
    }
    return 0;
}

static herr_t
wb_lock(H5FD_t *file, hbool_t rw)
{
    struct wb_file *f = (struct wb_file *)file;
    if (flock(f->base.fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 ||
        errno == ENOSYS) {
        return 0;
    }
    H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS,
             H5E_VFL, H5E_CANTLOCKFILE, "unable to lock file: %s",
             strerror(errno));
    return -1;
}

static herr_t
wb_unlock(H5FD_t *file)
{
    flock(((struct wb_file *)file)->base.fd, LOCK_UN);
    return 0;
}

static herr_t wb_terminate(void);

static const H5FD_class_t WB_CLASS = {
    "meshstats-write-back", (haddr_t)INT64_MAX, H5F_CLOSE_WEAK, wb_terminate,
    NULL,
    NULL, NULL, sizeof(struct wb_info), NULL, info_copy, info_free, 0, NULL,
    NULL, wb_open, wb_close, ms__posix_cmp, wb_query, NULL, NULL, NULL,
    ms__posix_get_eoa, ms__posix_set_eoa, ms__posix_get_eof,
    ms__posix_get_handle, wb_read_held, wb_write, wb_flush, wb_truncate,
    wb_lock, wb_unlock, H5FD_FLMAP_DICHOTOMY};

static struct ms_posix_registry registry = MS_POSIX_REGISTRY(&WB_CLASS);

/* HDF5 closes (H5close in the program, or at exit): the id is no longer
 * this driver's, and may later be another's. */
static herr_t
wb_terminate(void)
{
    ms__posix_forget(&registry);
    return 0;
}

hid_t
ms__writeback_fapl(int *failed, bool direct)
{
    hid_t id = ms__posix_register(&registry);
    struct wb_info info = {failed, direct};
    hid_t fapl = id >= 0 ? H5Pcreate(H5P_FILE_ACCESS) : -1;
    if (fapl >= 0 && H5Pset_driver(fapl, id, &info) < 0) {
        H5Pclose(fapl);
        fapl = -1;
    }
    return fapl;
}
