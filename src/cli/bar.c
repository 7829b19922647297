/*
 * bar.c: the progress bar of the meshstats command, on stderr.
 *
 * On a terminal the line is redrawn in place (carriage return, the line
 * padded to the width) each time the library reports, which it does at most
 * 10 times a second from the loop thread, and ended with a newline when the
 * pass finishes, however it finishes.  Off a terminal, `auto` draws nothing
 * and `always` writes a plain line about once a second: no carriage
 * returns.  The bar uses no colour, so NO_COLOR has nothing to turn off.
 */
#include "bar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void
bar_init(struct bar *bar, enum ms_progress_mode mode)
{
    memset(bar, 0, sizeof(*bar));
    bar->terminal = isatty(STDERR_FILENO) != 0;
    bar->enabled = mode == MS_PROGRESS_ALWAYS ||
                   (mode == MS_PROGRESS_AUTO && bar->terminal);
    bar->last_line = -1.0;
}

/* The widest terminal believed: wider than any screen's text. */
#define MAX_COLUMNS 1000

static unsigned
terminal_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    /* (COLUMNS is anyone's to set: a width past any screen's, e.g. 2e9,
     * would pad each redraw to gigabytes) */
    const char *env = getenv("COLUMNS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 20 && n <= MAX_COLUMNS ? (unsigned)n : 80;
}

/* Note a failed write: the CLI then exits 1 (stderr cannot say why). */
static void
check(struct bar *bar, int written)
{
    if (written < 0 || fflush(stderr) != 0 || ferror(stderr)) {
        bar->failed = true;
    }
}

void
bar_clear(struct bar *bar)
{
    if (bar->enabled && bar->terminal && bar->drawn) {
        check(bar, fprintf(stderr, "\r%*s\r", (int)terminal_columns() - 1,
                           ""));
        bar->drawn = false;
    }
}

void
bar_warn(struct bar *bar, const char *message)
{
    bar_clear(bar);
    check(bar, fprintf(stderr, "meshstats: warning: %s\n", message));
}

void
bar_update(void *userdata, const struct ms_progress *p)
{
    struct bar *bar = userdata;
    if (!bar->enabled) {
        return;
    }
    char line[512];
    if (bar->terminal) {
        unsigned cols = terminal_columns();
        size_t len = ms_progress_format(p, cols - 1, line, sizeof(line));
        int pad = (int)cols - 1 - (int)len;
        check(bar, fprintf(stderr, "\r%s%*s%s", line, pad > 0 ? pad : 0, "",
                           p->finished ? "\n" : ""));
        bar->drawn = !p->finished;
    } else if (p->finished || p->elapsed - bar->last_line >= 1.0) {
        ms_progress_format(p, 80, line, sizeof(line));
        check(bar, fprintf(stderr, "%s\n", line));
        bar->last_line = p->elapsed;
    }
}
