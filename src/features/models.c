/*
 * models.c: the models, as data: which features each computes, their
 * names, and which fields of a trajectory it reads (docs/models.md).
 *
 * A layout says where arrays live (the nodal layout's data/<id>/nodal_data,
 * or DeepMind's trajectory groups of (T, N, F) arrays); a model says which
 * features are computed from them.  The nodal model's group sizes come from
 * the options (input_var, output_var, edge_var); the trajectory models fix
 * theirs.  What each computes per frame is model_features.c.
 */
#include "features/features.h"

#include <stdio.h>
#include <string.h>

static const char *const cloth_node[] = {
    "vel_x", "vel_y", "vel_z", "type_0", "type_1", "type_2",
    "type_3", "type_4", "type_5", "type_6", "type_7", "type_8"};
static const char *const cloth_edge[] = {"r_x",  "r_y",  "r_z", "|r|",
                                         "r0_x", "r0_y", "|r0|"};
static const char *const cloth_out[] = {"acc_x", "acc_y", "acc_z"};

static const char *const cfd_node[] = {
    "vel_x",  "vel_y",  "type_0", "type_1", "type_2", "type_3",
    "type_4", "type_5", "type_6", "type_7", "type_8"};
static const char *const cfd_edge[] = {"r0_x", "r0_y", "|r0|"};
static const char *const cfd_out[] = {"dvel_x", "dvel_y"};

static const char *const plate_node[] = {
    "obst_dx", "obst_dy", "obst_dz", "type_0", "type_1", "type_2",
    "type_3",  "type_4",  "type_5",  "type_6", "type_7", "type_8"};
static const char *const plate_edge[] = {"r0_x", "r0_y", "r0_z", "|r0|",
                                         "r_x",  "r_y",  "r_z",  "|r|"};
static const char *const plate_out[] = {"dpos_x", "dpos_y", "dpos_z",
                                        "stress"};

/* Column shorthands: a difference from frame t + a to t + b, the field at
 * t + b, the nine one-hot columns. */
#define DIFF(r, a, b) {MS_COL_DIFF, r, a, b}
#define AT(r, b) {MS_COL_AT, r, 0, b}
#define SECOND(r) {MS_COL_SECOND, r, -1, 1}
#define OBSTACLE(r) {MS_COL_OBSTACLE, r, 0, 1}
#define ONE_HOT                                                              \
    {MS_COL_ONE_HOT, 0, 0, 0}, {MS_COL_ONE_HOT, 1, 0, 0},                    \
        {MS_COL_ONE_HOT, 2, 0, 0}, {MS_COL_ONE_HOT, 3, 0, 0},                \
        {MS_COL_ONE_HOT, 4, 0, 0}, {MS_COL_ONE_HOT, 5, 0, 0},                \
        {MS_COL_ONE_HOT, 6, 0, 0}, {MS_COL_ONE_HOT, 7, 0, 0},                \
        {MS_COL_ONE_HOT, 8, 0, 0}
#define WORLD(c) {false, c}
#define MESH(c) {true, c}

static const struct ms_model models[MS_MODEL_COUNT] = {
    [MS_MODEL_NODAL] = {MS_MODEL_NODAL, "nodal",
                        "data/<id>/nodal_data (the seed's plate)", false,
                        {0, 0, 0}, {NULL, NULL, NULL},
                        {{MS_FIELD_WORLD_POS, 0}}, 0, 0, {{0}}, {{0}}, {{0}}},
    /* DeepMind's cloth_model.py: velocity (t - (t-1)) and the node type
     * in, acceleration out; edges over world and mesh positions. */
    [MS_MODEL_CLOTH] = {MS_MODEL_CLOTH, "cloth",
                        "flag_simple, sphere_simple", true,
                        {12, 7, 3}, {cloth_node, cloth_edge, cloth_out},
                        {{MS_FIELD_WORLD_POS, 3}}, 1, 2,
                        {DIFF(0, -1, 0), DIFF(1, -1, 0), DIFF(2, -1, 0),
                         ONE_HOT},
                        {SECOND(0), SECOND(1), SECOND(2)},
                        {WORLD(0), WORLD(1), WORLD(2), WORLD(3), MESH(0),
                         MESH(1), MESH(3)}},
    /* DeepMind's cfd_model.py: velocity and the node type in, its change
     * out; edges over mesh positions. */
    [MS_MODEL_CFD] = {MS_MODEL_CFD, "cfd", "cylinder_flow", true,
                      {11, 3, 2}, {cfd_node, cfd_edge, cfd_out},
                      {{MS_FIELD_VELOCITY, 2}}, 1, 2,
                      {AT(0, 0), AT(1, 0), ONE_HOT},
                      {DIFF(0, 0, 1), DIFF(1, 0, 1)},
                      {MESH(0), MESH(1), MESH(3)}},
    /* deforming_plate as the community ports define it: the obstacles'
     * next move and the node type in, the displacement and the next
     * stress out; edges over mesh then world positions. */
    [MS_MODEL_PLATE] = {MS_MODEL_PLATE, "plate", "deforming_plate", true,
                        {12, 8, 4}, {plate_node, plate_edge, plate_out},
                        {{MS_FIELD_WORLD_POS, 3}, {MS_FIELD_STRESS, 1}}, 2,
                        3,
                        {OBSTACLE(0), OBSTACLE(1), OBSTACLE(2), ONE_HOT},
                        {DIFF(0, 0, 1), DIFF(1, 0, 1), DIFF(2, 0, 1),
                         AT(3, 1)},
                        {MESH(0), MESH(1), MESH(2), MESH(3), WORLD(0),
                         WORLD(1), WORLD(2), WORLD(3)}},
};

/* deforming_plate as converters that drop stress write it: the same model
 * with the displacement alone as output. */
static const struct ms_model plate_without_stress = {
    MS_MODEL_PLATE, "plate", "deforming_plate without stress", true,
    {12, 8, 3}, {plate_node, plate_edge, plate_out},
    {{MS_FIELD_WORLD_POS, 3}}, 1, 3,
    {OBSTACLE(0), OBSTACLE(1), OBSTACLE(2), ONE_HOT},
    {DIFF(0, 0, 1), DIFF(1, 0, 1), DIFF(2, 0, 1)},
    {MESH(0), MESH(1), MESH(2), MESH(3), WORLD(0), WORLD(1), WORLD(2),
     WORLD(3)}};

const struct ms_model *
ms__model_without(const struct ms_model *m, enum ms_field absent)
{
    return m != NULL && m->kind == MS_MODEL_PLATE &&
                   absent == MS_FIELD_STRESS
               ? &plate_without_stress
               : m;
}

static const char *const model_names[MS_MODEL_COUNT] = {
    "auto", "nodal", "cloth", "cfd", "plate"};

const char *
ms_model_name(enum ms_model_kind model)
{
    return (unsigned)model < MS_MODEL_COUNT ? model_names[model] : NULL;
}

const struct ms_model *
ms__model(enum ms_model_kind kind)
{
    return kind > MS_MODEL_AUTO && kind < MS_MODEL_COUNT ? &models[kind]
                                                         : NULL;
}

static const char *const field_names[MS_FIELD_COUNT] = {
    "world_pos", "mesh_pos", "velocity", "pressure", "stress", "node_type",
    "cells"};

const char *
ms__field_name(enum ms_field field)
{
    return (unsigned)field < MS_FIELD_COUNT ? field_names[field] : "?";
}

size_t
ms__model_rows(const struct ms_model *m)
{
    size_t rows = 0;
    for (size_t i = 0; i < m->ndynamic; i++) {
        rows += m->dynamic[i].comps;
    }
    return rows;
}

void
ms__model_row_source(const struct ms_model *m, size_t row,
                     enum ms_field *field, size_t *comp)
{
    for (size_t i = 0; i < m->ndynamic; i++) {
        if (row < m->dynamic[i].comps) {
            *field = m->dynamic[i].field;
            *comp = row;
            return;
        }
        row -= m->dynamic[i].comps;
    }
    *field = MS_FIELD_COUNT;
    *comp = 0;
}

const char *
ms_group_name(enum ms_group_kind group)
{
    static const char *const names[MS_GROUP_COUNT] = {"node", "edge",
                                                       "delta"};
    return (unsigned)group < MS_GROUP_COUNT ? names[group] : "?";
}

void
ms_feature_name(enum ms_group_kind group, size_t i, char *buf, size_t size)
{
    /* Rows 3.. of nodal_data: displacement x, y, z, then stress and the
     * part number in the usual deforming-plate layout. */
    static const char *const rows[] = {"disp_x", "disp_y", "disp_z",
                                       "stress", "part"};
    static const char *const edge[] = {"r_x",  "r_y",  "r_z",  "|r|",
                                       "r0_x", "r0_y", "r0_z", "|r0|"};
    if (group == MS_GROUP_EDGE) {
        snprintf(buf, size, "%s", i < MS_ARRAY_SIZE(edge) ? edge[i] : "?");
    } else if (i < MS_ARRAY_SIZE(rows)) {
        snprintf(buf, size, group == MS_GROUP_DELTA ? "d_%s" : "%s", rows[i]);
    } else {
        snprintf(buf, size, group == MS_GROUP_DELTA ? "d_row%zu" : "row%zu",
                 i + 3);
    }
}

void
ms__model_feature_name(const struct ms_model *m, enum ms_group_kind group,
                       size_t i, char *buf, size_t size)
{
    if (m == NULL || !m->trajectory) {
        ms_feature_name(group, i, buf, size);
        return;
    }
    const char *name = (unsigned)group < MS_GROUP_COUNT &&
                               i < m->nfeat[group]
                           ? m->names[group][i]
                           : "?";
    snprintf(buf, size, "%s", name);
}

void
ms_stats_feature_name(const struct ms_stats *stats, enum ms_group_kind group,
                      size_t i, char *buf, size_t size)
{
    if (group == MS_GROUP_NODE && i >= stats->input_var &&
        i - stats->input_var < stats->positional_features) {
        ms__positional_name(i - stats->input_var, buf, size);
        return;
    }
    ms__model_feature_name(ms__model(stats->model), group, i, buf, size);
}
