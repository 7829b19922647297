/*
 * c_locale.c: numbers written and read as C writes them ("0.5", never
 * "0,5"), whatever locale the program that embeds the library chose.
 *
 * JSON, CSV, the trace, the report, messages and config values are
 * formats, not prose: a program that called setlocale(LC_ALL, "") in a
 * decimal-comma locale (Python's locale.setlocale, a desktop program)
 * would otherwise get invalid JSON and a CSV whose columns shift.  Each
 * public function that formats or parses numbers puts its calling thread
 * in the C locale for the call (uselocale: the thread alone, the process's
 * locale untouched), and the library's own threads run in it.
 */
#include "internal.h"

#include <pthread.h>

static pthread_once_t made = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void
make_c_locale(void)
{
    /* (glibc hands back its built-in C locale: nothing to free) */
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t
ms__c_locale_enter(void)
{
    pthread_once(&made, make_c_locale);
    return c_locale != (locale_t)0 ? uselocale(c_locale) : (locale_t)0;
}

void
ms__c_locale_leave(locale_t caller)
{
    if (caller != (locale_t)0) {
        uselocale(caller);
    }
}
