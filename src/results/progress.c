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

/* The bar of cells cells at fraction, into out (cells + 1 bytes). */
static void
draw_bar(double fraction, size_t cells, char *out)
{
    size_t full = (size_t)(fraction * (double)cells);
    for (size_t i = 0; i < cells; i++) {
        out[i] = i < full ? '=' : (i == full ? '>' : ' ');
    }
    if (cells > 0 && full >= cells) {
        out[cells - 1] = '=';
    }
    out[cells] = '\0';
}

static size_t
format_progress(const struct ms_progress *p, unsigned columns, char *buf,
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
    /* The fields after the bar, in the order they go as the width
     * shrinks: the ETA (or done/stopped) first, then the elapsed time,
     * the rate, and the sample counts. */
    char field[4][48], clock[16];
    snprintf(field[0], sizeof(field[0]), " %zu/%zu samples", p->samples_done,
             p->samples_total);
    snprintf(field[1], sizeof(field[1]), " %7.1f MB/s", rate / 1e6);
    clock_text(p->elapsed, clock, sizeof(clock));
    snprintf(field[2], sizeof(field[2]), " %s", clock);
    if (p->finished) {
        snprintf(field[3], sizeof(field[3]), " %s",
                 fraction < 1.0 ? "stopped" : "done");
    } else {
        clock_text(rate > 0 ? (double)(p->bytes_total - p->bytes_done) / rate
                            : -1,
                   clock, sizeof(clock));
        snprintf(field[3], sizeof(field[3]), " ETA %s", clock);
    }
    char head[8];
    snprintf(head, sizeof(head), "%3u%% ", (unsigned)(fraction * 100.0));
    /* As many fields as leave a bar of 10 cells (at most 50); with none,
     * a shorter bar; at 10 columns or fewer, the percentage alone. */
    size_t kept = 4, tail = 0;
    for (size_t k = 0; k < 4; k++) {
        tail += strlen(field[k]);
    }
    while (kept > 0 && strlen(head) + 2 + 10 + tail > columns) {
        tail -= strlen(field[--kept]);
    }
    size_t fixed = strlen(head) + 2 + tail;
    size_t cells = columns > fixed ? columns - fixed : 0;
    cells = cells > 50 ? 50 : cells;
    char bar[64];
    draw_bar(fraction, cells, bar);
    int n;
    if (columns <= 10 || cells == 0) {
        n = snprintf(buf, size, "%.*s", (int)(columns < 4 ? columns : 4),
                     head[0] == ' ' ? head + 1 : head);
        n = n > 0 && buf[n - 1] == ' ' ? (buf[--n] = '\0', n) : n;
    } else {
        n = snprintf(buf, size, "%s[%s]%s%s%s%s", head, bar,
                     kept > 0 ? field[0] : "", kept > 1 ? field[1] : "",
                     kept > 2 ? field[2] : "", kept > 3 ? field[3] : "");
    }
    size_t len = n < 0 ? 0 : (size_t)n;
    return len < size ? len : size - 1;
}

size_t
ms_progress_format(const struct ms_progress *p, unsigned columns, char *buf,
                   size_t size)
{
    locale_t caller = ms__c_locale_enter();
    size_t rc = format_progress(p, columns, buf, size);
    ms__c_locale_leave(caller);
    return rc;
}
