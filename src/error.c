/*
 * error.c: error codes, their messages, and the helpers that fill a
 * struct ms_error or check size arithmetic.
 *
 * The codes come from the one X-macro list in meshstats.h.  Nothing here
 * prints: messages are handed back to the caller.
 */
#include "internal.h"

#include <signal.h>
#include <stdio.h>

const char *
ms_strerror(int code)
{
    switch (code) {
    case MS_OK:
        return "success";
#define MS_ERRNO_MSG(name, value, msg)                                       \
    case MS_##name:                                                          \
        return msg;
        MS_ERRNO_MAP(MS_ERRNO_MSG)
#undef MS_ERRNO_MSG
    default:
        return "unknown error";
    }
}

const char *
ms_err_name(int code)
{
    switch (code) {
    case MS_OK:
        return "MS_OK";
#define MS_ERRNO_NAME(name, value, msg)                                      \
    case MS_##name:                                                          \
        return "MS_" #name;
        MS_ERRNO_MAP(MS_ERRNO_NAME)
#undef MS_ERRNO_NAME
    default:
        return "MS_UNKNOWN";
    }
}

/* A C0 control byte, DEL, or the first byte of a UTF-8 C1 control
 * (U+0080..U+009F: c2 80..c2 9f), which a terminal may obey. */
static size_t
control_bytes(const unsigned char *p)
{
    if (*p < 0x20 || *p == 0x7f) {
        return 1;
    }
    return p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f ? 2 : 0;
}

static void
vformat(char *out, size_t size, const char *fmt, va_list ap)
{
    if (size == 0) {
        return;
    }
    char raw[sizeof(((struct ms_error *)0)->message)];
    vsnprintf(raw, sizeof(raw), fmt, ap);
    size_t at = 0;
    for (const unsigned char *p = (const unsigned char *)raw;
         *p != '\0' && at + 1 < size;) {
        size_t n = control_bytes(p);
        if (n == 0) {
            out[at++] = (char)*p++;
            continue;
        }
        for (size_t k = 0; k < n && at + 5 <= size; k++) {
            at += (size_t)snprintf(out + at, size - at, "\\x%02x", *p++);
        }
        if (at + 5 > size) {
            break; /* (no half escapes) */
        }
    }
    out[at] = '\0';
}

void
ms__format_message(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(out, size, fmt, ap);
    va_end(ap);
}

int
ms__error_set(struct ms_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->signal = 0;
        vformat(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return code;
}

int
ms__error_canceled(struct ms_error *err, int signum)
{
    if (signum == 0) {
        return ms__error_set(err, MS_ECANCELED, "canceled by the caller; "
                                                "nothing was written");
    }
    ms__error_set(err, MS_ECANCELED, "interrupted by %s; nothing was written",
                  signum == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM");
    if (err != NULL) {
        err->signal = signum;
    }
    return MS_ECANCELED;
}

int
ms__size_mul(size_t a, size_t b, size_t *out)
{
    if (__builtin_mul_overflow(a, b, out)) {
        return MS_EOVERFLOW;
    }
    return 0;
}

int
ms__size_add(size_t a, size_t b, size_t *out)
{
    if (__builtin_add_overflow(a, b, out)) {
        return MS_EOVERFLOW;
    }
    return 0;
}
