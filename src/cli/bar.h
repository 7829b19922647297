/*
 * bar.h: the progress bar on stderr (see bar.c).
 */
#ifndef MESHSTATS_CLI_BAR_H
#define MESHSTATS_CLI_BAR_H

#include "meshstats.h"

struct bar {
    bool enabled;  /* draw anything at all */
    bool terminal; /* redraw in place; else one plain line a second */
    bool drawn;    /* a bar line is on screen and not yet ended */
    double last_line; /* elapsed seconds of the last plain line */
    bool failed;   /* a write to stderr failed (a full disk, a closed pipe) */
};

/* Decide from the mode and stderr whether and how to draw. */
void bar_init(struct bar *bar, enum ms_progress_mode mode);
/* An ms_progress_fn: userdata is the struct bar. */
void bar_update(void *userdata, const struct ms_progress *p);
/* Wipe the bar line before other output goes to stderr. */
void bar_clear(struct bar *bar);
/* Print "meshstats: warning: message" on stderr below the bar. */
void bar_warn(struct bar *bar, const char *message);

#endif
