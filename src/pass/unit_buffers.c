/*
 * unit_buffers.c: what a ring slot owns to run its tasks (pass.h, struct
 * ms_unit_buffers): the rows a unit reads, the scratch its features need,
 * its partials, its chunk decoding room and, with quantiles, a sketch a
 * feature of each group, emptied before each task counts into it.  Sized
 * once for the plan's largest unit (budget.c counts it).
 */
#include "pass/pass.h"

#include <string.h>

void
ms__unit_sketches_clear(struct ms_unit_buffers *b)
{
    for (int g = 0; b->nfeat != NULL && g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < b->nfeat[g]; k++) {
            ms__sketch_clear(&b->scratch.sketch[g][k]);
        }
    }
}

int
ms__unit_buffers_init(struct ms_unit_buffers *b, const struct ms_plan *p,
                      const struct ms_options *opts)
{
    memset(b, 0, sizeof(*b));
    size_t nnode = p->max_node_records, ndelta = p->max_delta_records;
    const size_t *nf = p->nfeat;
    b->slots = ms__calloc(p->max_slots, sizeof(*b->slots));
    b->slot_full = ms__calloc(p->max_slots, 1);
    b->data = ms__malloc(p->max_data_bytes);
    b->scratch.pos = ms__calloc(p->max_pos_nodes,
                                3 * sizeof(double) * opts->edge_var / 4);
    b->node = ms__calloc(nnode * nf[MS_GROUP_NODE], sizeof(*b->node));
    b->edge = ms__calloc(nnode * nf[MS_GROUP_EDGE], sizeof(*b->edge));
    b->delta = ms__calloc(ndelta * nf[MS_GROUP_DELTA], sizeof(*b->delta));
    if (p->max_chunk_bytes > 0) {
        b->read.chunk_cap = p->max_chunk_bytes;
        b->read.chunk = ms__malloc(p->max_chunk_bytes);
        b->read.tmp = ms__malloc(p->max_chunk_bytes);
        b->read.raw_cap = p->max_chunk_bytes;
        b->read.raw = ms__malloc(p->max_chunk_bytes);
    }
    b->read.throttle = opts->read_throttle;
    bool ok = b->slots && b->slot_full && b->data && b->scratch.pos &&
              b->node && b->edge && b->delta &&
              (p->max_chunk_bytes == 0 ||
               (b->read.chunk && b->read.tmp && b->read.raw));
    if (ok && (opts->skip_nonfinite || p->model->trajectory ||
               opts->quantiles)) {
        b->scratch.values = ms__calloc(p->max_rows, sizeof(double));
        b->scratch.mask = ms__calloc(p->max_rows, 1);
        ok = b->scratch.values && b->scratch.mask;
    }
    if (ok && opts->quantiles && p->max_rows <= MS_COLUMN_EDGES) {
        b->scratch.cols_edges = p->max_rows;
        b->scratch.edge_cols = ms__calloc(
            p->max_rows * p->nfeat[MS_GROUP_EDGE], sizeof(double));
        ok = b->scratch.edge_cols != NULL;
    }
    if (ok && opts->quantiles) {
        ok = ms__sketches_new(b->scratch.sketch, p->nfeat,
                              ms__sketch_bits(opts->quantile_accuracy)) == 0;
        b->nfeat = p->nfeat;
    }
    if (!ok) {
        ms__unit_buffers_finish(b);
        return MS_ENOMEM;
    }
    return 0;
}

void
ms__unit_buffers_finish(struct ms_unit_buffers *b)
{
    if (b == NULL) {
        return;
    }
    ms__free(b->slots);
    ms__free(b->slot_full);
    ms__free(b->data);
    ms__free(b->scratch.pos);
    ms__free(b->scratch.values);
    ms__free(b->scratch.mask);
    ms__free(b->scratch.edge_cols);
    if (b->nfeat != NULL) {
        ms__sketches_free(b->scratch.sketch, b->nfeat);
    }
    ms__free(b->node);
    ms__free(b->edge);
    ms__free(b->delta);
    ms__free(b->read.raw);
    ms__free(b->read.chunk);
    ms__free(b->read.tmp);
    ms__free(b->read.frames);
    memset(b, 0, sizeof(*b));
}
