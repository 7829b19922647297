/*
 * meshstats/generate.h: synthetic datasets (meshstats generate).
 * Part of meshstats.h, which includes it; include <meshstats.h>.
 */
#ifndef MESHSTATS_PUBLIC_GENERATE_H
#define MESHSTATS_PUBLIC_GENERATE_H

#ifndef MESHSTATS_H
#error "include <meshstats.h>, which includes this part"
#endif

/* ------------------------------------------------------------------ */
/* Synthetic datasets.                                                 */

struct ms_generate_options {
    enum ms_model_kind model; /* AUTO or NODAL: data/<id>/nodal_data; CLOTH,
                               * CFD, PLATE: DeepMind's trajectory layout */
    unsigned samples;
    unsigned timesteps;
    unsigned nodes;
    unsigned features; /* rows of nodal_data, >= 6; default 8 */
    uint64_t seed;
    bool chunked;
    bool gzip; /* implies chunked; gzip + shuffle */
};

void ms_generate_options_init(struct ms_generate_options *opts);

/*
 * Write a deterministic deforming-plate-like dataset in the layout of
 * docs/spec.md to path (written beside it and renamed over it when
 * complete: a link at path is replaced, not followed; on failure nothing
 * is left and an old file stays): a triangulated plate,
 * smooth displacements growing in time, a stress field and a part number.
 * Memory use is bounded by one timestep block, whatever the size.
 */
int ms_generate(const char *path, const struct ms_generate_options *opts,
                struct ms_error *err);

#endif /* MESHSTATS_PUBLIC_GENERATE_H */
