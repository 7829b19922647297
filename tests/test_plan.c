/*
 * test_plan.c: the cut into work units covers every owned timestep exactly
 * once, reads what each needs, and respects the memory limit.
 */
#include "helpers.h"
#include "pass/tasks.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *path;

static void
setup(void)
{
    helper_dir_setup();
    path = helper_generate(helper_dir, "plan.h5", 3, 37, 90);
}

static void
teardown(void)
{
    free(path);
    helper_dir_teardown();
}

/* The index of timestep t in slots, or -1. */
static long
find(const size_t *slots, size_t n, size_t t)
{
    for (size_t i = 0; i < n; i++) {
        if (slots[i] == t) {
            return (long)i;
        }
    }
    return -1;
}

static void
check_plan(const struct ms_plan *plan, const struct ms_options *o)
{
    for (size_t s = 0; s < plan->nsamples; s++) {
        const struct ms_plan_sample *ps = &plan->samples[s];
        size_t next_node = 0, next_delta = 0;
        for (size_t i = 0; i < ps->nunits; i++) {
            const struct ms_unit *u = &plan->units[ps->first_unit + i];
            cr_assert_eq(u->sample, s);
            cr_assert_eq(u->node_begin, next_node, "gap in node timesteps");
            cr_assert_eq(u->delta_begin, next_delta, "gap in deltas");
            next_node = u->node_end;
            next_delta = u->delta_end;
            size_t slots[512];
            unsigned char full[512], want_full[512] = {0};
            cr_assert_leq(u->nslots, 512);
            ms__unit_slots(plan, u, slots, full);
            for (size_t k = 1; k < u->nslots; k++) {
                cr_assert_lt(slots[k - 1], slots[k], "slots not sorted");
            }
            for (size_t k = u->node_begin; k < u->node_end; k++) {
                size_t t = ms__timesteps_at(&ps->node_ts, k);
                long at = find(slots, u->nslots, t);
                cr_assert_geq(at, 0, "missing t=%zu", t);
                want_full[at] = 1; /* node timesteps need every row */
            }
            for (size_t k = u->delta_begin; k < u->delta_end; k++) {
                size_t t = ms__timesteps_at(&ps->delta_ts, k);
                cr_assert_geq(find(slots, u->nslots, t), 0);
                cr_assert_geq(find(slots, u->nslots, t + 1), 0);
            }
            for (size_t k = 0; k < u->nslots; k++) {
                cr_assert_eq(full[k], want_full[k], "slot %zu (t=%zu)", k,
                             slots[k]);
            }
            size_t bytes;
            ms__plan_unit_bytes(plan->nrows, u->nslots, ps->shape.N, &bytes);
            cr_assert_leq(bytes, o->memory_limit);
        }
        cr_assert_eq(next_node, ps->node_ts.count);
        cr_assert_eq(next_delta, ps->delta_ts.count);
    }
}

Test(plan, units_cover_each_timestep_once_for_all_limits_and_modes,
     .init = setup, .fini = teardown)
{
    static const uint64_t limits[] = {16 << 10, 24 << 10, 64 << 10,
                                      256 << 20};
    static const unsigned modes[] = {0, 1, 3, 50};
    for (size_t l = 0; l < MS_ARRAY_SIZE(limits); l++) {
        for (size_t m = 0; m < MS_ARRAY_SIZE(modes); m++) {
            struct ms_options o;
            ms_options_init(&o);
            o.memory_limit = limits[l];
            o.max_timesteps = modes[m];
            struct ms_file *f;
            struct ms_plan *plan;
            cr_assert_eq(ms__file_open(path, &f, NULL), 0);
            struct ms_error err;
            cr_assert_eq(ms__plan_create(f, &o, NULL, &plan, &err), 0, "%s",
                         err.message);
            check_plan(plan, &o);
            if (limits[l] == 16 << 10 && modes[m] == 0) {
                cr_expect_gt(plan->nunits, 3 * 10, "small limit, many units");
            }
            if (limits[l] == 256 << 20) {
                cr_expect_eq(plan->nunits, 3, "one unit per small sample");
            }
            ms__plan_destroy(plan);
            ms__file_close(f);
        }
    }
}

Test(plan, limit_below_one_timestep_fails_naming_the_option, .init = setup,
     .fini = teardown)
{
    struct ms_options o;
    ms_options_init(&o);
    o.memory_limit = 4096;
    struct ms_file *f;
    struct ms_plan *plan;
    struct ms_error err;
    cr_assert_eq(ms__file_open(path, &f, NULL), 0);
    cr_expect_eq(ms__plan_create(f, &o, NULL, &plan, &err), MS_ETOOBIG);
    cr_expect(strstr(err.message, "--memory-limit") != NULL, "%s",
              err.message);
    cr_expect(strstr(err.message, "sample 0") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "data/0/nodal_data") != NULL);
    ms__file_close(f);
}

/* `samples` samples of a mesh of N nodes larger than one block, with E
 * random edges (most joining distant nodes: renumbered). */
static char *
blocked_file(size_t T, size_t N, size_t E, unsigned samples)
{
    char *file = helper_path(helper_dir, "blocked.h5");
    double *v = malloc(8 * T * N * sizeof(*v));
    int64_t *edges = malloc(2 * E * sizeof(*edges));
    helper_fill(v, 8, T, N, 0.25);
    uint64_t x = 12345;
    for (size_t e = 0; e < 2 * E; e++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        edges[e] = (int64_t)((x >> 33) % N);
    }
    hid_t h = helper_h5_create(file, 1);
    for (unsigned s = 0; s < samples; s++) {
        char name[16];
        snprintf(name, sizeof(name), "%u", s);
        helper_h5_sample(h, name, 8, T, N, v, edges, E);
    }
    H5Fclose(h);
    free(v);
    free(edges);
    return file;
}

/* Every owned timestep of a blocked sample is NODES units tiling the nodes
 * in order, then (a node timestep) EDGES units tiling the edges; the
 * timesteps with edges take the position buffers in turn. */
static void
check_blocked(const struct ms_plan *plan)
{
    const struct ms_plan_sample *ps = &plan->samples[0];
    cr_assert(ps->blocked);
    size_t next_node = 0, next_delta = 0, nodes = 0, edges = 0, turn = 0;
    unsigned pos = 0;
    for (size_t i = 0; i < ps->nunits; i++) {
        const struct ms_unit *u = &plan->units[ps->first_unit + i];
        bool node = u->node_end > u->node_begin;
        if (u->kind == MS_UNIT_NODES) {
            if (u->first == 0) {
                cr_assert_eq(u->node_begin, next_node, "unit %zu", i);
                cr_assert_eq(u->delta_begin, next_delta, "unit %zu", i);
                cr_assert_eq(edges % ps->shape.E, 0, "edges tiled");
                nodes = 0;
                if (node) {
                    pos = (unsigned)(turn++ % plan->npos);
                }
            }
            cr_assert(!node || u->pos == pos, "buffers taken in turn");
            cr_assert_eq(u->first, nodes, "node blocks in order");
            /* Whole blocks (the last may be short), as many as the share
             * allows: the blocks, not the units, decide the arithmetic. */
            cr_assert_eq(u->first % MS_NODE_BLOCK, 0);
            cr_assert_leq(u->nblocks, plan->node_blocks);
            cr_assert_eq(u->nblocks,
                         (u->count + MS_NODE_BLOCK - 1) / MS_NODE_BLOCK);
            cr_assert(u->first + u->count == ps->shape.N ||
                          u->count == plan->node_blocks * MS_NODE_BLOCK,
                      "only the last unit is short");
            nodes += u->count;
            next_node = u->node_end;
            next_delta = u->delta_end;
            edges = 0;
        } else {
            cr_assert_eq(u->kind, MS_UNIT_EDGES);
            cr_assert(node, "edges only at node timesteps");
            cr_assert_eq(nodes, ps->shape.N, "nodes tiled first");
            cr_assert_eq(u->first, edges, "edge blocks in order");
            cr_assert_leq(u->count, MS_EDGE_BLOCK);
            cr_assert_eq(u->delta_end, u->delta_begin);
            cr_assert_eq(u->pos, pos, "the buffer its nodes wrote");
            edges += u->count;
        }
        cr_assert_lt(u->pos, plan->npos);
    }
    cr_assert_eq(next_node, ps->node_ts.count);
    cr_assert_eq(next_delta, ps->delta_ts.count);
}

Test(plan, large_meshes_are_blocked_and_the_limit_chooses_their_buffers,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    /* 40000 nodes (3 blocks), 270000 edges (2 blocks): positions take
     * 960 KB a buffer, the edge list 2.16 MB. */
    char *file = blocked_file(5, 40000, 270000, 1);
    struct ms_file *f;
    cr_assert_eq(ms__file_open(file, &f, NULL), 0);
    int seen[3] = {0, 0, 0}; /* (2, kept), (1, kept), (1, read) */
    bool several_blocks = false, one_block = false;
    uint64_t limit = 64 << 20;
    int last = 0, rc = 0;
    struct ms_error err;
    for (; limit > (1 << 20); limit = limit / 10 * 9) {
        struct ms_options o;
        ms_options_init(&o);
        o.memory_limit = limit;
        o.workers = 2;
        o.max_timesteps = limit % 2 ? 3 : 0;
        struct ms_plan *plan;
        rc = ms__plan_create(f, &o, NULL, &plan, &err);
        if (rc != 0) {
            break;
        }
        check_blocked(plan);
        several_blocks |= plan->node_blocks > 1;
        one_block |= plan->node_blocks == 1;
        int choice = plan->npos == 2 ? 0 : plan->keep_edges ? 1 : 2;
        cr_assert_geq(choice, last, "lower limits never choose more");
        last = choice;
        seen[choice]++;
        /* What is held at once fits the limit. */
        uint64_t held = plan->npos * 3 * sizeof(double) * plan->pos_nodes +
                        ms__order_bytes(40000, 270000, plan->keep_edges) +
                        (uint64_t)plan->prefetch * plan->share;
        cr_assert_leq(held, limit);
        ms__plan_destroy(plan);
    }
    cr_expect(seen[0] && seen[1] && seen[2], "%d %d %d", seen[0], seen[1],
              seen[2]);
    cr_expect(several_blocks && one_block, "units of one and of several "
                                           "node blocks");
    cr_expect_eq(rc, MS_ETOOBIG, "the smallest limits do not fit");
    cr_expect(strstr(err.message, "positions of its 40000 nodes") != NULL &&
                  strstr(err.message, "--memory-limit") != NULL,
              "%s", err.message);
    ms__file_close(f);
    free(file);
}

/* Task indices of one sample's placing (tasks.c): its first task, the
 * first and last of each placing step, and the last task. */
struct placing {
    size_t first, last;
    size_t step_first[MS_PLACE_SORT + 1], step_last[MS_PLACE_SORT + 1];
};

static struct placing
placing_of(const struct task *tasks, size_t n, size_t sample)
{
    struct placing p = {.first = SIZE_MAX};
    for (size_t k = 0; k <= MS_PLACE_SORT; k++) {
        p.step_first[k] = p.step_last[k] = SIZE_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        const struct task *t = &tasks[i];
        if (t->sample != sample) {
            continue;
        }
        p.first = p.first == SIZE_MAX ? i : p.first;
        p.last = i;
        if (t->kind == TASK_EDGES && t->placing) {
            size_t k = t->part.step;
            p.step_first[k] = p.step_first[k] == SIZE_MAX ? i : p.step_first[k];
            p.step_last[k] = i;
        }
    }
    return p;
}

/* Two samples of a mesh numbered at random, placed after renumbering:
 * each blocked sample's first task waits for the last of the one before
 * (they share the position buffers); the sort by cell, for the cells (the
 * first task), not for the mapping of the order's memory beside it; each
 * later step for the last of the one before; and every NODES unit for
 * the last put, since the position buffers are lent to the count and the
 * put. */
Test(plan, the_placing_tasks_wait_for_what_they_read_and_write,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *file = blocked_file(3, 40000, 270000, 2);
    struct ms_file *f;
    cr_assert_eq(ms__file_open(file, &f, NULL), 0);
    struct ms_options o;
    ms_options_init(&o);
    o.memory_limit = 64 << 20;
    o.workers = 2;
    struct ms_plan *plan;
    struct ms_error err;
    cr_assert_eq(ms__plan_create(f, &o, NULL, &plan, &err), 0, "%s",
                 err.message);
    struct task *tasks;
    size_t n;
    uint64_t bytes = 0;
    cr_assert_eq(ms__tasks_build(plan, &tasks, &n, &bytes), 0);
    struct placing p[2] = {placing_of(tasks, n, 0), placing_of(tasks, n, 1)};
    for (size_t s = 0; s < 2; s++) {
        cr_assert(plan->samples[s].renumbered && plan->samples[s].placed);
        const size_t *sf = p[s].step_first, *sl = p[s].step_last;
        cr_assert_eq(tasks[p[s].first].after, s ? p[0].last : SIZE_MAX);
        cr_assert_eq(sf[MS_PLACE_TOUCH], p[s].first + 1);
        cr_assert_eq(tasks[sf[MS_PLACE_RENUMBER_0]].after, p[s].first,
                     "the sort waits for the cells only");
        cr_assert_eq(tasks[sf[MS_PLACE_RENUMBER_1]].after,
                     sl[MS_PLACE_RENUMBER_0]);
        cr_assert_eq(tasks[sf[MS_PLACE_COUNT]].after, sl[MS_PLACE_RENUMBER_1]);
        cr_assert_eq(tasks[sf[MS_PLACE_PUT]].after, sl[MS_PLACE_COUNT]);
        cr_assert_eq(tasks[sf[MS_PLACE_SORT]].after, sl[MS_PLACE_PUT]);
        size_t nodes = 0;
        for (size_t i = p[s].first; i <= p[s].last; i++) {
            const struct task *t = &tasks[i];
            if (t->kind == TASK_UNIT &&
                plan->units[t->unit].kind == MS_UNIT_NODES) {
                cr_assert(t->after != SIZE_MAX &&
                              t->after >= sl[MS_PLACE_PUT],
                          "NODES task %zu waits for %zu", i, t->after);
                nodes++;
            }
        }
        cr_assert_gt(nodes, 0);
    }
    ms__free(tasks);
    ms__plan_destroy(plan);
    ms__file_close(f);
    free(file);
}

Test(plan, chunks_the_workers_decode_are_bounded_by_bytes_not_by_an_axis)
{
    /* A row of a timestep of 2,002,224 nodes in one chunk (8 MB, as
     * `meshstats generate --chunked` writes it): the workers decode it
     * where three of them fit a sixteenth of the limit, H5Dread
     * elsewhere; dims whose product overflows, or a chunk over 1 GiB, go
     * to H5Dread at any limit. */
    struct {
        size_t chunk[3];
        uint64_t limit;
        bool workers;
    } cases[] = {
        {{1, 1, 2002224}, (uint64_t)512 << 20, true},
        {{1, 1, 2002224}, (uint64_t)256 << 20, false},
        {{8, 2, 262144}, (uint64_t)1 << 30, true},
        {{8, 2, 262144}, (uint64_t)256 << 20, false},
        {{1, (size_t)1 << 32, (size_t)1 << 32}, (uint64_t)1 << 50, false},
        {{1, 1, (size_t)1 << 29}, (uint64_t)1 << 50, false},
        {{1, 1, ((size_t)1 << 28) - 1}, (uint64_t)1 << 50, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ms_sample_shape sh = {0};
        memcpy(sh.chunk, cases[i].chunk, sizeof(sh.chunk));
        ms__budget_limit_chunks(&sh, cases[i].limit);
        cr_expect_eq(sh.chunk[0] != 0, cases[i].workers, "case %zu", i);
    }
}
