/*
 * test_config.c: config.txt parsing and the settings table, through which
 * the config file and the command line parse every value.
 */
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <string.h>

static int
parse(struct ms_settings *s, const char *text, struct ms_error *err)
{
    ms_settings_init(s);
    return ms_settings_parse_config(s, text, strlen(text), "config.txt", err);
}

Test(config, keys_comments_tabs_and_case_are_understood)
{
    static const char text[] =
        "% MeshGraphNets training configuration\n"
        "model\tMeshGraphNets   # the training pipeline's own key\n"
        "Input_Var\t5\n"
        "OUTPUT_VAR   3   # trailing comment\n"
        "  max_timesteps_for_stats 50\n"
        "use_parallel_stats FALSE\n"
        "stats_memory_limit 1G\n"
        "prefetch_depth\t\tauto\n"
        "write_normalization_params true\r\n"
        "progress never\n"
        "dataset_dir ./dataset/plate.h5\n"
        "\n"
        "% learning_rate 1e-4\n";
    struct ms_settings s;
    struct ms_error err;
    cr_assert_eq(parse(&s, text, &err), 0, "%s", err.message);
    cr_expect_eq(s.options.model, MS_MODEL_AUTO); /* MeshGraphNets */
    cr_expect_eq(s.options.input_var, 5);
    cr_expect_eq(s.options.output_var, 3);
    cr_expect_eq(s.options.max_timesteps, 50);
    cr_expect_eq(s.use_parallel_stats, false);
    cr_expect_eq(s.options.memory_limit, 1ULL << 30);
    cr_expect_eq(s.options.prefetch, 0);
    cr_expect_eq(s.write_back, true);
    cr_expect_eq(s.progress, MS_PROGRESS_NEVER);
    cr_expect_str_eq(s.dataset, "./dataset/plate.h5");
    cr_expect_eq(ms_settings_workers(&s), 1, "use_parallel_stats False");
    ms_settings_finish(&s);
}

Test(config, bad_values_name_the_line_and_key)
{
    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"input_var 4\ninput_var four\n", "config.txt:2: input_var"},
        {"output_var 0\n", "config.txt:1: output_var"},
        {"\n\nmax_timesteps_for_stats -3\n", "config.txt:3:"},
        {"stats_memory_limit 12Q\n", "stats_memory_limit"},
        {"stats_memory_limit 0\n", "stats_memory_limit"},
        {"use_parallel_stats yes\n", "True or False"},
        {"stats_workers 0\n", "stats_workers"},
        {"stats_workers 99999\n", "stats_workers"},
        {"progress sometimes\n", "progress"},
        {"input_var\n", "missing value"},
        {"input_var 4x\n", "'4x'"},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_settings s;
        struct ms_error err;
        cr_expect_eq(parse(&s, cases[c].text, &err), MS_EINVAL, "case %zu",
                     c);
        cr_expect(strstr(err.message, cases[c].needle) != NULL,
                  "case %zu: '%s' lacks '%s'", c, err.message,
                  cases[c].needle);
        ms_settings_finish(&s);
    }
}

Test(config, unknown_keys_and_empty_text_leave_defaults)
{
    struct ms_settings s;
    cr_assert_eq(parse(&s, "batch_size 8\nlr 0.001\n# only comments\n",
                       NULL),
                 0);
    cr_expect_eq(s.options.input_var, 4);
    cr_expect_eq(s.options.output_var, 4);
    cr_expect_eq(s.options.max_timesteps, 0);
    cr_expect_eq(s.options.memory_limit, 256ULL << 20);
    cr_expect_eq(s.write_back, false);
    cr_expect_null(s.dataset);
    ms_settings_finish(&s);
    cr_assert_eq(parse(&s, "", NULL), 0);
    ms_settings_finish(&s);
}

Test(config, later_lines_override_earlier_ones)
{
    struct ms_settings s;
    cr_assert_eq(parse(&s, "dataset_dir a.h5\ndataset_dir b.h5\n"
                           "stats_workers 3\n",
                       NULL),
                 0);
    cr_expect_str_eq(s.dataset, "b.h5");
    cr_expect_eq(ms_settings_workers(&s), 3);
    ms_settings_finish(&s);
}

Test(config, nul_byte_is_rejected)
{
    struct ms_settings s;
    struct ms_error err;
    ms_settings_init(&s);
    cr_expect_eq(ms_settings_parse_config(&s, "input_var 4\n\0x", 14, "c",
                                          &err),
                 MS_EINVAL);
    cr_expect(strstr(err.message, "c:2") != NULL, "%s", err.message);
    ms_settings_finish(&s);
}

Test(config, a_utf8_byte_order_mark_is_not_part_of_the_first_key)
{
    /* (before: "\xEF\xBB\xBFinput_var" was an unknown key, silently) */
    struct ms_settings s;
    struct ms_error err;
    ms_settings_init(&s);
    const char text[] = "\xEF\xBB\xBFinput_var 3\r\noutput_var 2\r\n";
    cr_assert_eq(ms_settings_parse_config(&s, text, sizeof(text) - 1, "c",
                                          &err),
                 0, "%s", err.message);
    cr_expect_eq(s.options.input_var, 3);
    cr_expect_eq(s.options.output_var, 2);
    ms_settings_finish(&s);
}

Test(config, missing_file_is_enoent)
{
    struct ms_settings s;
    struct ms_error err;
    ms_settings_init(&s);
    cr_expect_eq(ms_settings_load_config(&s, "/nonexistent/config.txt", &err),
                 MS_ENOENT);
    cr_expect(strstr(err.message, "/nonexistent/config.txt") != NULL);
    ms_settings_finish(&s);
}

/* Set one setting from text as the command line would. */
static int
set(struct ms_settings *s, enum ms_setting k, const char *text,
    struct ms_error *err)
{
    return ms_settings_set(s, k, text,
                           (struct ms_origin){MS_ORIGIN_COMMAND_LINE, 0},
                           "--x", err);
}

Test(config, sizes_parse_with_binary_suffixes)
{
    static const struct {
        const char *text;
        uint64_t want;
        int rc;
    } cases[] = {
        {"4096", 4096, 0},       {"64K", 64 << 10, 0},
        {"256M", 256 << 20, 0},  {"256MB", 256 << 20, 0},
        {"256MiB", 256 << 20, 0}, {"2g", 2ULL << 30, 0},
        {"1T", 1ULL << 40, 0},   {"0", 0, MS_EINVAL},
        {"", 0, MS_EINVAL},      {"M", 0, MS_EINVAL},
        {"-5M", 0, MS_EINVAL},   {"5X", 0, MS_EINVAL},
        {"5MBs", 0, MS_EINVAL},  {"99999999999999999999", 0, MS_EINVAL},
        {"17179869184G", 0, MS_EINVAL},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_settings s;
        ms_settings_init(&s);
        cr_expect_eq(set(&s, MS_SET_MEMORY_LIMIT, cases[c].text, NULL),
                     cases[c].rc, "'%s'", cases[c].text);
        uint64_t want = cases[c].rc == 0 ? cases[c].want : 256ULL << 20;
        cr_expect_eq(s.options.memory_limit, want,
                     "'%s' (a bad value changes nothing)", cases[c].text);
        ms_settings_finish(&s);
    }
}

Test(config, integers_bools_and_auto_are_range_checked)
{
    static const struct {
        enum ms_setting setting;
        const char *text;
        int rc;
    } cases[] = {
        {MS_SET_INPUT_VAR, "12", 0},       {MS_SET_INPUT_VAR, "1024", 0},
        {MS_SET_INPUT_VAR, "1025", MS_EINVAL},
        {MS_SET_INPUT_VAR, " 5", MS_EINVAL},
        {MS_SET_INPUT_VAR, "+5", MS_EINVAL},
        {MS_SET_WORKERS, "AUTO", 0},       {MS_SET_WORKERS, "0", MS_EINVAL},
        {MS_SET_PREFETCH, "4096", 0},      {MS_SET_PREFETCH, "4097", MS_EINVAL},
        {MS_SET_WRITE_BACK, "tRuE", 0},    {MS_SET_WRITE_BACK, "1", MS_EINVAL},
        {MS_SET_PROGRESS, "Always", 0},    {MS_SET_PROGRESS, "x", MS_EINVAL},
        {MS_SET_THROTTLE, "700", 0},       {MS_SET_THROTTLE, "0", MS_EINVAL},
        {MS_SET_SAMPLES, "1-3,7", 0},      {MS_SET_SAMPLES, "3-1", MS_EINVAL},
        {MS_SET_TOP, "5", 0},              {MS_SET_TOP, "0", MS_EINVAL},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_settings s;
        struct ms_error err;
        ms_settings_init(&s);
        int rc = set(&s, cases[c].setting, cases[c].text, &err);
        cr_expect_eq(rc, cases[c].rc, "case %zu '%s'", c, cases[c].text);
        char expected[96];
        ms_setting_expected(cases[c].setting, expected, sizeof(expected));
        /* Each bad value is named after where it was given, with what is
         * expected (a selection says what is wrong in its own words). */
        bool ids = cases[c].setting == MS_SET_SAMPLES;
        if (rc != 0) {
            cr_expect(strncmp(err.message, "--x: ", 5) == 0 &&
                          (ids ? strstr(err.message, "reversed") != NULL
                               : strstr(err.message, expected) != NULL),
                      "case %zu: %s", c, err.message);
        }
        ms_settings_finish(&s);
    }
    struct ms_settings s;
    ms_settings_init(&s);
    cr_assert_eq(set(&s, MS_SET_THROTTLE, "700", NULL), 0);
    cr_expect_eq(s.options.read_throttle, 700000000u, "MB/s as bytes/s");
    cr_assert_eq(set(&s, MS_SET_WRITE_BACK, "tRuE", NULL), 0);
    cr_expect(s.write_back);
    cr_assert_eq(set(&s, MS_SET_PROGRESS, "Always", NULL), 0);
    cr_expect_eq(s.progress, MS_PROGRESS_ALWAYS);
    ms_settings_finish(&s);
}

Test(config, every_setting_has_one_row_and_distinct_names)
{
    for (int k = 0; k < MS_SET_COUNT; k++) {
        const struct ms_setting_info *in = ms_setting_info(k);
        cr_assert_not_null(in);
        cr_expect_eq(in->setting, k, "row %d is its own setting", k);
        cr_expect(in->key != NULL || in->option != NULL, "row %d", k);
        cr_expect(in->help != NULL && in->help[0] != '\0', "row %d", k);
        for (int j = 0; j < k; j++) {
            const struct ms_setting_info *o = ms_setting_info(j);
            cr_expect(!in->key || !o->key || strcmp(in->key, o->key) != 0,
                      "key %s twice", in->key);
            cr_expect(!in->option || !o->option ||
                          strcmp(in->option, o->option) != 0,
                      "option %s twice", in->option);
            cr_expect(!in->short_option ||
                          in->short_option != o->short_option,
                      "-%c twice", in->short_option);
        }
        enum ms_setting found;
        if (in->key != NULL) {
            cr_expect_eq(ms_setting_find_key(in->key, &found), 0);
            cr_expect_eq(found, k);
        }
    }
    cr_expect_null(ms_setting_info(MS_SET_COUNT));
}

Test(config, explicit_workers_win_over_use_parallel_stats_false)
{
    /* use_parallel_stats False means one worker, unless a count or auto
     * is given explicitly, in the file or on the command line. */
    static const struct {
        const char *file;
        const char *option; /* -j, or NULL */
        unsigned want;
    } cases[] = {
        {"use_parallel_stats False\n", NULL, 1},
        {"use_parallel_stats False\n", "auto", 0},
        {"use_parallel_stats False\n", "3", 3},
        {"use_parallel_stats False\nstats_workers auto\n", NULL, 0},
        {"stats_workers 2\nuse_parallel_stats False\n", NULL, 2},
        {"use_parallel_stats True\n", NULL, 0},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        struct ms_settings s;
        cr_assert_eq(parse(&s, cases[c].file, NULL), 0);
        if (cases[c].option != NULL) {
            cr_assert_eq(set(&s, MS_SET_WORKERS, cases[c].option, NULL), 0);
        }
        cr_expect_eq(ms_settings_workers(&s), cases[c].want, "case %zu", c);
        ms_settings_finish(&s);
    }
}

Test(config, every_allocation_failure_returns_enomem)
{
    static const char text[] = "dataset_dir ./a/b.h5\ninput_var 5\n";
    for (uint64_t n = 1; n < 100; n++) {
        struct ms_settings s;
        struct ms_error err;
        ms_settings_init(&s);
        ms__alloc_fail_after(n);
        int rc = ms_settings_parse_config(&s, text, strlen(text), "c", &err);
        ms__alloc_fail_after(0);
        ms_settings_finish(&s);
        if (rc == 0) {
            cr_expect_gt(n, 1, "parsing allocates");
            return;
        }
        cr_expect_eq(rc, MS_ENOMEM, "allocation %llu: %s",
                     (unsigned long long)n, err.message);
    }
    cr_expect_fail("parsing never succeeded");
}

Test(config, model_names_a_model_or_the_network_family)
{
    struct ms_settings s;
    struct ms_error err;
    cr_assert_eq(parse(&s, "model cloth\n", &err), 0, "%s", err.message);
    cr_expect_eq(s.options.model, MS_MODEL_CLOTH);
    ms_settings_finish(&s);
    cr_assert_eq(parse(&s, "model PLATE\n", &err), 0, "%s", err.message);
    cr_expect_eq(s.options.model, MS_MODEL_PLATE);
    ms_settings_finish(&s);
    cr_expect_eq(parse(&s, "model flag\n", &err), MS_EINVAL);
    cr_expect(strstr(err.message, "auto, nodal, cloth, cfd or plate") != NULL,
              "%s", err.message);
    ms_settings_finish(&s);
}
