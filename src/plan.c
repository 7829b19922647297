/*
 * plan.c: the dataset cut into work units.
 *
 * The plan lists the samples in ascending id order, checks each one's
 * layout (metadata only, no data is read), chooses its node and delta
 * timesteps, and cuts it into units: runs of owned timesteps whose slots
 * (the timesteps a unit reads: its own, and the successor of each delta
 * timestep) fit the unit's share of the memory limit.  A unit never needs
 * another unit's data; a timestep that is both the last one a unit reads
 * for a delta and the first one the next unit owns is read twice.
 *
 * Where the cuts fall changes nothing in the result: partials are kept per
 * timestep and folded in timestep order (see stats.c).
 */
#include "internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A unit's buffer aims at this size even when the memory limit allows more:
 * blocks stay cache-friendly, memory stays flat, and no unit reads a whole
 * long sample.  A timestep larger than this still gets a unit of its own,
 * up to the memory limit. */
#define UNIT_TARGET_BYTES (4u << 20)

/* Bytes per slot beyond the rows themselves: the slot index and the
 * per-timestep partials of every feature. */
static size_t
slot_overhead(const struct ms_options *opts)
{
    return sizeof(size_t) + (opts->input_var + opts->output_var +
                             MS_EDGE_FEATURES) * sizeof(struct ms_moments);
}

int
ms__plan_unit_bytes(size_t nrows, size_t nslots, size_t N, size_t *out)
{
    size_t cells;
    if (ms__size_mul(nrows, nslots, &cells) != 0 ||
        ms__size_mul(cells, N, &cells) != 0 ||
        ms__size_mul(cells, sizeof(double), out) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

int
ms__plan_edge_bytes(size_t E, size_t *out)
{
    return ms__size_mul(E, 2 * sizeof(uint32_t), out);
}

/* The bytes of one chunk the workers decode (0 if they do not). */
static size_t
chunk_bytes(const struct ms_sample_shape *sh)
{
    return sh->chunk[0] * sh->chunk[1] * sh->chunk[2] * sizeof(float);
}

/* What a sample costs whatever its unit length: its edges, the scratch of
 * one feature computation and, for chunked data, the stored and decoded
 * bytes of one chunk. */
static int
sample_fixed_bytes(const struct ms_sample_shape *sh,
                   const struct ms_options *opts, size_t *out)
{
    size_t edges, pos, skip = 0, sum;
    size_t rows = sh->N > sh->E ? sh->N : sh->E;
    if (ms__plan_edge_bytes(sh->E, &edges) != 0 ||
        ms__size_mul(3 * sizeof(double), sh->N, &pos) != 0 ||
        (opts->skip_nonfinite &&
         ms__size_mul(sizeof(double) + 1, rows, &skip) != 0) ||
        ms__size_add(edges, pos, &sum) != 0 ||
        ms__size_add(sum, 3 * chunk_bytes(sh), &sum) != 0 ||
        ms__size_add(sum, skip, out) != 0) {
        return MS_EOVERFLOW;
    }
    return 0;
}

/* Chunks the workers would decode must be small next to the memory limit
 * (their three buffers are held per unit in flight); larger ones go through
 * H5Dread, which reads them piecewise through its own cache. */
static void
limit_chunk_decoding(struct ms_sample_shape *sh, uint64_t memory_limit)
{
    for (int i = 0; i < 3; i++) {
        if (sh->chunk[i] > (size_t)1 << 20) {
            sh->chunk[0] = 0;
            return;
        }
    }
    if (sh->chunk[0] != 0 && 3 * (uint64_t)chunk_bytes(sh) > memory_limit / 16) {
        sh->chunk[0] = 0;
    }
}

/* What one slot and the smallest unit of this sample cost, in bytes. */
static int
unit_costs(const struct ms_plan *plan, const struct ms_plan_sample *ps,
           const struct ms_options *opts, size_t *fixed, size_t *per_slot,
           size_t *min_need, struct ms_error *err, const char *path)
{
    const struct ms_sample_shape *sh = &ps->shape;
    size_t row_bytes, min_slots = sh->T > 1 ? 2 : 1;
    if (sample_fixed_bytes(sh, opts, fixed) != 0 ||
        ms__plan_unit_bytes(plan->nrows, 1, sh->N, &row_bytes) != 0 ||
        ms__size_add(row_bytes, slot_overhead(opts), per_slot) != 0 ||
        ms__size_mul(*per_slot, min_slots, min_need) != 0 ||
        ms__size_add(*min_need, *fixed, min_need) != 0) {
        return ms__error_set(err, MS_EOVERFLOW,
                             "%s: sample %lld: data/%s/nodal_data: the byte "
                             "size of one timestep (%zu rows x %zu nodes) "
                             "overflows",
                             path, (long long)ps->name.id, ps->name.name,
                             plan->nrows, sh->N);
    }
    return 0;
}

/* The most slots a unit of this sample may read within share bytes. */
static size_t
max_slots_for(const struct ms_plan *plan, const struct ms_plan_sample *ps,
              const struct ms_options *opts, uint64_t share)
{
    size_t fixed, per_slot, min_need;
    unit_costs(plan, ps, opts, &fixed, &per_slot, &min_need, NULL, "");
    size_t min_slots = ps->shape.T > 1 ? 2 : 1;
    size_t slots = (size_t)((share - fixed) / per_slot);
    size_t target = UNIT_TARGET_BYTES / per_slot;
    size_t ct = ps->shape.chunk_t;
    if (ct > 1 && opts->max_timesteps == 0) {
        /* Chunked in time: units of whole chunks (plus the successor of
         * the last delta), at least four, so that a chunk is decoded once
         * and only the successor's chunk is touched twice. */
        target = target > 4 * ct + 1 ? target : 4 * ct + 1;
        size_t want = target < slots ? target : slots;
        if (want > ct) {
            want = (want - 1) / ct * ct + 1;
        }
        return want < min_slots ? min_slots : want;
    }
    size_t want = target < slots ? target : slots;
    return want < min_slots ? min_slots : want;
}

static int
too_big(const struct ms_plan_sample *ps, const char *path, size_t need,
        const struct ms_plan *plan, const struct ms_options *opts,
        unsigned prefetch, struct ms_error *err)
{
    const struct ms_sample_shape *sh = &ps->shape;
    return ms__error_set(
        err, MS_ETOOBIG,
        "%s: sample %lld: data/%s/nodal_data: one work unit needs %zu bytes "
        "(%zu timesteps x %zu rows x %zu nodes, plus %zu edges), more than "
        "the memory limit of %llu bytes allows for %u unit%s in flight; "
        "raise --memory-limit (config key stats_memory_limit) to at least "
        "%lluK%s",
        path, (long long)ps->name.id, ps->name.name, need,
        sh->T > 1 ? (size_t)2 : (size_t)1, plan->nrows, sh->N, sh->E,
        (unsigned long long)opts->memory_limit, prefetch,
        prefetch == 1 ? "" : "s",
        (unsigned long long)need * prefetch / 1024 + 1,
        prefetch > 1 ? " or lower --prefetch" : "");
}

/* How many units may be in flight: --prefetch if given (and it must fit),
 * else twice the workers, lowered until each unit's share of the memory
 * limit holds the largest smallest-unit of any sample. */
static int
resolve_prefetch(struct ms_plan *plan, const struct ms_options *opts,
                 const char *path, struct ms_error *err)
{
    size_t need = 0;
    const struct ms_plan_sample *worst = NULL;
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        size_t fixed, per_slot, min_need;
        if (ps->bad) {
            continue;
        }
        int rc = unit_costs(plan, ps, opts, &fixed, &per_slot, &min_need,
                            err, path);
        if (rc != 0) {
            return rc;
        }
        if (min_need > need) {
            need = min_need;
            worst = ps;
        }
    }
    unsigned workers = ms__resolve_workers(opts);
    unsigned prefetch = opts->prefetch ? opts->prefetch : 2 * workers;
    if (worst != NULL && opts->prefetch == 0) {
        uint64_t fits = opts->memory_limit / need;
        prefetch = fits < prefetch ? (unsigned)(fits ? fits : 1) : prefetch;
    }
    if (worst != NULL && need > opts->memory_limit / prefetch) {
        return too_big(worst, path, need, plan, opts, prefetch, err);
    }
    plan->prefetch = prefetch;
    plan->share = opts->memory_limit / prefetch;
    return 0;
}

/* Walks a sample's owned timesteps in order, counting the slots each one
 * adds to the current unit. */
struct slot_walk {
    const struct ms_plan_sample *ps;
    size_t ni, di;     /* next node / delta index */
    size_t nj, dj;     /* end of the current timestep's entries */
    size_t t;          /* the current owned timestep */
    bool has_last;
    size_t last;       /* the highest slot of the current unit */
};

/* Advance to the next owned timestep; false when there is none. */
static bool
walk_next(struct slot_walk *w)
{
    const struct ms_plan_sample *ps = w->ps;
    w->ni = w->nj;
    w->di = w->dj;
    bool more_n = w->ni < ps->node_ts.count;
    bool more_d = w->di < ps->delta_ts.count;
    if (!more_n && !more_d) {
        return false;
    }
    size_t tn = more_n ? ms__timesteps_at(&ps->node_ts, w->ni) : SIZE_MAX;
    size_t td = more_d ? ms__timesteps_at(&ps->delta_ts, w->di) : SIZE_MAX;
    w->t = tn < td ? tn : td;
    while (w->nj < ps->node_ts.count &&
           ms__timesteps_at(&ps->node_ts, w->nj) == w->t) {
        w->nj++;
    }
    while (w->dj < ps->delta_ts.count &&
           ms__timesteps_at(&ps->delta_ts, w->dj) == w->t) {
        w->dj++;
    }
    return true;
}

/* The slots the current timestep adds (0, 1 or 2), written to slots if it
 * is not NULL; updates the unit's highest slot. */
static size_t
walk_take(struct slot_walk *w, size_t *slots)
{
    size_t added = 0;
    if (!w->has_last || w->t > w->last) {
        if (slots != NULL) {
            slots[added] = w->t;
        }
        added++;
        w->last = w->t;
        w->has_last = true;
    }
    bool delta = w->dj > w->di;
    if (delta && w->ps->shape.T > 1 && w->t + 1 > w->last) {
        if (slots != NULL) {
            slots[added] = w->t + 1;
        }
        added++;
        w->last = w->t + 1;
    }
    return added;
}

static size_t
walk_cost(const struct slot_walk *w)
{
    struct slot_walk probe = *w;
    return walk_take(&probe, NULL);
}

static int
push_unit(struct ms_plan *plan, size_t *cap, const struct ms_unit *u)
{
    if (plan->nunits == *cap) {
        size_t grown = *cap ? 2 * *cap : 256;
        void *p = ms__reallocarray(plan->units, grown, sizeof(*plan->units));
        if (p == NULL) {
            return MS_ENOMEM;
        }
        plan->units = p;
        *cap = grown;
    }
    plan->units[plan->nunits++] = *u;
    /* Within the memory limit, so the product cannot overflow. */
    size_t values = plan->nrows * u->nslots * plan->samples[u->sample].shape.N;
    size_t nnode = u->node_end - u->node_begin;
    size_t ndelta = u->delta_end - u->delta_begin;
    plan->max_slots = u->nslots > plan->max_slots ? u->nslots : plan->max_slots;
    plan->max_values = values > plan->max_values ? values : plan->max_values;
    plan->max_node_ts = nnode > plan->max_node_ts ? nnode : plan->max_node_ts;
    plan->max_delta_ts =
        ndelta > plan->max_delta_ts ? ndelta : plan->max_delta_ts;
    return 0;
}

/* Cut sample s into units of at most max_slots slots. */
static int
cut_sample(struct ms_plan *plan, size_t s, size_t max_slots, size_t *cap)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    struct slot_walk w = {.ps = ps};
    struct ms_unit u = {.sample = s};
    ps->first_unit = plan->nunits;
    while (walk_next(&w)) {
        if (u.nslots > 0 && u.nslots + walk_cost(&w) > max_slots) {
            u.node_end = w.ni;
            u.delta_end = w.di;
            if (push_unit(plan, cap, &u) != 0) {
                return MS_ENOMEM;
            }
            u = (struct ms_unit){
                .sample = s, .node_begin = w.ni, .delta_begin = w.di};
            w.has_last = false;
        }
        u.nslots += walk_take(&w, NULL);
    }
    if (u.nslots > 0) {
        u.node_end = w.nj;
        u.delta_end = w.dj;
        if (push_unit(plan, cap, &u) != 0) {
            return MS_ENOMEM;
        }
    }
    ps->nunits = plan->nunits - ps->first_unit;
    return 0;
}

size_t
ms__unit_stored_bytes(const struct ms_plan *plan, const struct ms_unit *u)
{
    /* Within the memory limit, so the product cannot overflow. */
    const struct ms_sample_shape *sh = &plan->samples[u->sample].shape;
    return plan->nrows * u->nslots * sh->N * sh->elem_size;
}

void
ms__unit_slots(const struct ms_plan *plan, const struct ms_unit *u,
               size_t *slots, unsigned char *full)
{
    const struct ms_plan_sample *ps = &plan->samples[u->sample];
    struct slot_walk w = {
        .ps = ps, .nj = u->node_begin, .dj = u->delta_begin};
    size_t n = 0;
    /* The same slots walk_take counts, plus whether each is a node
     * timestep (every row) or only a delta's (the displacement rows). */
    while ((w.nj < u->node_end || w.dj < u->delta_end) && walk_next(&w)) {
        bool node = w.nj > w.ni, delta = w.dj > w.di;
        if (n == 0 || w.t > slots[n - 1]) {
            slots[n] = w.t;
            full[n++] = node;
        } else if (node) {
            full[n - 1] = 1; /* a successor that is also a node timestep */
        }
        if (delta && ps->shape.T > 1 && w.t + 1 > slots[n - 1]) {
            slots[n] = w.t + 1;
            full[n++] = 0;
        }
    }
    assert(n == u->nslots);
}

/* Mark sample s bad (or fail under strict); err holds the reason. */
static int
reject_sample(struct ms_plan *plan, size_t s, const struct ms_options *opts,
              struct ms_error *err)
{
    struct ms_plan_sample *ps = &plan->samples[s];
    if (opts->strict) {
        err->code = MS_EBADSAMPLE;
        return MS_EBADSAMPLE;
    }
    ps->bad = true;
    ps->reason = ms__strdup(err->message);
    if (ps->reason == NULL) {
        return MS_ENOMEM;
    }
    if (opts->on_warning != NULL) {
        opts->on_warning(opts->userdata, ps->name.id, err->message);
    }
    return 0;
}

/* Check every sample's layout and choose its timesteps. */
static int
check_samples(struct ms_plan *plan, struct ms_file *f,
              const struct ms_options *opts, struct ms_error *err)
{
    for (size_t s = 0; s < plan->nsamples; s++) {
        struct ms_plan_sample *ps = &plan->samples[s];
        struct ms_error why;
        int rc = ms__sample_shape(f, &ps->name, opts->input_var,
                                  opts->output_var, &ps->shape, &why);
        if (rc == MS_ENOMEM) {
            return ms__error_set(err, rc, "%s", why.message);
        }
        if (rc != 0) {
            rc = reject_sample(plan, s, opts, &why);
            if (rc != 0) {
                return ms__error_set(err, rc, "%s", why.message);
            }
            continue;
        }
        ms__node_timesteps(ps->shape.T, opts->max_timesteps, &ps->node_ts);
        ms__delta_timesteps(ps->shape.T, opts->max_timesteps, &ps->delta_ts);
        limit_chunk_decoding(&ps->shape, opts->memory_limit);
        size_t cb = chunk_bytes(&ps->shape);
        plan->max_chunk_bytes =
            cb > plan->max_chunk_bytes ? cb : plan->max_chunk_bytes;
        plan->max_N = ps->shape.N > plan->max_N ? ps->shape.N : plan->max_N;
        plan->max_E = ps->shape.E > plan->max_E ? ps->shape.E : plan->max_E;
    }
    return 0;
}

static int
plan_samples(struct ms_plan *plan, struct ms_file *f,
             const struct ms_options *opts, struct ms_error *err)
{
    int rc = check_samples(plan, f, opts, err);
    if (rc == 0) {
        rc = resolve_prefetch(plan, opts, ms__file_path(f), err);
    }
    size_t cap = 0;
    for (size_t s = 0; rc == 0 && s < plan->nsamples; s++) {
        struct ms_plan_sample *ps = &plan->samples[s];
        if (ps->bad) {
            continue;
        }
        size_t max_slots = max_slots_for(plan, ps, opts, plan->share);
        if (cut_sample(plan, s, max_slots, &cap) != 0) {
            rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                               ms__file_path(f));
        }
    }
    return rc;
}

static int
compare_id(const void *key, const void *elem)
{
    int64_t a = *(const int64_t *)key, b = *(const int64_t *)elem;
    return a < b ? -1 : a > b;
}

/* Keep only the selected samples; MS_ENOTFOUND lists selected ids that are
 * not in the file. */
static int
apply_selection(struct ms_sample_name *names, size_t *count,
                const struct ms_selection *sel, const char *path,
                struct ms_error *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        if (bsearch(&names[i].id, sel->ids, sel->count, sizeof(int64_t),
                    compare_id) != NULL) {
            names[kept++] = names[i];
        } else {
            ms__free(names[i].name);
        }
    }
    *count = kept;
    char missing[512] = "";
    size_t nmissing = 0, used = 0;
    for (size_t k = 0; k < sel->count; k++) {
        bool found = false;
        for (size_t i = 0; i < kept && !found; i++) {
            found = names[i].id == sel->ids[k];
        }
        if (!found) {
            if (nmissing < 20 && used < sizeof(missing) - 32) {
                used += (size_t)snprintf(missing + used,
                                         sizeof(missing) - used, "%s%lld",
                                         nmissing ? ", " : "",
                                         (long long)sel->ids[k]);
            }
            nmissing++;
        }
    }
    if (nmissing > 0) {
        return ms__error_set(err, MS_ENOTFOUND,
                             "%s: %zu selected sample id%s not in the "
                             "dataset (%s): %s%s",
                             path, nmissing, nmissing == 1 ? " is" : "s are",
                             sel->source ? sel->source : "selection",
                             missing, nmissing > 20 ? ", ..." : "");
    }
    return 0;
}

/* The plan's samples: those listed under data/ that the selection keeps,
 * in id order, owning their names. */
static int
list_samples(struct ms_plan *plan, struct ms_file *f,
             const struct ms_options *opts, struct ms_error *err)
{
    struct ms_sample_name *names;
    size_t count;
    int rc = ms__file_list_samples(f, opts->on_warning, opts->userdata,
                                   &names, &count, err);
    if (rc != 0) {
        return rc;
    }
    plan->nfound = count;
    if (opts->selection != NULL) {
        rc = apply_selection(names, &count, opts->selection, ms__file_path(f),
                             err);
    }
    if (rc == 0 && count == 0) {
        rc = ms__error_set(err, MS_ENOSAMPLES,
                           "%s: no samples under data/ (expected groups "
                           "named by decimal sample ids)",
                           ms__file_path(f));
    }
    plan->samples = rc == 0 ? ms__calloc(count, sizeof(*plan->samples))
                            : NULL;
    if (rc == 0 && plan->samples == NULL) {
        rc = ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                           ms__file_path(f));
    }
    if (rc != 0) {
        ms__sample_names_free(names, count);
        return rc;
    }
    for (size_t s = 0; s < count; s++) {
        plan->samples[s].name = names[s];
    }
    ms__free(names); /* the name strings now belong to the plan */
    plan->nsamples = count;
    return 0;
}

int
ms__plan_create(struct ms_file *f, const struct ms_options *opts,
                struct ms_plan **out, struct ms_error *err)
{
    *out = NULL;
    struct ms_plan *plan = ms__calloc(1, sizeof(*plan));
    if (plan == NULL) {
        return ms__error_set(err, MS_ENOMEM, "%s: out of memory",
                             ms__file_path(f));
    }
    unsigned widest = opts->input_var > opts->output_var ? opts->input_var
                                                         : opts->output_var;
    plan->nrows = MS_ROW_DISPLACEMENT + widest;
    if (plan->nrows < MS_MIN_FEATURE_ROWS) {
        plan->nrows = MS_MIN_FEATURE_ROWS;
    }
    int rc = list_samples(plan, f, opts, err);
    if (rc == 0) {
        rc = plan_samples(plan, f, opts, err);
    }
    if (rc != 0) {
        ms__plan_destroy(plan);
        return rc;
    }
    *out = plan;
    return 0;
}

void
ms__plan_destroy(struct ms_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    for (size_t s = 0; s < plan->nsamples; s++) {
        ms__free(plan->samples[s].name.name);
        ms__free(plan->samples[s].reason);
    }
    ms__free(plan->samples);
    ms__free(plan->units);
    ms__free(plan);
}
