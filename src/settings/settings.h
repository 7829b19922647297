/*
 * settings/settings.h: the options of a pass, checked and resolved.  The
 * settings table, the config file and the sample selection are reached
 * through the public header.
 */
#ifndef MESHSTATS_SETTINGS_H
#define MESHSTATS_SETTINGS_H

#include "read/read.h"

/* ------------------------------------------------------------------ */
/* options.c */

/* The worker count opts resolve to: opts->workers, or (0) the CPUs this
 * process may run on. */
unsigned ms__resolve_workers(const struct ms_options *opts);
/* MS_EINVAL, with a message, for options out of their ranges. */
int ms__options_check(const struct ms_options *opts, struct ms_error *err);
/* The features of each group: input_var, edge_var, output_var. */
void ms__options_groups(const struct ms_options *opts,
                        size_t nfeat[MS_GROUP_COUNT]);
#endif /* MESHSTATS_SETTINGS_H */
