/*
 * test_file_driver.c: the HDF5 file driver (src/read/file_driver.c) reads
 * the file's bytes, as they are on disk, whatever the read's type, size
 * and place; zeros past the end of the file and past the largest offset
 * pread takes; a failing read is HDF5's error; the cache makes fewer
 * preads than HDF5 asks for; a file another program holds locked is
 * refused with the advice; HDF5 closed and reopened, the driver is
 * registered again and no other driver is taken for it.
 */
#include "helpers.h"
#include "read/hdf5_file.h"

#include <H5FDcore.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define FILE_BYTES 100003u /* (not a multiple of the blocks) */

static unsigned char expected[FILE_BYTES];
static char *path;

static uint64_t
next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* path: FILE_BYTES random bytes, also kept in expected. */
static void
setup(void)
{
    helper_dir_setup();
    path = helper_path(helper_dir, "bytes.bin");
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < FILE_BYTES; i++) {
        expected[i] = (unsigned char)next_random(&s);
    }
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(expected, 1, FILE_BYTES, f), FILE_BYTES);
    cr_assert_eq(fclose(f), 0);
}

static void
teardown(void)
{
    free(path);
    helper_dir_teardown();
}

/* path opened through the driver, its end of address space past the end
 * of the file (reads there are the driver's to answer). */
static H5FD_t *
open_driver(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    ms__driver_use(fapl);
    cr_assert(ms__driver_posix(H5Pget_driver(fapl)), "the driver is set");
    cr_assert_neq(H5Pget_driver(fapl), H5FD_SEC2);
    H5FD_t *fd = H5FDopen(path, H5F_ACC_RDONLY, fapl, (haddr_t)1 << 40);
    H5Pclose(fapl);
    cr_assert_not_null(fd);
    cr_assert_eq(H5FDget_eof(fd, H5FD_MEM_DEFAULT), FILE_BYTES);
    cr_assert_geq(H5FDset_eoa(fd, H5FD_MEM_DEFAULT, FILE_BYTES + 65536), 0);
    return fd;
}

/* Whether buf holds the file's size bytes at addr (zeros past its end). */
static bool
matches(const unsigned char *buf, haddr_t addr, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char want = addr + i < FILE_BYTES ? expected[addr + i] : 0;
        if (buf[i] != want) {
            return false;
        }
    }
    return true;
}

Test(file_driver, reads_are_the_files_bytes, .init = setup, .fini = teardown)
{
    H5FD_t *fd = open_driver();
    static const H5FD_mem_t types[] = {H5FD_MEM_OHDR, H5FD_MEM_BTREE,
                                       H5FD_MEM_LHEAP, H5FD_MEM_SUPER,
                                       H5FD_MEM_DRAW};
    static unsigned char buf[20000];
    uint64_t s = 7;
    for (int i = 0; i < 20000; i++) {
        /* Mostly metadata-sized reads, some spanning two blocks, some
         * past the end, now and then a large one or a raw data read. */
        size_t size = i % 50 == 0 ? (size_t)(next_random(&s) % 20000)
                                  : (size_t)(next_random(&s) % 2100);
        haddr_t addr = next_random(&s) % (FILE_BYTES + 9000);
        H5FD_mem_t type = types[next_random(&s) % 5];
        memset(buf, 0xa5, size);
        cr_assert_geq(H5FDread(fd, type, H5P_DEFAULT, addr, size, buf), 0,
                      "read %d: %zu bytes at %llu", i, size,
                      (unsigned long long)addr);
        cr_assert(matches(buf, addr, size), "read %d: %zu bytes at %llu, "
                  "type %d: not the file's bytes", i, size,
                  (unsigned long long)addr, (int)type);
    }
    cr_assert_geq(H5FDclose(fd), 0);
}

Test(file_driver, past_the_end_reads_zeros, .init = setup, .fini = teardown)
{
    H5FD_t *fd = open_driver();
    unsigned char buf[600];
    memset(buf, 0xa5, sizeof(buf));
    haddr_t addr = FILE_BYTES - 100;
    cr_assert_geq(H5FDread(fd, H5FD_MEM_OHDR, H5P_DEFAULT, addr, 600, buf), 0);
    cr_assert_eq(memcmp(buf, expected + addr, 100), 0);
    for (int i = 100; i < 600; i++) {
        cr_assert_eq(buf[i], 0, "byte %d past the end", i - 100);
    }
    cr_assert_geq(H5FDclose(fd), 0);
}

/* The first message on HDF5's error stack that contains needle. */
static herr_t
find_message(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    const char **needle = data;
    if (*needle != NULL && e->desc != NULL && strstr(e->desc, *needle)) {
        *needle = NULL;
    }
    return 0;
}

Test(file_driver, a_failing_read_is_an_error, .init = setup,
     .fini = teardown)
{
    H5FD_t *fd = open_driver();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    void *handle = NULL;
    cr_assert_geq(H5FDget_vfd_handle(fd, fapl, &handle), 0);
    H5Pclose(fapl);
    /* The driver's descriptor now reads a folder: every pread fails with
     * EISDIR, as a failing disk would with EIO. */
    int dir = open(helper_dir, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(dir, 0);
    cr_assert_geq(dup2(dir, *(int *)handle), 0);
    close(dir);
    unsigned char buf[400];
    H5E_auto2_t fn;
    void *fn_data;
    H5Eget_auto2(H5E_DEFAULT, &fn, &fn_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (int type = 0; type < 2; type++) {
        H5Eclear2(H5E_DEFAULT);
        herr_t rc = H5FDread(fd, type ? H5FD_MEM_DRAW : H5FD_MEM_OHDR,
                             H5P_DEFAULT, 8192, sizeof(buf), buf);
        cr_assert_lt(rc, 0, "type %d: the read failed", type);
        const char *needle = strerror(EISDIR);
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_message, &needle);
        cr_assert_null(needle, "HDF5's error says why");
    }
    H5Eset_auto2(H5E_DEFAULT, fn, fn_data);
    H5FDclose(fd);
}

Test(file_driver, the_cache_saves_preads, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *h5 = helper_generate(helper_dir, "many.h5", 300, 2, 30);
    struct ms_error err;
    struct ms_file *f;
    unsigned long asked0, preads0, asked1, preads1;
    ms__driver_counts(&asked0, &preads0);
    cr_assert_eq(ms__file_open(h5, &f, &err), 0, "%s", err.message);
    cr_assert_eq(ms__file_detect_layout(f, &err), 0, "%s", err.message);
    struct ms_sample_name *names;
    size_t n;
    cr_assert_eq(ms__file_list_samples(f, NULL, NULL, &names, &n, &err), 0);
    cr_assert_eq(n, 300);
    for (size_t i = 0; i < n; i++) {
        struct ms_sample_shape shape;
        cr_assert_eq(ms__sample_shape(f, &names[i], 4, 4, &shape, &err), 0,
                     "%s", err.message);
        cr_assert_eq(shape.N, 30);
    }
    ms__sample_names_free(names, n);
    ms__file_close(f);
    ms__driver_counts(&asked1, &preads1);
    unsigned long asked = asked1 - asked0, preads = preads1 - preads0;
    cr_assert_geq(asked, 5 * n, "HDF5 asked %lu reads", asked);
    cr_assert_lt(2 * preads, asked, "%lu preads for %lu reads", preads,
                 asked);
    free(h5);
}

Test(file_driver, a_file_locked_by_another_program_is_refused,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *h5 = helper_generate(helper_dir, "locked.h5", 1, 2, 30);
    /* A writer's lock, as HDF5 takes it for a file open for writing (an
     * open file description of its own, as another process's is). */
    int fd = open(h5, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
    struct ms_error err;
    struct ms_file *f = NULL;
    int rc = ms__file_open(h5, &f, &err);
    cr_assert_eq(rc, MS_EIO, "rc %d", rc);
    cr_assert_null(f);
    cr_assert(strstr(err.message, h5) != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "lock") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "Another program has it open for "
                                  "writing") != NULL, "%s", err.message);
    /* Unlocked, it opens. */
    cr_assert_eq(flock(fd, LOCK_UN), 0);
    cr_assert_eq(ms__file_open(h5, &f, &err), 0, "%s", err.message);
    ms__file_close(f);
    close(fd);
    free(h5);
}

Test(file_driver, the_last_addresses_read_as_zeros, .init = setup,
     .fini = teardown)
{
    /* A damaged superblock can put the end of the address space at the
     * largest offset pread takes: a small read just below it reads zeros,
     * as sec2 reads them, though its block would run past that offset. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    ms__driver_use(fapl);
    haddr_t max = (haddr_t)INT64_MAX;
    H5FD_t *fd = H5FDopen(path, H5F_ACC_RDONLY, fapl, max);
    H5Pclose(fapl);
    cr_assert_not_null(fd);
    cr_assert_geq(H5FDset_eoa(fd, H5FD_MEM_DEFAULT, max), 0);
    unsigned char buf[100];
    memset(buf, 0xa5, sizeof(buf));
    cr_assert_geq(H5FDread(fd, H5FD_MEM_OHDR, H5P_DEFAULT, max - 100, 100,
                           buf), 0);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(buf[i], 0, "byte %d", i);
    }
    cr_assert_geq(H5FDclose(fd), 0);
}

Test(file_driver, after_hdf5_closes_no_other_driver_is_taken_for_it,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *h5 = helper_generate(helper_dir, "reopened.h5", 2, 2, 30);
    struct ms_error err;
    struct ms_file *f;
    cr_assert_eq(ms__file_open(h5, &f, &err), 0, "%s", err.message);
    ms__file_close(f);
    /* HDF5 closed and reopened hands out ids again: another driver
     * registered first gets the number meshstats' had. */
    H5close();
    H5open();
    hid_t other = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(other, 4096, 0);
    hid_t core = H5Pget_driver(other);
    cr_assert(!ms__driver_posix(core), "the core driver is no POSIX one");
    cr_assert_eq(ms__file_open(h5, &f, &err), 0, "%s", err.message);
    hid_t fapl = H5Fget_access_plist(f->id);
    hid_t driver = H5Pget_driver(fapl);
    cr_assert_neq(driver, core);
    cr_assert_neq(driver, H5FD_SEC2, "meshstats' driver, registered again");
    cr_assert(ms__driver_posix(driver));
    H5Pclose(fapl);
    ms__file_close(f);
    H5Pclose(other);
    free(h5);
}
