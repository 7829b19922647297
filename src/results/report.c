/*
 * report.c: the result as a human-readable table and as JSON (docs/spec.md section 6).
 *
 * Writes only to the stream it is handed.  The JSON carries no timings or
 * dates and prints every double with 17 significant digits, so that equal
 * results give equal bytes and every number round-trips.
 */
#include "results/results.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void
json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

enum field { FIELD_MEAN, FIELD_STD, FIELD_MIN, FIELD_MAX };

static double
field_of(const struct ms_feature_stats *f, enum field which)
{
    switch (which) {
    case FIELD_MEAN:
        return f->mean;
    case FIELD_STD:
        return f->std;
    case FIELD_MIN:
        return f->min;
    default:
        return f->max;
    }
}

static void
json_array(FILE *out, const struct ms_group_stats *g, enum field which)
{
    fputc('[', out);
    for (size_t k = 0; k < g->nfeatures; k++) {
        if (k) {
            fputs(", ", out);
        }
        if (g->count == 0) {
            fputs("null", out); /* no rows: the statistic is undefined */
        } else {
            fprintf(out, "%.17g", field_of(&g->features[k], which));
        }
    }
    fputc(']', out);
}

/* With quantiles: "quantiles": {"p": [...], "values": [[a value a
 * feature] a probability]} (null for a group without rows). */
static void
json_quantiles(FILE *out, const struct ms_group_stats *g)
{
    if (g->quantiles == NULL) {
        return;
    }
    fputs(",\n    \"quantiles\": {\"p\": [", out);
    for (size_t q = 0; q < MS_QUANTILES; q++) {
        fprintf(out, "%s%g", q ? ", " : "", ms_quantile_p(q)); /* (exact) */
    }
    fputs("],\n      \"values\": [", out);
    for (size_t q = 0; q < MS_QUANTILES; q++) {
        fputs(q ? ",\n        [" : "[", out);
        for (size_t k = 0; k < g->nfeatures; k++) {
            fputs(k ? ", " : "", out);
            if (g->count == 0) {
                fputs("null", out);
            } else {
                fprintf(out, "%.17g", g->quantiles[q * g->nfeatures + k]);
            }
        }
        fputc(']', out);
    }
    fputs("]}", out);
}

static void
json_group(FILE *out, const struct ms_stats *s, enum ms_group_kind kind,
           bool last)
{
    const struct ms_group_stats *g = &s->groups[kind];
    fprintf(out, "  \"%s\": {\"count\": %" PRIu64, ms_group_name(kind),
            g->count);
    if (s->skip_nonfinite) {
        fprintf(out, ", \"nonfinite_skipped\": %" PRIu64,
                g->nonfinite_skipped);
    }
    fputs(",\n    \"features\": [", out);
    for (size_t k = 0; k < g->nfeatures; k++) {
        char name[32];
        ms_stats_feature_name(s, kind, k, name, sizeof(name));
        fputs(k ? ", " : "", out);
        json_string(out, name);
    }
    fputc(']', out);
    static const char *const names[] = {"mean", "std", "min", "max"};
    for (int f = FIELD_MEAN; f <= FIELD_MAX; f++) {
        fprintf(out, ",\n    \"%s\": ", names[f]);
        json_array(out, g, (enum field)f);
    }
    json_quantiles(out, g);
    fprintf(out, "}%s\n", last ? "" : ",");
}

static int
write_json(const struct ms_stats *s, FILE *out)
{
    fprintf(out, "{\n  \"meshstats_version\": \"%s\",\n", MS_VERSION_STRING);
    fputs("  \"dataset\": ", out);
    json_string(out, s->dataset);
    fprintf(out, ",\n  \"model\": \"%s\"", ms_model_name(s->model));
    fprintf(out,
            ",\n  \"input_var\": %u, \"output_var\": %u, \"edge_var\": %u,",
            s->input_var, s->output_var, s->edge_var);
    if (s->positional_features > 0) {
        fprintf(out, " \"positional_features\": %u,", s->positional_features);
    }
    fputc('\n', out);
    fprintf(out, "  \"max_timesteps_for_stats\": %u,\n", s->max_timesteps);
    if (s->quantile_accuracy > 0) {
        fprintf(out, "  \"quantile_accuracy\": %.17g,\n",
                s->quantile_accuracy);
    }
    fputs("  \"selection\": {\"source\": ", out);
    json_string(out, s->selection ? s->selection : "all");
    if (s->selection_ids != NULL) {
        fputs(", \"ids\": [", out);
        for (size_t i = 0; i < s->nselection_ids; i++) {
            fprintf(out, "%s%" PRId64, i ? ", " : "", s->selection_ids[i]);
        }
        fputc(']', out);
    }
    fputs("},\n", out);
    fprintf(out,
            "  \"samples\": {\"found\": %zu, \"selected\": %zu, "
            "\"used\": %zu, \"skipped\": [",
            s->samples_found, s->samples_selected, s->samples_used);
    for (size_t i = 0; i < s->nskipped; i++) {
        fprintf(out, "%s\n    {\"id\": %" PRId64 ", \"reason\": ",
                i ? "," : "", s->skipped[i].id);
        json_string(out, s->skipped[i].reason);
        fputc('}', out);
    }
    fputs(s->nskipped ? "\n  ]},\n" : "]},\n", out);
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        json_group(out, s, (enum ms_group_kind)g,
                   g == MS_GROUP_COUNT - 1 && s->nwarnings == 0);
    }
    for (size_t i = 0; i < s->nwarnings; i++) {
        fputs(i ? ",\n    " : "  \"warnings\": [\n    ", out);
        json_string(out, s->warnings[i]);
    }
    fputs(s->nwarnings ? "\n  ]\n}\n" : "}\n", out);
    return ferror(out) ? MS_EIO : 0;
}

int
ms_stats_write_json(const struct ms_stats *s, FILE *out)
{
    return ms__stats_write_in_c(write_json, s, out);
}

/* p01, p50 and p99 of feature k (quantiles 1, 4 and 7), when computed,
 * and the line's end. */
static void
table_quantiles(FILE *out, const struct ms_group_stats *g, size_t k)
{
    for (size_t q = 1; g->quantiles != NULL && q < 8; q += 3) {
        fprintf(out, " %13.6e", g->quantiles[q * g->nfeatures + k]);
    }
    fputc('\n', out);
}

/* The table's feature column: as wide as its longest name, at least 10. */
static int
name_width(const struct ms_stats *s)
{
    int width = 10;
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < s->groups[g].nfeatures; k++) {
            char name[32];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            width = (int)strlen(name) > width ? (int)strlen(name) : width;
        }
    }
    return width;
}

static int
write_table(const struct ms_stats *s, FILE *out)
{
    const struct ms_model *m = ms__model(s->model);
    bool frames = m != NULL && m->trajectory;
    fprintf(out, "dataset   %s\n", s->dataset);
    fprintf(out, "model     %s (%s)\n", ms_model_name(s->model),
            m != NULL ? m->datasets : "?");
    if (s->selection != NULL) {
        fprintf(out, "selection %s\n", s->selection);
    }
    if (s->selection != NULL) {
        fprintf(out, "samples   %zu used of %zu selected (%zu in the file)",
                s->samples_used, s->samples_selected, s->samples_found);
    } else {
        fprintf(out, "samples   %zu used of %zu found", s->samples_used,
                s->samples_found);
    }
    if (s->nskipped) {
        fprintf(out, " (%zu skipped: see the warnings)", s->nskipped);
    }
    if (s->max_timesteps == 0) {
        fprintf(out, "\nmode      full: every %s\n",
                frames ? "frame 1 .. T-2" : "timestep");
    } else {
        fprintf(out, "\nmode      sampled: at most %u %s per sample\n",
                s->max_timesteps, frames ? "frames" : "timesteps");
    }
    int width = name_width(s);
    bool q = s->quantile_accuracy > 0;
    fprintf(out, "\n%-6s %-*s %12s %14s %13s %13s %13s", "group", width,
            "feature", "count", "mean", "std", "min", "max");
    fprintf(out, q ? " %13s %13s %13s\n" : "\n", "p01", "p50", "p99");
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        const struct ms_group_stats *gs = &s->groups[g];
        for (size_t k = 0; k < gs->nfeatures; k++) {
            char name[32];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            const struct ms_feature_stats *f = &gs->features[k];
            fprintf(out, "%-6s %-*s %12" PRIu64, ms_group_name(g), width,
                    name, gs->count);
            if (gs->count == 0) {
                fprintf(out, " %14s %13s %13s %13s", "-", "-", "-", "-");
                fprintf(out, q ? " %13s %13s %13s\n" : "\n", "-", "-", "-");
            } else {
                fprintf(out, " %14.6e %13.6e %13.6e %13.6e", f->mean,
                        f->std, f->min, f->max);
                table_quantiles(out, gs, k);
            }
        }
        if (s->skip_nonfinite && gs->nonfinite_skipped) {
            fprintf(out, "%-6s (%" PRIu64 " rows with NaN/Inf left out)\n",
                    ms_group_name(g), gs->nonfinite_skipped);
        }
    }
    return ferror(out) ? MS_EIO : 0;
}

int
ms_stats_write_table(const struct ms_stats *s, FILE *out)
{
    return ms__stats_write_in_c(write_table, s, out);
}

/* One feature's bins as block characters, scaled to the tallest. */
static void
histogram_line(FILE *out, const uint64_t *counts, size_t bins)
{
    static const char *const blocks[] = {"\u2581", "\u2582", "\u2583",
                                         "\u2584", "\u2585", "\u2586",
                                         "\u2587", "\u2588"};
    uint64_t most = 1;
    for (size_t i = 0; i < bins; i++) {
        most = counts[i] > most ? counts[i] : most;
    }
    for (size_t i = 0; i < bins; i++) {
        /* any count shows: ceil(8 c / most) of the eight heights */
        size_t h = (size_t)((8 * counts[i] + most - 1) / most);
        fputs(counts[i] == 0 ? " " : blocks[h > 8 ? 7 : h - 1], out);
    }
}

static int
write_histograms(const struct ms_stats *s, FILE *out)
{
    int width = name_width(s);
    double edges[MS_HISTOGRAM_BINS + 1];
    uint64_t counts[MS_HISTOGRAM_BINS];
    fprintf(out, "\n%-6s %-*s  distribution (%d bins, min to max)\n", "group",
            width, "feature", MS_HISTOGRAM_BINS);
    for (int g = 0; g < MS_GROUP_COUNT; g++) {
        for (size_t k = 0; k < s->groups[g].nfeatures; k++) {
            char name[32];
            ms_stats_feature_name(s, (enum ms_group_kind)g, k, name,
                                  sizeof(name));
            fprintf(out, "%-6s %-*s  ", ms_group_name(g), width, name);
            if (ms_stats_histogram(s, (enum ms_group_kind)g, k,
                                   MS_HISTOGRAM_BINS, edges, counts) != 0) {
                fputs("-\n", out);
                continue;
            }
            histogram_line(out, counts, MS_HISTOGRAM_BINS);
            /* (+ 0.0: an all -0.0 feature's range reads [0, 0], not
             * [0, -0]) */
            fprintf(out, "  [%.3g, %.3g]\n", edges[0] + 0.0,
                    edges[MS_HISTOGRAM_BINS] + 0.0);
        }
    }
    return ferror(out) ? MS_EIO : 0;
}

int
ms_stats_write_histograms(const struct ms_stats *s, FILE *out)
{
    return ms__stats_write_in_c(write_histograms, s, out);
}
