/*
 * test_library.c: libmeshstats as a program that embeds it sees it.  This
 * test links the shared library and includes only the public header: one
 * process runs many passes, from several threads, beside other libuv
 * users, and each pass runs on the workers it asks for and gives the bytes
 * it gives alone.  It is a plain TAP program (tap.h), not a Criterion
 * suite, so that the ThreadSanitizer stage can run it.
 */
#include "meshstats.h"
#include "tap.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

int tap_failures;

static char dir[] = "/tmp/meshstats-library-XXXXXX";
static char small[4200], large[4200], many[4200];

static void
make_file(char *path, size_t size, const char *name, unsigned samples,
          unsigned T, unsigned N)
{
    snprintf(path, size, "%s/%s", dir, name);
    struct ms_generate_options g;
    ms_generate_options_init(&g);
    g.samples = samples;
    g.timesteps = T;
    g.nodes = N;
    g.seed = samples;
    struct ms_error err;
    if (ms_generate(path, &g, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
}

static void
setup(void)
{
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        exit(1);
    }
    make_file(small, sizeof(small), "small.h5", 3, 20, 300);
    make_file(large, sizeof(large), "large.h5", 6, 40, 900);
    make_file(many, sizeof(many), "many.h5", 6000, 2, 10);
}

static void
teardown(void)
{
    unlink(small);
    unlink(large);
    unlink(many);
    rmdir(dir);
}

/* The entries of a /proc directory of this process, counted, but for
 * those skip (if any) says to leave out. */
static unsigned
entries_in(const char *path, bool (*skip)(const char *entry))
{
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        exit(1);
    }
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        n += e->d_name[0] != '.' && (skip == NULL || !skip(e->d_name));
    }
    closedir(d);
    return n;
}

/* The threads of this process now, counted by the kernel once the count
 * holds still: a thread just joined can linger in /proc/self/task for a
 * moment (and a sanitizer's own thread come or go), which made the count
 * before a pass one more than after it now and then (TSan, CI). */
static unsigned
threads_now(void)
{
    unsigned n = entries_in("/proc/self/task", NULL), again;
    for (int tries = 0; tries < 100; tries++) {
        usleep(20000);
        again = entries_in("/proc/self/task", NULL);
        if (again == n) {
            break;
        }
        n = again;
    }
    return n;
}

/* The open file descriptors of this process now (the count includes the
 * one that reads the directory, before and after alike). */
static unsigned
descriptors_now(void)
{
    return entries_in("/proc/self/fd", NULL);
}

/* Whether a thread of this process is the checks' thread, or has ended
 * meanwhile: it ends once every sample is checked and may or may not
 * have by a progress report (src/pass/planner.c). */
static bool
checks_or_gone(const char *tid)
{
    char path[300], name[32] = "";
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return true;
    }
    bool named = fgets(name, sizeof(name), f) != NULL;
    fclose(f);
    return !named || strcmp(name, "meshstats-check\n") == 0;
}

/* The threads of this process now but the checks' thread. */
static unsigned
threads_now_but_checks(void)
{
    return entries_in("/proc/self/task", checks_or_gone);
}

struct watch {
    unsigned most; /* the most threads seen while the pass ran */
};

static void
watch_threads(void *userdata, const struct ms_progress *p)
{
    struct watch *w = userdata;
    unsigned n = threads_now_but_checks();
    if (!p->finished && n > w->most) {
        w->most = n;
    }
}

static void *
run_nothing(void *arg)
{
    return arg;
}

/* A pass with the given workers, slowed so that the progress callback sees
 * it running; returns the most threads seen, less those before it. */
static unsigned
threads_of_a_pass(unsigned workers, unsigned *reported)
{
    struct ms_options o;
    ms_options_init(&o);
    o.workers = workers;
    o.read_throttle = 20u << 20; /* 20 MB/s: a few hundred ms */
    struct watch w = {0};
    o.on_progress = watch_threads;
    o.userdata = &w;
    unsigned before = threads_now();
    struct ms_stats *s = NULL;
    struct ms_error err;
    int rc = ms_stats_compute(large, &o, &s, &err);
    TAP_CHECK(rc == 0, "%s", err.message);
    *reported = rc == 0 ? s->info.workers : 0;
    ms_stats_destroy(s);
    TAP_CHECK(threads_now() == before, "the pass joined its threads");
    return w.most > before ? w.most - before : 0;
}

TAP_TEST(each_pass_runs_on_the_workers_it_asks_for)
{
    /* A first thread makes a sanitizer start its own background thread:
     * it is there before the passes counted here. */
    pthread_t warm;
    if (pthread_create(&warm, NULL, run_nothing, NULL) == 0) {
        pthread_join(warm, NULL);
    }
    static const unsigned asked[] = {1, 3, 2, 5};
    for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
        unsigned reported;
        unsigned ran = threads_of_a_pass(asked[i], &reported);
        TAP_CHECK(reported == asked[i], "pass %zu reports its workers", i);
        TAP_CHECK(ran == asked[i], "pass %zu asked for %u threads, ran %u",
                  i, asked[i], ran);
    }
}

static void
noop_work(uv_work_t *req)
{
    (void)req;
}

static void
noop_after(uv_work_t *req, int status)
{
    (void)req;
    (void)status;
}

TAP_TEST(another_libuv_user_and_the_environment_change_nothing)
{
    /* The host uses libuv's own threadpool first (sized once, for the
     * whole process, from UV_THREADPOOL_SIZE). */
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    uv_work_t req;
    TAP_CHECK(uv_queue_work(uv_default_loop(), &req, noop_work,
                            noop_after) == 0, "libuv's pool takes work");
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    unsigned reported;
    unsigned ran = threads_of_a_pass(3, &reported);
    TAP_CHECK(ran == 3 && reported == 3, "ran %u, reported %u", ran,
              reported);
    const char *env = getenv("UV_THREADPOOL_SIZE");
    TAP_CHECK(env != NULL && strcmp(env, "1") == 0,
              "the library left the host's environment as it was");
    unsetenv("UV_THREADPOOL_SIZE");
    threads_of_a_pass(2, &reported);
    TAP_CHECK(getenv("UV_THREADPOOL_SIZE") == NULL,
              "and sets nothing of its own");
}

/* The JSON of a pass over path with workers threads. */
static char *
json_of(const char *path, unsigned workers)
{
    struct ms_options o;
    ms_options_init(&o);
    o.workers = workers;
    o.memory_limit = 1 << 20;
    o.per_sample = true;
    struct ms_stats *s = NULL;
    struct ms_error err;
    if (ms_stats_compute(path, &o, &s, &err) != 0) {
        return strdup(err.message);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ms_stats_write_json(s, m);
    ms_stats_write_per_sample_csv(s, m);
    fclose(m);
    ms_stats_destroy(s);
    return buf;
}

struct pass {
    const char *path;
    unsigned workers;
    char *json;
};

static void *
run_pass(void *arg)
{
    struct pass *p = arg;
    p->json = json_of(p->path, p->workers);
    return NULL;
}

TAP_TEST(two_passes_at_once_give_the_bytes_of_each_alone)
{
    char *alone[2] = {json_of(small, 1), json_of(large, 1)};
    for (int round = 0; round < 4; round++) {
        struct pass passes[2] = {{small, 2, NULL}, {large, 3, NULL}};
        pthread_t threads[2];
        for (int i = 0; i < 2; i++) {
            if (pthread_create(&threads[i], NULL, run_pass, &passes[i])) {
                perror("pthread_create");
                exit(1);
            }
        }
        for (int i = 0; i < 2; i++) {
            pthread_join(threads[i], NULL);
            TAP_CHECK(strcmp(passes[i].json, alone[i]) == 0,
                      "round %d, pass %d", round, i);
            free(passes[i].json);
        }
    }
    TAP_CHECK(strcmp(alone[0], alone[1]) != 0, "two different files");
    free(alone[0]);
    free(alone[1]);
}

struct stopper {
    int polls, stop_at;
};

static bool
stop_after(void *userdata)
{
    struct stopper *s = userdata;
    return ++s->polls >= s->stop_at;
}

TAP_TEST(the_caller_can_stop_a_pass)
{
    for (int at = 1; at <= 3; at += 2) {
        struct ms_options o;
        ms_options_init(&o);
        o.workers = 2;
        o.read_throttle = 4u << 20; /* over a second: polled often */
        struct stopper st = {0, at};
        o.should_stop = stop_after;
        o.userdata = &st;
        unsigned before = threads_now();
        struct ms_stats *s = NULL;
        struct ms_error err;
        int rc = ms_stats_compute(large, &o, &s, &err);
        TAP_CHECK(rc == MS_ECANCELED && s == NULL, "stop at poll %d: %s", at,
                  ms_err_name(rc));
        TAP_CHECK(err.signal == 0 && strstr(err.message, "canceled") != NULL,
                  "%s", err.message);
        TAP_CHECK(st.polls == at, "no poll after the stop (%d)", st.polls);
        TAP_CHECK(threads_now() == before, "the threads were joined");
    }
}

/* A pass opens the file and the pipe its workers wake the loop with:
 * every pass closes them, finished, stopped or failed. */
TAP_TEST(passes_leave_no_descriptor_open)
{
    unsigned before = descriptors_now();
    for (int i = 0; i < 12; i++) {
        struct ms_options o;
        ms_options_init(&o);
        o.workers = 1 + i % 3;
        struct stopper st = {0, 1};
        if (i % 4 == 3) {
            o.should_stop = stop_after;
            o.userdata = &st;
            o.read_throttle = 4u << 20;
        }
        const char *path = i % 4 == 2 ? "/nonexistent/meshstats.h5" : small;
        struct ms_stats *s = NULL;
        struct ms_error err;
        int rc = ms_stats_compute(i % 4 == 3 ? large : path, &o, &s, &err);
        TAP_CHECK((rc == 0) == (i % 4 < 2), "pass %d: %s", i, ms_err_name(rc));
        ms_stats_destroy(s);
    }
    unsigned after = descriptors_now();
    TAP_CHECK(after == before, "%u descriptors open before 12 passes, %u after",
              before, after);
}

/* Checking 6000 samples takes well over 100 ms, and goes on beside the
 * reading (src/pass/stream.c): the caller is asked all the while, and the
 * pass stops at the first yes. */
TAP_TEST(the_caller_can_stop_a_pass_while_its_samples_are_checked)
{
    struct ms_options o;
    ms_options_init(&o);
    struct stopper st = {0, 1};
    o.should_stop = stop_after;
    o.userdata = &st;
    struct ms_stats *s = NULL;
    struct ms_error err;
    int rc = ms_stats_compute(many, &o, &s, &err);
    TAP_CHECK(rc == MS_ECANCELED && s == NULL, "%s", ms_err_name(rc));
    TAP_CHECK(strstr(err.message, "canceled by the caller") != NULL, "%s",
              err.message);
    TAP_CHECK(st.polls == 1, "polled %d times", st.polls);
}

int
main(void)
{
    static const struct tap_test tests[] = {
        {"each_pass_runs_on_the_workers_it_asks_for",
         each_pass_runs_on_the_workers_it_asks_for},
        {"another_libuv_user_and_the_environment_change_nothing",
         another_libuv_user_and_the_environment_change_nothing},
        {"two_passes_at_once_give_the_bytes_of_each_alone",
         two_passes_at_once_give_the_bytes_of_each_alone},
        {"the_caller_can_stop_a_pass", the_caller_can_stop_a_pass},
        {"the_caller_can_stop_a_pass_while_its_samples_are_checked",
         the_caller_can_stop_a_pass_while_its_samples_are_checked},
        {"passes_leave_no_descriptor_open", passes_leave_no_descriptor_open},
    };
    setup();
    int rc = tap_run("library", tests, sizeof(tests) / sizeof(tests[0]));
    teardown();
    return rc;
}
