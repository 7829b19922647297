/*
 * progress.c: a progress report as one line of text, the way pv and tqdm
 * show it:
 *
 *   42% [=========>            ] 42/100 samples  512.3 MB/s  0:03 ETA 0:04
 *
 * Pure formatting: the caller decides where and how often the line goes
 * (the CLI redraws it in place on a terminal, at most 10 times a second).
 */
#include "results/results.h"

#include <stdio.h>
#include <string.h>

static void
clock_text(double seconds, char *buf, size_t size)
{
    if (seconds < 0 || seconds > 359999) {
        snprintf(buf, size, "--:--");
        return;
    }
    unsigned s = (unsigned)(seconds + 0.5);
    if (s >= 3600) {
        snprintf(buf, size, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
    } else {
        snprintf(buf, size, "%u:%02u", s / 60, s % 60);
    }
}

size_t
ms_progress_format(const struct ms_progress *p, unsigned columns, char *buf,
                   size_t size)
{
    double fraction = p->bytes_total ? (double)p->bytes_done /
                                           (double)p->bytes_total
                                     : (p->finished ? 1.0 : 0.0);
    fraction = fraction > 1.0 ? 1.0 : fraction;
    if (p->finished && p->bytes_done == p->bytes_total) {
        fraction = 1.0;
    }
    double rate = p->elapsed > 0 ? (double)p->bytes_done / p->elapsed : 0;
    char elapsed[16], eta[24], tail[128];
    clock_text(p->elapsed, elapsed, sizeof(elapsed));
    if (p->finished) {
        snprintf(eta, sizeof(eta), "%s", fraction < 1.0 ? "stopped" : "done");
    } else {
        char t[16];
        clock_text(rate > 0 ? (double)(p->bytes_total - p->bytes_done) / rate
                            : -1,
                   t, sizeof(t));
        snprintf(eta, sizeof(eta), "ETA %s", t);
    }
    snprintf(tail, sizeof(tail), " %zu/%zu samples %7.1f MB/s %s %s",
             p->samples_done, p->samples_total, rate / 1e6, elapsed, eta);
    char head[8];
    snprintf(head, sizeof(head), "%3u%% ", (unsigned)(fraction * 100.0));
    /* The bar takes what is left of the width, between 10 and 50 cells. */
    size_t fixed = strlen(head) + 2 + strlen(tail);
    size_t cells = columns > fixed + 10 ? columns - fixed - 1 : 10;
    cells = cells > 50 ? 50 : cells;
    char bar[64];
    size_t full = (size_t)(fraction * (double)cells);
    for (size_t i = 0; i < cells; i++) {
        bar[i] = i < full ? '=' : (i == full ? '>' : ' ');
    }
    if (full >= cells) {
        bar[cells - 1] = '=';
    }
    bar[cells] = '\0';
    int n = snprintf(buf, size, "%s[%s]%s", head, bar, tail);
    size_t len = n < 0 ? 0 : (size_t)n;
    return len < size ? len : size - 1;
}
