/*
 * test_config.c: config.txt parsing and the shared value parsers.
 */
#include "internal.h"

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
        uint64_t v = 0;
        cr_expect_eq(ms_parse_size(cases[c].text, &v), cases[c].rc, "'%s'",
                     cases[c].text);
        if (cases[c].rc == 0) {
            cr_expect_eq(v, cases[c].want, "'%s'", cases[c].text);
        }
    }
}

Test(config, integers_bools_and_auto_are_range_checked)
{
    unsigned u;
    bool b;
    enum ms_progress_mode p;
    cr_expect_eq(ms_parse_uint("12", 1, 20, &u), 0);
    cr_expect_eq(u, 12);
    cr_expect_eq(ms_parse_uint("21", 1, 20, &u), MS_EINVAL);
    cr_expect_eq(ms_parse_uint(" 5", 1, 20, &u), MS_EINVAL);
    cr_expect_eq(ms_parse_uint("+5", 1, 20, &u), MS_EINVAL);
    cr_expect_eq(ms_parse_count_or_auto("AUTO", 8, &u), 0);
    cr_expect_eq(u, 0);
    cr_expect_eq(ms_parse_count_or_auto("0", 8, &u), MS_EINVAL);
    cr_expect_eq(ms_parse_bool("tRuE", &b), 0);
    cr_expect(b);
    cr_expect_eq(ms_parse_bool("1", &b), MS_EINVAL);
    cr_expect_eq(ms_parse_progress("Always", &p), 0);
    cr_expect_eq(p, MS_PROGRESS_ALWAYS);
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
