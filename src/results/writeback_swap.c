/*
 * writeback_swap.c: a group's link retargeted in one write, the step that
 * makes a write-back's new parameters visible when the old ones are there.
 *
 * HDF5 1.10 has no journal: replacing metadata/normalization_params
 * through its API (delete, rename, link) rewrites the group's symbol
 * table node and name heap in several writes, in an order of HDF5's, and
 * a kill between them leaves a link that does not open.  So writeback.c
 * builds the new group where nothing links to it, flushes it, closes the
 * file, and this file makes the one change that publishes it: the 40-byte
 * symbol table entry of normalization_params in metadata's symbol table
 * node is rewritten to name the new group's object header (whose
 * reference count writeback.c already set to 1, so that HDF5 kept the
 * unlinked group at close).  Before that write a reader finds the old
 * group whole; after it, the new group whole.  The old group is left
 * unreachable in the file (a kill before the write leaves the new one so).
 *
 * This applies to the classic format HDF5 and h5py write by default
 * (version 0 or 1 superblock, 8-byte addresses, a group's links in a
 * symbol table: a v1 B-tree of symbol table nodes and a local heap of
 * names, object headers of version 1); ms__swap_supported says whether
 * the file is one.
 */
#include "results/results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ENTRY_BYTES 40
#define MAX_DEPTH 16

static uint64_t
le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) {
        v = v << 8 | p[i];
    }
    return v;
}

static int
read_at(int fd, uint64_t at, void *buf, size_t n)
{
    return pread(fd, buf, n, (off_t)at) == (ssize_t)n ? 0 : EIO;
}

/* The name at offset of the local heap at heap (file offsets are
 * base + address). */
static int
heap_name(int fd, uint64_t base, uint64_t heap, uint64_t offset, char *name,
          size_t size)
{
    unsigned char h[32];
    if (read_at(fd, base + heap, h, sizeof(h)) != 0 ||
        memcmp(h, "HEAP", 4) != 0 || offset >= le(h + 8, 8)) {
        return EIO;
    }
    uint64_t data = le(h + 24, 8);
    memset(name, 0, size);
    if (pread(fd, name, size - 1, (off_t)(base + data + offset)) <= 0) {
        return EIO;
    }
    return 0;
}

/* Search the symbol table node at snod for the entry named want pointing
 * at target: its file offset into *at. */
static int
search_node(int fd, const struct ms_swap *sw, uint64_t snod, uint64_t *at)
{
    unsigned char head[8], e[ENTRY_BYTES];
    if (read_at(fd, sw->base + snod, head, sizeof(head)) != 0 ||
        memcmp(head, "SNOD", 4) != 0) {
        return EIO;
    }
    size_t n = (size_t)le(head + 6, 2);
    for (size_t i = 0; i < n; i++) {
        uint64_t where = sw->base + snod + 8 + i * ENTRY_BYTES;
        char name[64];
        if (read_at(fd, where, e, sizeof(e)) != 0) {
            return EIO;
        }
        if (le(e + 8, 8) == sw->old_addr &&
            heap_name(fd, sw->base, sw->heap, le(e, 8), name,
                      sizeof(name)) == 0 &&
            strcmp(name, sw->name) == 0) {
            *at = where;
            return 0;
        }
    }
    return ENOENT;
}

/* Walk the group B-tree node at node (children: nodes, or at level 0
 * symbol table nodes) for the entry. */
static int
search_tree(int fd, const struct ms_swap *sw, uint64_t node, int depth,
            uint64_t *at)
{
    unsigned char h[24];
    if (depth > MAX_DEPTH || read_at(fd, sw->base + node, h, sizeof(h)) ||
        memcmp(h, "TREE", 4) != 0 || h[4] != 0) {
        return EIO;
    }
    unsigned level = h[5];
    size_t used = (size_t)le(h + 6, 2);
    for (size_t i = 0; i < used; i++) {
        unsigned char child[8];
        /* key 0, child 0, key 1, child 1, ...: 8 bytes each */
        if (read_at(fd, sw->base + node + 24 + (2 * i + 1) * 8, child, 8)) {
            return EIO;
        }
        int rc = level == 0
                     ? search_node(fd, sw, le(child, 8), at)
                     : search_tree(fd, sw, le(child, 8), depth + 1, at);
        if (rc != ENOENT) {
            return rc;
        }
    }
    return ENOENT;
}

/* The v1 B-tree and local heap of the group whose version 1 object header
 * is at addr: its symbol table message (type 0x11), following
 * continuation messages (type 0x10). */
static int
symbol_table(int fd, uint64_t base, uint64_t addr, uint64_t *btree,
             uint64_t *heap)
{
    unsigned char h[16];
    if (read_at(fd, base + addr, h, sizeof(h)) != 0 || h[0] != 1) {
        return EIO;
    }
    uint64_t block = base + addr + 16, end = block + le(h + 8, 4);
    for (int hops = 0; hops < 64 && block + 8 <= end;) {
        unsigned char m[24];
        if (read_at(fd, block, m, 8) != 0) {
            return EIO;
        }
        size_t type = (size_t)le(m, 2), size = (size_t)le(m + 2, 2);
        if ((type == 0x11 || type == 0x10) && size >= 16 &&
            read_at(fd, block + 8, m + 8, 16) != 0) {
            return EIO;
        }
        if (type == 0x11) {
            *btree = le(m + 8, 8);
            *heap = le(m + 16, 8);
            return 0;
        }
        if (type == 0x10) { /* continuation: address, length */
            block = base + le(m + 8, 8);
            end = block + le(m + 16, 8);
            hops++;
            continue;
        }
        block += 8 + size;
    }
    return ENOENT;
}

/* Write n bytes at a file offset and make them durable. */
static int
write_durably(int fd, uint64_t at, const void *buf, size_t n)
{
    ssize_t w = pwrite(fd, buf, n, (off_t)at);
    if (w != (ssize_t)n) {
        return w < 0 ? errno : EIO;
    }
    return fsync(fd) == 0 ? 0 : errno;
}

int
ms__swap_link(const char *path, const struct ms_swap *sw,
              struct ms_error *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return ms__error_set(err, MS_EIO, "%s: cannot open for writing: %s",
                             path, strerror(errno));
    }
    uint64_t at = 0;
    struct ms_swap found = *sw;
    int e = symbol_table(fd, sw->base, sw->group_addr, &found.btree,
                         &found.heap);
    unsigned char head[8] = {0};
    if (e == 0) { /* a version 1 header, counted once */
        e = read_at(fd, sw->base + sw->new_addr, head, sizeof(head));
        e = e == 0 && (head[0] != 1 || le(head + 4, 4) != 1) ? EIO : e;
    }
    if (e == 0) {
        e = search_tree(fd, &found, found.btree, 0, &at);
    }
    unsigned char entry[ENTRY_BYTES];
    if (e == 0) {
        e = read_at(fd, at, entry, sizeof(entry));
    }
    if (e == 0) {
        uint64_t a = sw->new_addr;
        for (int i = 0; i < 8; i++) {
            entry[8 + i] = (unsigned char)(a >> (8 * i));
        }
        memset(entry + 16, 0, ENTRY_BYTES - 16); /* no cached addresses */
        e = write_durably(fd, at, entry, sizeof(entry));
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e != 0) {
        return ms__error_set(err, MS_EIO,
                             "%s: %s: write-back failed: %s%s", path,
                             "metadata/normalization_params",
                             e == ENOENT ? "its link was not found in "
                                           "metadata's symbol table"
                                         : strerror(e),
                             "; the previous parameters are unchanged");
    }
    return 0;
}
