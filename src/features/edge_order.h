/*
 * edge_order.h: the order a large mesh's edges are computed in
 * (edge_order.c; docs/design.md, "Edge order").  Included by features.h.
 *
 * Each edge gathers the positions of its two endpoints.  A list whose
 * first MS_EDGE_BLOCK stored edges come by their lower endpoint (as
 * meshers and `meshstats generate` write edges sorted by their first
 * node) is computed as stored.  Any other is placed once in that order:
 * by lower endpoint in the numbering of the position buffers, the edges
 * of one lower endpoint in stored order (into segments of
 * 2^MS_ORDER_SHIFT lower endpoints, then each segment sorted; a segment
 * too large for the sort's buffer stays in stored order).  A mesh whose node numbering has no
 * locality is first renumbered row by row over a grid of its reference
 * positions.  The order depends on the mesh alone, so the
 * result is the same at any memory limit.  A placed edge runs from its
 * lower endpoint to its higher: its direction changes none of its
 * features' statistics (r counts with -r, |r| is the same).
 */
#ifndef MESHSTATS_EDGE_ORDER_H
#define MESHSTATS_EDGE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_ORDER_SHIFT 14
#define MS_ORDER_DIGIT 15 /* the grid's cells are sorted 15 bits a pass */
/* A list is counted and placed in parts of this many stored edges, which
 * workers take side by side. */
#define MS_ORDER_PART ((size_t)1 << 20)
/* The renumbering sorts the nodes in at most this many parts of about
 * equal size (MS_ORDER_PART nodes or more each). */
#define MS_ORDER_SORT_PARTS 4

/* A sample's edge order.  high/low hold the list in order when it is
 * placed (the plan says whether: ms_plan_sample.placed); a list left as
 * stored is kept as read or read from the file by blocks.  Placing counts
 * each part of MS_ORDER_PART stored edges into its own sizes, then puts
 * each part at its own cursors: the edges of a segment come part by part,
 * each part's in stored order, so the order is the same however the
 * parts ran. */
struct ms_edge_order {
    size_t N, E;
    size_t nseg;       /* (N >> MS_ORDER_SHIFT) + 1 */
    size_t nparts;     /* ceil(E / MS_ORDER_PART), at least 1 */
    size_t *seg_start; /* nseg + 1: where each segment's edges begin */
    uint32_t *sizes;   /* nparts x nseg: each part's edges a segment */
    uint32_t *perm;    /* node -> its place (when renumbered), N */
    bool renumbered;
    /* The renumbering's sort (renumber_sort.c): its parts and passes, and
     * each part's counts of the cells' digits. */
    size_t sort_parts;
    unsigned sort_passes;
    uint32_t *sort_count;
    bool kept;         /* high and low are allocated: it can be placed */
    uint32_t *high;    /* E: the higher placed endpoint */
    uint16_t *low;     /* E: the lower one's offset in its segment */
    /* Room the caller lends while the list is placed (the pass's position
     * buffers, which no unit writes before every part is put): the places
     * of the first rec_edges stored edges' ends, a's at rec_a, b's at
     * rec_b (ms__order_lend). */
    uint32_t *rec_a, *rec_b;
    size_t rec_edges;
};

/* What a scan of the stored list finds: edges whose endpoints are
 * 2^MS_ORDER_SHIFT or more apart in the stored numbering, and whether the
 * lower endpoints come in order (last: the latest one seen). */
struct ms_order_scan {
    uint64_t far;
    bool unordered;
    size_t last;
};

/* Bytes an order holds for a mesh of N nodes and E edges, kept or not (0
 * if they overflow). */
size_t ms__order_bytes(size_t N, size_t E, bool keep);
/* Allocate (zeroed, identity numbering); 0 or MS_ENOMEM. */
int ms__order_init(struct ms_edge_order *o, size_t N, size_t E, bool keep);
void ms__order_free(struct ms_edge_order *o);

/* Map the order's memory (the nodes' numbers, the edges' places), which
 * renumbering and placing write at random, before they do: while the
 * first task renumbers, on another worker (edge_order_start.c).  Its
 * contents are left as they are. */
void ms__order_prefault(struct ms_edge_order *o);

/* Scan n stored edges (in the stored numbering). */
void ms__order_scan(const uint32_t *from, const uint32_t *to, size_t n,
                    struct ms_order_scan *s);
/* The places of n stored nodes: place[i] of node[i] (the two may be the
 * same array).  Counting and putting take the edges' ends as places. */
void ms__order_places(const struct ms_edge_order *o, const uint32_t *node,
                      uint32_t *place, size_t n);
/* Lend nroom rooms of `bytes` each for the places of the first stored
 * edges: with one, their a's and b's share it (bytes / 8 edges); with two
 * or more, the a's take the first and the b's the second (bytes / 4
 * edges).  nroom 0 lends nothing. */
void ms__order_lend(struct ms_edge_order *o, void *const *room, size_t nroom,
                    size_t bytes);
/* Whether stored edges [e0, e0 + n) fit the lent room: where their ends'
 * places go (*a, *b) when they are counted, to be put from there. */
bool ms__order_in_room(const struct ms_edge_order *o, size_t e0, size_t n,
                    uint32_t **a, uint32_t **b);
/* Count n edges of part `part` between places a[i] and b[i] into its
 * sizes; clear them first with ms__order_clear. */
void ms__order_clear(struct ms_edge_order *o, size_t part);
void ms__order_count(struct ms_edge_order *o, size_t part, const uint32_t *a,
                     const uint32_t *b, size_t n);
/* Once every part is counted: where part's edges of each segment go
 * (cursor: nseg entries); part 0 also sets the segments' starts. */
void ms__order_cursors(struct ms_edge_order *o, size_t part, size_t *cursor);
/* Put n edges between places a[i] and b[i] at the cursors of their
 * segments. */
void ms__order_put(struct ms_edge_order *o, size_t *cursor, const uint32_t *a,
                   const uint32_t *b, size_t n);
/* The segments part sorts: [*first, *end). */
void ms__order_part_segments(const struct ms_edge_order *o, size_t part,
                             size_t *first, size_t *end);
/* Sort segment s's edges by their lower endpoint (stable), through tmp;
 * false (left as they are) if they do not fit tmp_bytes.  counts holds
 * 2^MS_ORDER_SHIFT + 1 entries. */
bool ms__order_sort_segment(struct ms_edge_order *o, size_t s, void *tmp,
                            size_t tmp_bytes, uint32_t *counts);
/* The lower placed endpoints of edges [e0, e0 + n) of the order, into
 * lower; their higher ones are o->high + e0. */
void ms__order_lower(const struct ms_edge_order *o, size_t e0, size_t n,
                     uint32_t *lower);
/* The node (stored numbering) at place p. */
size_t ms__order_node(const struct ms_edge_order *o, size_t p);

/* The grid the nodes are renumbered over: the bounds of the finite
 * reference coordinates, then a number of bits shared out to the axes by
 * their extent (a cell a node or nearly); cells are numbered in rows
 * along the axis with the most bits, rows in planes along the next. */
struct ms_order_grid {
    double lo[3], hi[3];
    unsigned bits[3];
    unsigned total;
    double scale[3]; /* cells per unit of length */
    unsigned shift[3]; /* where a cell coordinate's bits go in the cell's
                        * number */
};
void ms__grid_init(struct ms_order_grid *g);
/* Widen the bounds by n nodes' coordinates x[c][i]. */
void ms__grid_extend(struct ms_order_grid *g, const struct ms_row x[3],
                     size_t n);
void ms__grid_finish(struct ms_order_grid *g, unsigned bits);
/* The grid's bits: one more than N needs, at most 2 MS_ORDER_DIGIT when
 * the kept list's room (6 bytes an edge) holds the sort's 12 bytes a
 * node, else MS_ORDER_DIGIT. */
unsigned ms__grid_bits(size_t N, size_t E);
/* The cells of n nodes, numbered, into cell[i]. */
void ms__grid_cells(const struct ms_order_grid *g, const struct ms_row x[3],
                    size_t n, uint32_t *cell);
/* renumber_sort.c: perm holds every node's cell; it becomes the nodes'
 * places, by cell and then stored number.  The sort is set up for cells of
 * the grid's bits (0, or MS_ENOMEM), the cells' first digits counted as
 * they are made (nodes [first, first + n)), then step 0 and, with two
 * passes, step 1 run in every part (ms__order_sort_parts of them), each
 * step once the one before is done in every part (0, or MS_ENOMEM).  A sort
 * of two passes uses high for the cells and the nodes in between. */
size_t ms__order_sort_parts(size_t N);
unsigned ms__order_sort_passes(unsigned bits);
int ms__order_sort_init(struct ms_edge_order *o, unsigned bits);
void ms__order_count_cells(struct ms_edge_order *o, size_t first, size_t n);
int ms__order_sort_step(struct ms_edge_order *o, unsigned step, size_t part);
/* All of it on one thread: perm's cells into places (a grid of bits). */
int ms__order_renumber(struct ms_edge_order *o, unsigned bits);

#endif
