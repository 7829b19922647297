/*
 * test_cli.c: the meshstats command's exit statuses and messages, run as a
 * user would (the executable's path comes from MESHSTATS_EXE).
 */
#include "helpers.h"
#include "pass/pass.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *data;
static char err[8192];

static void
setup(void)
{
    helper_dir_setup();
    data = helper_generate(helper_dir, "cli.h5", 2, 4, 30);
}

static void
teardown(void)
{
    free(data);
    helper_dir_teardown();
}

#define RUN(...)                                                             \
    helper_run((const char *const[]){helper_exe(), __VA_ARGS__, NULL}, err, \
               sizeof(err))

Test(cli, success_help_and_version_exit_zero, .init = setup,
     .fini = teardown)
{
    cr_expect_eq(RUN(data), 0, "%s", err);
    cr_expect_eq(RUN("-q", "--json", "-", "-s", "2", "-j", "1", data), 0,
                 "%s", err);
    cr_expect_eq(RUN("--help"), 0);
    cr_expect_eq(RUN("--version"), 0);
}

Test(cli, usage_errors_exit_two_with_a_message, .init = setup,
     .fini = teardown)
{
    static const struct {
        const char *args[4];
        const char *needle;
    } cases[] = {
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"--workers", "zero"}, "--workers: 'zero' is not valid"},
        {{"-j", "0"}, "--workers: '0'"},
        {{"--prefetch", "-1"}, "--prefetch"},
        {{"--memory-limit", "lots"}, "--memory-limit: 'lots'"},
        {{"--progress", "maybe"}, "--progress"},
        {{"-s", "x"}, "--sample-timesteps"},
        {{"--input-var", "0"}, "--input-var"},
        {{"--json"}, "needs a value"},
        {{"a.h5", "b.h5"}, "unexpected argument 'b.h5'"},
        {{"-c", "/nonexistent/config.txt"}, "/nonexistent/config.txt"},
    };
    for (size_t c = 0; c < MS_ARRAY_SIZE(cases); c++) {
        const char *const *a = cases[c].args;
        const char *argv[7] = {helper_exe()};
        size_t n = 1;
        for (size_t i = 0; i < 4 && a[i]; i++) {
            argv[n++] = a[i];
        }
        if (strcmp(a[0], "a.h5") != 0 && strcmp(a[0], "--json") != 0) {
            argv[n++] = data;
        }
        argv[n] = NULL;
        cr_expect_eq(helper_run(argv, err, sizeof(err)), 2, "case %zu", c);
        cr_expect(strstr(err, cases[c].needle) != NULL,
                  "case %zu: '%s' lacks '%s'", c, err, cases[c].needle);
    }
}

Test(cli, no_dataset_anywhere_is_a_usage_error, .init = setup,
     .fini = teardown)
{
    char *cfg = helper_write_text("empty.txt", "% nothing\n");
    cr_expect_eq(RUN("-c", cfg), 2);
    cr_expect(strstr(err, "no dataset given") != NULL, "%s", err);
    free(cfg);
}

Test(cli, bad_config_value_exits_two_naming_file_and_line, .init = setup,
     .fini = teardown)
{
    char *cfg = helper_write_text("bad.txt", "input_var 4\nstats_workers many\n");
    cr_expect_eq(RUN("-c", cfg, data), 2);
    cr_expect(strstr(err, "bad.txt:2: stats_workers") != NULL, "%s", err);
    free(cfg);
}

Test(cli, config_supplies_dataset_and_command_line_overrides_it,
     .init = setup, .fini = teardown)
{
    char text[4096];
    snprintf(text, sizeof(text), "dataset_dir %s\ninput_var 9\n", data);
    char *cfg = helper_write_text("ok.txt", text);
    /* input_var 9 needs 12 rows; the generated file has 8: all skipped. */
    cr_expect_eq(RUN("-c", cfg), 1);
    cr_expect(strstr(err, "needs at least 12") != NULL, "%s", err);
    cr_expect_eq(RUN("-c", cfg, "--input-var", "4"), 0, "%s", err);
    free(cfg);
}

Test(cli, data_errors_exit_one_naming_the_file, .init = setup,
     .fini = teardown)
{
    char *text = helper_write_text("notes.h5", "hello\n");
    char *missing = helper_path(helper_dir, "missing.h5");
    cr_expect_eq(RUN(missing), 1);
    cr_expect(strstr(err, missing) != NULL, "%s", err);
    cr_expect_eq(RUN(text), 1);
    cr_expect(strstr(err, "not an HDF5 file") != NULL, "%s", err);
    cr_expect_eq(RUN("--memory-limit", "2K", data), 1);
    cr_expect(strstr(err, "--memory-limit") != NULL, "%s", err);
    free(text);
    free(missing);
}

Test(cli, write_back_to_read_only_file_fails_after_printing, .init = setup,
     .fini = teardown)
{
    /* Run as nobody when the tests run as root, for whom a 0444 file is
     * writable: the dataset and folder readable, the output folder open. */
    char *outdir = helper_path(helper_dir, "out");
    mkdir(outdir, 0777);
    chmod(outdir, 0777);
    chmod(helper_dir, 0755);
    chmod(data, 0444);
    char *json = helper_path(outdir, "out.json");
    int rc = helper_run_unprivileged(
        (const char *const[]){helper_exe(), "--write-back", "--json", json,
                              data, NULL},
        err, sizeof(err));
    chmod(data, 0644);
    cr_expect_eq(rc, 1, "%s", err);
    cr_expect(strstr(err, "cannot write back") != NULL, "%s", err);
    cr_expect(strstr(err, data) != NULL, "%s", err);
    FILE *f = fopen(json, "r");
    cr_expect_not_null(f, "the JSON is written even if write-back fails");
    if (f) {
        fclose(f);
    }
    hid_t h = H5Fopen(data, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_expect_eq(H5Lexists(h, "metadata/normalization_params", H5P_DEFAULT),
                 0, "nothing was written");
    H5Fclose(h);
    free(json);
    free(outdir);
}

Test(cli, generate_and_demo_work, .init = setup, .fini = teardown)
{
    char *out = helper_path(helper_dir, "gen.h5");
    cr_expect_eq(RUN("generate", out, "--samples", "2", "--timesteps", "3",
                     "--nodes", "20", "--gzip"),
                 0, "%s", err);
    cr_expect_eq(RUN(out), 0, "%s", err);
    cr_expect_eq(RUN("generate", out, "--nodes", "many"), 2);
    cr_expect_eq(RUN("generate"), 2);
    cr_expect_eq(RUN("demo", "-q"), 0, "%s", err);
    free(out);
}
