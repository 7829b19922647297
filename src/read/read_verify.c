/*
 * read_verify.c: the cross-check of the fast read paths, for tests.
 *
 * The direct reads (pread at an address HDF5 reported) and the chunk
 * decoding bypass H5Dread, so a mistake in them (the wrong file's
 * descriptor, a wrong offset, a misdecoded chunk) reads other bytes
 * without any error.  With MESHSTATS_VERIFY_READS=1, in every build but a
 * release one, each such read is read again through H5Dread and the two
 * compared bit for bit; a difference fails the sample, naming it.  The
 * test suites run with it set.
 */
#include "read/read.h"

#include <stdlib.h>
#include <string.h>

bool
ms__verify_reads(void)
{
#ifdef MS_FAULT_INJECTION
    const char *env = getenv("MESHSTATS_VERIFY_READS");
    return env != NULL && strcmp(env, "1") == 0;
#else
    return false;
#endif
}

int
ms__verify_failed(struct ms_error *err, const char *path,
                  const struct ms_sample_name *s, const char *dataset,
                  size_t at)
{
    return ms__error_set(err, MS_EIO,
                         "%s: sample %lld: %s: the direct read of value %zu "
                         "differs from what H5Dread returns "
                         "(MESHSTATS_VERIFY_READS)",
                         path, (long long)s->id, dataset, at);
}
