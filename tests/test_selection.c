/*
 * test_selection.c: sample selections from id lists, files and splits.
 */
#include "helpers.h"
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(selection, lists_and_ranges_parse_to_sorted_distinct_ids)
{
    static const struct {
        const char *text;
        size_t count;
        int64_t first, last;
    } cases[] = {
        {"7", 1, 7, 7},
        {"1-80,85,90-99", 91, 1, 99},
        {"5,3,5,4", 3, 3, 5},            /* duplicates merge, sorted */
        {"1-10,5-15", 15, 1, 15},        /* overlaps merge */
        {" 2 , 0-1 ", 3, 0, 2},          /* spaces around pieces */
        {"0", 1, 0, 0},
        {"10-10", 1, 10, 10},
        {"1,,2,", 2, 1, 2},              /* empty pieces are ignored */
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_selection sel;
        struct ms_error err;
        cr_assert_eq(ms_selection_parse(&sel, cases[c].text, &err), 0,
                     "'%s': %s", cases[c].text, err.message);
        cr_expect_eq(sel.count, cases[c].count, "'%s'", cases[c].text);
        cr_expect_eq(sel.ids[0], cases[c].first, "'%s'", cases[c].text);
        cr_expect_eq(sel.ids[sel.count - 1], cases[c].last, "'%s'",
                     cases[c].text);
        for (size_t i = 1; i < sel.count; i++) {
            cr_expect_lt(sel.ids[i - 1], sel.ids[i], "'%s'", cases[c].text);
        }
        cr_expect(strstr(sel.source, cases[c].text) != NULL);
        ms_selection_finish(&sel);
    }
}

Test(selection, garbage_and_reversed_ranges_are_clear_errors)
{
    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"10-5", "reversed; write 5-10"},
        {"abc", "'abc'"},
        {"-3", "'-3'"},
        {"1-", "'1-'"},
        {"1-2-3", "'1-2-3'"},
        {"4x", "'4x'"},
        {"", "selects no samples"},
        {"0-99999999999", "larger than"},
        {"99999999999999999999", "is not an id"},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_selection sel;
        struct ms_error err;
        cr_expect_eq(ms_selection_parse(&sel, cases[c].text, &err), MS_EINVAL,
                     "'%s'", cases[c].text);
        cr_expect(strstr(err.message, cases[c].needle) != NULL,
                  "'%s': '%s' lacks '%s'", cases[c].text, err.message,
                  cases[c].needle);
        cr_expect_null(sel.ids);
    }
}


Test(selection, list_files_take_one_id_a_line_with_comments,
     .init = helper_dir_setup, .fini = helper_dir_teardown)
{
    char *good = helper_write_text("ids.txt", "# training ids\n3\n\n  1 # first\n"
                                      "3\r\n2\n");
    struct ms_selection sel;
    struct ms_error err;
    cr_assert_eq(ms_selection_read_list(&sel, good, &err), 0, "%s",
                 err.message);
    cr_expect_eq(sel.count, 3);
    cr_expect_eq(sel.ids[0], 1);
    cr_expect_eq(sel.ids[2], 3);
    ms_selection_finish(&sel);
    char *bad = helper_write_text("bad.txt", "1\n2\nthree\n");
    cr_expect_eq(ms_selection_read_list(&sel, bad, &err), MS_EINVAL);
    cr_expect(strstr(err.message, "bad.txt:3") != NULL, "%s", err.message);
    char *two = helper_write_text("two.txt", "1 2\n");
    cr_expect_eq(ms_selection_read_list(&sel, two, &err), MS_EINVAL);
    cr_expect(strstr(err.message, "one id per line") != NULL);
    char *missing = helper_path(helper_dir, "nope.txt");
    cr_expect_eq(ms_selection_read_list(&sel, missing, &err), MS_ENOENT);
    /* A CR alone or a NUL is no line end (cutting the line there dropped
     * the ids after it, unseen), and a long line is one line. */
    char *cr = helper_write_text("cr.txt", "1\r2\r3\r");
    cr_expect_eq(ms_selection_read_list(&sel, cr, &err), MS_EINVAL);
    cr_expect(strstr(err.message, "cr.txt:1: one id per line") != NULL, "%s",
              err.message);
    char *nul = helper_path(helper_dir, "nul.txt");
    FILE *f = fopen(nul, "wb");
    cr_assert(f != NULL);
    fwrite("0\n1\0002\n3\n", 1, 8, f);
    fclose(f);
    cr_expect_eq(ms_selection_read_list(&sel, nul, &err), MS_EINVAL);
    cr_expect(strstr(err.message, "nul.txt:2: contains a NUL byte") != NULL,
              "%s", err.message);
    char text[400];
    snprintf(text, sizeof(text), "1%300s2\n", "");
    char *wide = helper_write_text("wide.txt", text);
    cr_expect_eq(ms_selection_read_list(&sel, wide, &err), MS_EINVAL);
    cr_expect(strstr(err.message, "wide.txt:1: one id per line") != NULL,
              "%s", err.message);
    free(good);
    free(bad);
    free(two);
    free(missing);
    free(cr);
    free(nul);
    free(wide);
}

Test(selection, splits_come_from_the_dataset, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_generate(helper_dir, "splits.h5", 10, 2, 20);
    static const struct {
        const char *name;
        size_t count;
        int64_t first;
    } cases[] = {{"train", 8, 0}, {"val", 1, 8}, {"test", 1, 9}};
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_selection sel;
        struct ms_error err;
        cr_assert_eq(ms_selection_from_split(&sel, path, cases[c].name, &err),
                     0, "%s", err.message);
        cr_expect_eq(sel.count, cases[c].count, "%s", cases[c].name);
        cr_expect_eq(sel.ids[0], cases[c].first, "%s", cases[c].name);
        ms_selection_finish(&sel);
    }
    struct ms_selection sel;
    struct ms_error err;
    cr_expect_eq(ms_selection_from_split(&sel, path, "holdout", &err),
                 MS_ENOTFOUND);
    cr_expect(strstr(err.message, "metadata/splits/holdout") != NULL);
    cr_expect_eq(ms_selection_from_split(&sel, path, "../data", &err),
                 MS_ENOTFOUND);
    free(path);
}

Test(selection, ids_missing_from_the_file_are_listed, .init = helper_dir_setup,
     .fini = helper_dir_teardown)
{
    char *path = helper_generate(helper_dir, "few.h5", 3, 2, 20);
    struct ms_selection sel;
    cr_assert_eq(ms_selection_parse(&sel, "1,2,7,40-41", NULL), 0);
    struct ms_options o;
    ms_options_init(&o);
    o.selection = &sel;
    struct ms_stats *s = NULL;
    struct ms_error err;
    cr_expect_eq(ms_stats_compute(path, &o, &s, &err), MS_ENOTFOUND);
    cr_expect(strstr(err.message, "3 selected sample ids are not in the "
                                  "dataset") != NULL,
              "%s", err.message);
    cr_expect(strstr(err.message, "7, 40, 41") != NULL, "%s", err.message);
    ms_selection_finish(&sel);
    /* A selection thousands of characters long (a training split passed
     * from Python) still shows the missing id, before its own text. */
    char text[8000];
    size_t used = (size_t)snprintf(text, sizeof(text), "0,1,2");
    for (int i = 100; i < 1500; i += 2) {
        used += (size_t)snprintf(text + used, sizeof(text) - used, ",%d", i);
    }
    cr_assert_eq(ms_selection_parse(&sel, text, NULL), 0);
    o.selection = &sel;
    cr_expect_eq(ms_stats_compute(path, &o, &s, &err), MS_ENOTFOUND);
    cr_expect(strstr(err.message, "dataset: 100, 102, 104") != NULL, "%s",
              err.message);
    ms_selection_finish(&sel);
    free(path);
}
