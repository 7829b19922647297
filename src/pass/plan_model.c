/*
 * plan_model.c: the model of a pass (docs/models.md): the options', or
 * for `auto` the one the file's fields say (nodal for data/<id>/, for
 * trajectories the fields of the first trajectory a model fits), with its
 * group sizes and the rows a unit reads; a model that fits no trajectory
 * is a usage error naming what the file holds and which model reads it.
 */
#include "pass/pass.h"

#include <stdio.h>
#include <string.h>

/* "velocity, pos (2 components), node_type, cells": the fields a
 * trajectory holds, under the names they are stored under. */
static void
field_list(const struct ms_trajectory_fields *tf, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < MS_FIELD_COUNT && used < size; k++) {
        if (tf->leaf[k] == NULL) {
            continue;
        }
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                         tf->leaf[k]);
        used += n > 0 ? (size_t)n : 0;
        if (k == MS_FIELD_MESH_POS && tf->mesh_dims && used < size) {
            n = snprintf(buf + used, size - used, " (%zu components)",
                         tf->mesh_dims);
            used += n > 0 ? (size_t)n : 0;
        }
    }
}

/* The model a trajectory's fields say: velocity is cfd's, stress or a
 * 3D mesh_pos (tetrahedra) plate's, anything else cloth's. */
static enum ms_model_kind
model_of_fields(const struct ms_trajectory_fields *tf)
{
    return tf->leaf[MS_FIELD_VELOCITY] ? MS_MODEL_CFD
           : tf->leaf[MS_FIELD_STRESS] || tf->mesh_dims == 3
               ? MS_MODEL_PLATE
               : MS_MODEL_CLOTH;
}

/* Model kind as it reads tf (plate without stress when tf has none). */
static const struct ms_model *
model_for(enum ms_model_kind kind, const struct ms_trajectory_fields *tf)
{
    const struct ms_model *m = ms__model(kind);
    return tf->leaf[MS_FIELD_STRESS] == NULL
               ? ms__model_without(m, MS_FIELD_STRESS)
               : m;
}

/* Whether model m can read trajectory tf: the fields it reads at every
 * frame, and mesh_pos with the components it uses (when it is there). */
static bool
fits(const struct ms_model *m, const struct ms_trajectory_fields *tf)
{
    bool ok = m->trajectory;
    for (size_t i = 0; ok && i < m->ndynamic; i++) {
        ok = tf->leaf[m->dynamic[i].field] != NULL;
    }
    return ok && (tf->mesh_dims == 0 || tf->mesh_dims == m->mesh_dims);
}

/* The kind asked for, or (auto) the one tf's fields say. */
static enum ms_model_kind
kind_for(enum ms_model_kind asked, const struct ms_trajectory_fields *tf)
{
    return asked == MS_MODEL_AUTO ? model_of_fields(tf) : asked;
}

/* The trajectory the model is told from and checked against: the first
 * selected one whose fields can be looked up, that holds a field read at
 * every frame, and that the model asked for (auto: the one its fields
 * say) fits; a damaged or incomplete one before it is skipped later with
 * its reason.  If none fits, the first that holds such a field, whose
 * misfit the error names; NULL if none does. */
static const struct ms_sample_name *
representative(const struct ms_plan *plan, struct ms_file *f,
               enum ms_model_kind asked, struct ms_trajectory_fields *tf)
{
    const struct ms_sample_name *first = NULL;
    struct ms_trajectory_fields first_tf;
    memset(&first_tf, 0, sizeof(first_tf));
    for (size_t s = 0; s < plan->nsamples; s++) {
        struct ms_error ignored;
        const struct ms_sample_name *name = &plan->samples[s].name;
        if (ms__trajectory_fields(f, name, tf, &ignored) != 0 ||
            (!tf->leaf[MS_FIELD_WORLD_POS] && !tf->leaf[MS_FIELD_VELOCITY])) {
            continue;
        }
        if (fits(model_for(kind_for(asked, tf), tf), tf)) {
            return name;
        }
        if (first == NULL) {
            first = name;
            first_tf = *tf; /* (its names are static strings) */
        }
    }
    *tf = first_tf;
    return first;
}

/* What model m lacks in tf ("world_pos; mesh_pos with 3 components, not
 * 2"), and the first other model that reads tf, if any. */
static void
misfit(const struct ms_model *m, const struct ms_trajectory_fields *tf,
       char *lacks, size_t size, const struct ms_model **other)
{
    size_t used = 0;
    lacks[0] = '\0';
    for (size_t i = 0; m->trajectory && i < m->ndynamic; i++) {
        if (tf->leaf[m->dynamic[i].field] == NULL && used < size) {
            int n = snprintf(lacks + used, size - used, "%s%s",
                             used ? ", " : "",
                             ms__field_name(m->dynamic[i].field));
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (m->trajectory && tf->mesh_dims != 0 &&
        tf->mesh_dims != m->mesh_dims && used < size) {
        snprintf(lacks + used, size - used,
                 "%smesh_pos of %u components (it has %zu)",
                 used ? ", " : "", m->mesh_dims, tf->mesh_dims);
    }
    *other = NULL;
    for (int k = MS_MODEL_CLOTH; k < MS_MODEL_COUNT && !*other; k++) {
        const struct ms_model *c = model_for((enum ms_model_kind)k, tf);
        *other = c->kind != m->kind && fits(c, tf) ? c : NULL;
    }
}

/* The trajectory model opts asks for, or (auto) the one the fields of
 * the representative trajectory say; a model that cannot read it is a
 * usage error naming what it holds and which model does. */
static int
trajectory_model(struct ms_plan *plan, struct ms_file *f,
                 const struct ms_options *opts, struct ms_error *err)
{
    struct ms_trajectory_fields tf;
    const struct ms_sample_name *first =
        representative(plan, f, opts->model, &tf);
    const struct ms_model *m = model_for(kind_for(opts->model, &tf), &tf);
    bool auto_ = opts->model == MS_MODEL_AUTO;
    if (!m->trajectory || (first != NULL && !fits(m, &tf))) {
        char held[200], lacks[160], advice[96];
        const struct ms_model *other;
        field_list(&tf, held, sizeof(held));
        misfit(m, &tf, lacks, sizeof(lacks), &other);
        snprintf(advice, sizeof(advice), "%s%s%s",
                 other ? "--model " : "",
                 other ? other->name : "no model of meshstats reads it",
                 other ? " reads it" : "");
        return ms__error_set(
            err, MS_EINVAL,
            "%s: %s%s%s does not fit this file: it holds DeepMind "
            "trajectories, and trajectory %s holds %s%s%s; %s "
            "(docs/models.md)",
            ms__file_path(f), auto_ ? "the model " : "--model ", m->name,
            auto_ ? " its fields suggest" : "",
            first != NULL ? first->name : "0",
            held[0] ? held : "nothing", lacks[0] ? ", without " : "",
            lacks, advice);
    }
    plan->model = m;
    if ((opts->input_var != 4 || opts->output_var != 4 ||
         opts->edge_var != 4) && opts->on_warning != NULL) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "%s: input_var, output_var and edge_var apply to the nodal "
                 "model; the %s model computes its own %zu node, %zu edge "
                 "and %zu output features",
                 ms__file_path(f), m->name, m->nfeat[MS_GROUP_NODE],
                 m->nfeat[MS_GROUP_EDGE], m->nfeat[MS_GROUP_DELTA]);
        opts->on_warning(opts->userdata, -1, msg);
    }
    return 0;
}

int
ms__plan_model(struct ms_plan *plan, struct ms_file *f,
               const struct ms_options *opts, struct ms_error *err)
{
    if (ms__file_layout(f) == MS_LAYOUT_TRAJECTORY) {
        if (opts->positional_features > 0) {
            return ms__error_set(
                err, MS_EINVAL,
                "%s: positional_features applies to the nodal model "
                "(data/<id>/nodal_data); this file holds DeepMind "
                "trajectories, whose models compute their own node "
                "features (docs/models.md)",
                ms__file_path(f));
        }
        int rc = trajectory_model(plan, f, opts, err);
        if (rc != 0) {
            return rc;
        }
        memcpy(plan->nfeat, plan->model->nfeat, sizeof(plan->nfeat));
        plan->nrows = ms__model_rows(plan->model);
        return 0;
    }
    if (opts->model != MS_MODEL_AUTO && opts->model != MS_MODEL_NODAL) {
        return ms__error_set(
            err, MS_EINVAL,
            "%s: holds data/<id>/nodal_data samples (the nodal model), not "
            "DeepMind trajectories, which --model %s reads "
            "(docs/models.md)",
            ms__file_path(f), ms_model_name(opts->model));
    }
    plan->model = ms__model(MS_MODEL_NODAL);
    ms__options_groups(opts, plan->nfeat);
    plan->positional = opts->positional_features;
    unsigned widest = opts->input_var > opts->output_var ? opts->input_var
                                                         : opts->output_var;
    plan->nrows = MS_ROW_DISPLACEMENT + widest;
    if (plan->nrows < MS_MIN_FEATURE_ROWS) {
        plan->nrows = MS_MIN_FEATURE_ROWS;
    }
    return 0;
}
