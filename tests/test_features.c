/*
 * test_features.c: node, edge and delta features of a two-triangle mesh,
 * computed by hand.
 *
 * Four nodes, triangles (0, 1, 2) and (1, 3, 2), five stored edges.  At
 * timestep 0 the reference positions are the unit square corners and the
 * displacement is zero except node 3, moved by (0, 0, 1); at timestep 1
 * every node is moved by a further (1, 0, 0) except node 0.
 */
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#define NODES 4
#define EDGES 5
#define ROWS 8
#define SLOTS 2

static double data[ROWS * SLOTS * NODES];
static const uint32_t edges[2 * EDGES] = {0, 1, 2, 1, 3, /* i */
                                      1, 2, 0, 3, 2 /* j */};

static double *
at(size_t row, size_t slot)
{
    return data + (row * SLOTS + slot) * NODES;
}

static void
setup_mesh(void)
{
    memset(data, 0, sizeof(data));
    static const double x[NODES] = {0, 1, 0, 1}, y[NODES] = {0, 0, 1, 1};
    for (size_t s = 0; s < SLOTS; s++) {
        memcpy(at(0, s), x, sizeof(x));
        memcpy(at(1, s), y, sizeof(y));
    }
    at(5, 0)[3] = 1.0;            /* node 3 up by 1 at t = 0 */
    at(5, 1)[3] = 1.0;
    for (size_t n = 1; n < NODES; n++) {
        at(3, 1)[n] = 1.0;        /* nodes 1..3 right by 1 at t = 1 */
    }
    at(6, 0)[2] = 5.0;            /* stress row, node 2 */
    at(6, 1)[2] = 8.0;
}

static struct ms_block block = {
    .d = data, .nrows = ROWS, .nslots = SLOTS, .N = NODES, .stride = NODES};

/* The edge features at slot, as a unit computes them: positions, then
 * every edge. */
static int
edge_features(size_t slot, bool skip, struct ms_moments m[4],
              uint64_t *skipped, struct ms_nonfinite_site *site);
static double pos[3 * NODES], ref[3 * NODES];
static double values[EDGES > NODES ? EDGES : NODES];
static unsigned char mask[EDGES > NODES ? EDGES : NODES];
static struct ms_feature_scratch scratch = {
    .pos = pos, .values = values, .mask = mask};

static int
edge_features(size_t slot, bool skip, struct ms_moments m[4],
              uint64_t *skipped, struct ms_nonfinite_site *site)
{
    ms__positions(&block, slot, false, pos);
    return ms__edge_features(pos, NULL, edges, edges + EDGES, EDGES, skip,
                             &scratch, m, skipped, site);
}

Test(features, edge_var_8_adds_the_reference_mesh_edges, .init = setup_mesh)
{
    /* At t = 1 the deformed mesh is p0 (0,0,0) p1 (2,0,0) p2 (1,1,0)
     * p3 (2,1,1), the reference mesh the unit square.  Reference edges:
     * 0->1 (1,0,0), 1->2 (-1,1,0), 2->0 (0,-1,0), 1->3 (0,1,0),
     * 3->2 (-1,0,0): r0_x squares sum to 3, r0_y to 3, r0_z to 0, over 5
     * stored edges (10 rows); |r0| is 1, sqrt2, 1, 1, 1. */
    struct ms_moments m[8];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    ms__positions(&block, 1, false, pos);
    ms__positions(&block, 1, true, ref);
    cr_assert_eq(ms__edge_features(pos, ref, edges, edges + EDGES, EDGES,
                                   false, &scratch, m, &skipped, &site),
                 0);
    for (int k = 0; k < 8; k++) {
        cr_expect_eq(m[k].count, 10, "feature %d", k);
    }
    cr_expect(fabs(ms__moments_std(&m[0]) - sqrt(14.0 / 10.0)) < 1e-15,
              "the deformed features are those of edge_var 4");
    for (int k = 4; k < 7; k++) {
        cr_expect_eq(ms__moments_mean(&m[k]), 0.0, "r0 means are exactly 0");
    }
    cr_expect(fabs(ms__moments_std(&m[4]) - sqrt(3.0 / 5.0)) < 1e-15);
    cr_expect(fabs(ms__moments_std(&m[5]) - sqrt(3.0 / 5.0)) < 1e-15);
    cr_expect_eq(ms__moments_std(&m[6]), 0.0);
    double len_mean = (4.0 + sqrt(2.0)) / 5.0;
    cr_expect(fabs(ms__moments_mean(&m[7]) - len_mean) < 1e-15);
    cr_expect_eq(m[7].min, 1.0);
    cr_expect(fabs(m[7].max - sqrt(2.0)) < 1e-15);
    /* A non-finite reference coordinate is named as such. */
    at(2, 1)[3] = NAN; /* reference z of node 3 */
    ms__positions(&block, 1, false, pos);
    ms__positions(&block, 1, true, ref);
    cr_expect_eq(ms__edge_features(pos, ref, edges, edges + EDGES, EDGES,
                                   false, &scratch, m, &skipped, &site),
                 MS_ENONFINITE);
    cr_expect_eq(site.row, MS_SITE_POSITION + 2,
                 "the deformed z comes first (it uses the same row)");
    cr_expect_eq(site.node, 3);
    /* Skipped, the edges of node 3 leave every feature alike. */
    cr_expect_eq(ms__edge_features(pos, ref, edges, edges + EDGES, EDGES,
                                   true, &scratch, m, &skipped, &site),
                 0);
    for (int k = 0; k < 8; k++) {
        cr_expect_eq(m[k].count, 6, "feature %d", k);
    }
}

Test(features, positions_are_reference_plus_displacement_per_node,
     .init = setup_mesh)
{
    ms__positions(&block, 0, false, pos);
    static const double want[3 * NODES] = {0, 0, 0, 1, 0, 0,
                                           0, 1, 0, 1, 1, 1};
    for (size_t i = 0; i < 3 * NODES; i++) {
        cr_expect_eq(pos[i], want[i], "pos[%zu]", i);
    }
}

Test(features, streamed_positions_are_the_same_values, .init = setup_mesh)
{
    /* The double rows at t = 1: the mesh moved (edge_var_8 test's
     * comment), and its reference, the unit square; written with
     * non-temporal stores, or plainly where pos is not 16-byte aligned. */
    _Alignas(16) double out[3 * NODES + 1];
    static const double moved[3 * NODES] = {0, 0, 0, 2, 0, 0,
                                            1, 1, 0, 2, 1, 1};
    static const double square[3 * NODES] = {0, 0, 0, 1, 0, 0,
                                             0, 1, 0, 1, 1, 0};
    for (int shift = 0; shift < 2; shift++) {
        ms__positions_streamed(&block, 1, false, out + shift);
        for (size_t i = 0; i < 3 * NODES; i++) {
            cr_expect_eq(out[shift + i], moved[i], "pos[%zu] +%d", i, shift);
        }
        ms__positions_streamed(&block, 1, true, out + shift);
        for (size_t i = 0; i < 3 * NODES; i++) {
            cr_expect_eq(out[shift + i], square[i], "ref[%zu] +%d", i, shift);
        }
    }
    /* Five float nodes (an odd count: the last one alone): reference
     * (n, 2n, -n), displacement (0.5, n / 4, 1). */
    enum { N = 5 };
    float rows[6 * N];
    for (size_t n = 0; n < N; n++) {
        float v[6] = {(float)n, 2.0f * (float)n, -(float)n,
                      0.5f, 0.25f * (float)n, 1.0f};
        for (size_t r = 0; r < 6; r++) {
            rows[r * N + n] = v[r];
        }
    }
    struct ms_block fb = {.f = rows, .nrows = 6, .nslots = 1, .N = N,
                          .stride = N};
    _Alignas(16) double fout[3 * N];
    ms__positions_streamed(&fb, 0, false, fout);
    for (size_t n = 0; n < N; n++) {
        cr_expect_eq(fout[3 * n], (double)n + 0.5, "x of node %zu", n);
        cr_expect_eq(fout[3 * n + 1], 2.25 * (double)n, "y of node %zu", n);
        cr_expect_eq(fout[3 * n + 2], 1.0 - (double)n, "z of node %zu", n);
    }
}

Test(features, edges_count_both_directions_with_deformed_positions,
     .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    cr_assert_eq(edge_features(0, false, m, &skipped, &site), 0);
    /* Deformed at t = 0: p0 (0,0,0) p1 (1,0,0) p2 (0,1,0) p3 (1,1,1).
     * One direction: 0->1 (1,0,0) |1|; 1->2 (-1,1,0) |sqrt2|;
     * 2->0 (0,-1,0) |1|; 1->3 (0,1,1) |sqrt2|; 3->2 (-1,0,-1) |sqrt2|.
     * Both directions: 10 rows, component means 0, variance = sum r^2 / 5. */
    for (int k = 0; k < 4; k++) {
        cr_expect_eq(m[k].count, 10);
    }
    cr_expect_eq(ms__moments_mean(&m[0]), 0.0);
    cr_expect_eq(ms__moments_mean(&m[1]), 0.0);
    cr_expect_eq(ms__moments_mean(&m[2]), 0.0);
    cr_expect(fabs(ms__moments_std(&m[0]) - sqrt(3.0 / 5.0)) < 1e-15);
    cr_expect(fabs(ms__moments_std(&m[1]) - sqrt(3.0 / 5.0)) < 1e-15);
    cr_expect(fabs(ms__moments_std(&m[2]) - sqrt(2.0 / 5.0)) < 1e-15);
    double len_mean = (2.0 + 3.0 * sqrt(2.0)) / 5.0;
    double len_var = (2.0 + 3.0 * 2.0) / 5.0 - len_mean * len_mean;
    cr_expect(fabs(ms__moments_mean(&m[3]) - len_mean) < 1e-15);
    cr_expect(fabs(ms__moments_std(&m[3]) - sqrt(len_var)) < 1e-15);
    cr_expect_eq(m[0].min, -1.0);
    cr_expect_eq(m[0].max, 1.0);
    cr_expect_eq(m[3].min, 1.0);
    cr_expect(fabs(m[3].max - sqrt(2.0)) < 1e-15);
}

Test(features, edges_follow_the_displacement_of_the_timestep,
     .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    cr_assert_eq(edge_features(1, false, m, &skipped, &site), 0);
    /* t = 1: p0 (0,0,0) p1 (2,0,0) p2 (1,1,0) p3 (2,1,1).  One direction
     * r_x: 2, -1, -1, 0, -1: squares sum to 7, so 14 over the 10 rows
     * of both directions. */
    cr_expect(fabs(ms__moments_std(&m[0]) - sqrt(14.0 / 10.0)) <
              1e-15);
    cr_expect_eq(m[0].min, -2.0);
    cr_expect_eq(m[0].max, 2.0);
}

Test(features, node_features_are_the_displacement_rows, .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    cr_assert_eq(ms__node_features(&block, 1, 4, false, &scratch, m, &skipped,
                                   &site),
                 0);
    cr_expect_eq(m[0].count, 4);
    cr_expect_eq(ms__moments_mean(&m[0]), 0.75); /* 0, 1, 1, 1 */
    cr_expect(fabs(ms__moments_std(&m[0]) - sqrt(0.1875)) < 1e-15);
    cr_expect_eq(ms__moments_mean(&m[2]), 0.25); /* node 3 up by 1 */
    cr_expect_eq(ms__moments_mean(&m[3]), 2.0);  /* stress 0, 0, 8, 0 */
    cr_expect_eq(m[3].max, 8.0);
}

Test(features, deltas_are_next_minus_current, .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    cr_assert_eq(ms__delta_features(&block, 0, 1, 4, false, &scratch, m,
                                    &skipped, &site),
                 0);
    cr_expect_eq(ms__moments_mean(&m[0]), 0.75); /* 0, 1, 1, 1 */
    cr_expect_eq(ms__moments_mean(&m[2]), 0.0);  /* z unchanged */
    cr_expect_eq(ms__moments_std(&m[2]), 0.0);
    cr_expect_eq(ms__moments_mean(&m[3]), 0.75); /* stress 0, 0, 3, 0 */
    cr_expect_eq(m[3].max, 3.0);
}

Test(features, single_timestep_delta_is_the_value_itself, .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    cr_assert_eq(ms__delta_features(&block, 0, SIZE_MAX, 4, false, &scratch,
                                    m, &skipped, &site),
                 0);
    cr_expect_eq(ms__moments_mean(&m[2]), 0.25); /* node 3's z = 1 */
    cr_expect_eq(ms__moments_mean(&m[3]), 1.25); /* stress 5 at node 2 */
}

Test(features, nonfinite_value_is_located_or_skipped, .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site = {0};
    at(4, 1)[2] = NAN;
    cr_expect_eq(ms__node_features(&block, 1, 4, false, &scratch, m,
                                   &skipped, &site),
                 MS_ENONFINITE);
    cr_expect_eq(site.row, 4);
    cr_expect_eq(site.slot, 1);
    cr_expect_eq(site.node, 2);
    cr_expect_eq(ms__node_features(&block, 1, 4, true, &scratch, m, &skipped,
                                   &site),
                 0);
    cr_expect_eq(skipped, 1);
    cr_expect_eq(m[0].count, 3);
    cr_expect_eq(ms__moments_mean(&m[0]), 2.0 / 3.0); /* nodes 0, 1, 3 */
}

Test(features, nonfinite_position_fails_edges_naming_the_node,
     .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site = {0};
    at(1, 0)[3] = INFINITY; /* node 3's reference y */
    cr_expect_eq(edge_features(0, false, m, &skipped, &site), MS_ENONFINITE);
    cr_expect_eq(site.row, MS_SITE_POSITION + 1, "the y coordinate");
    cr_expect_eq(site.node, 3);
    cr_expect_eq(edge_features(0, true, m, &skipped, &site), 0);
    cr_expect_eq(skipped, 4); /* edges 1-3 and 3-2, both directions */
    cr_expect_eq(m[0].count, 6);
}

Test(features, finite_values_whose_moments_overflow_are_reported,
     .init = setup_mesh)
{
    struct ms_moments m[4];
    uint64_t skipped = 0;
    struct ms_nonfinite_site site;
    at(3, 0)[0] = 1e308;
    at(3, 0)[1] = 1e308;
    cr_expect_eq(ms__node_features(&block, 0, 4, false, &scratch, m,
                                   &skipped, &site),
                 MS_EOVERFLOW);
}

/* The two triangles above as cells: (0, 1, 2) and (1, 3, 2) share the
 * edge 1-2, so 5 distinct edges; listed twice, still 5. */
Test(features, cells_become_their_distinct_edges_sorted)
{
    const int64_t cells[12] = {0, 1, 2, 1, 3, 2, 2, 1, 0, 3, 2, 1};
    uint32_t from[6], to[6];
    size_t E;
    struct ms_cell_error bad;
    cr_assert_eq(ms__mesh_edges(cells, 4, 3, NODES, from, to, &E, &bad), 0);
    cr_assert_eq(E, 5);
    const uint32_t want[5][2] = {{0, 1}, {0, 2}, {1, 2}, {1, 3}, {2, 3}};
    for (size_t e = 0; e < 5; e++) {
        cr_expect(from[e] == want[e][0] && to[e] == want[e][1],
                  "edge %zu is (%u, %u)", e, from[e], to[e]);
    }
    /* A tetrahedron has six edges; a vertex past N is named. */
    const int64_t tet[4] = {3, 0, 2, 1};
    cr_expect_eq(ms__mesh_edges(tet, 1, 4, 4, NULL, NULL, &E, &bad), 0);
    cr_expect_eq(E, 6);
    const int64_t off[6] = {0, 1, 2, 1, 2, 7};
    cr_expect_eq(ms__mesh_edges(off, 2, 3, 4, NULL, NULL, &E, &bad),
                 MS_ERANGE);
    cr_expect(bad.cell == 1 && bad.value == 7, "cell %zu value %lld",
              bad.cell, (long long)bad.value);
}
