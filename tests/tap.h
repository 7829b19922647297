/*
 * tap.h: a TAP harness for the test programs that cannot run under
 * Criterion (its sandbox, BoxFort, finds no room for its arena in a
 * ThreadSanitizer process), such as test_library.c, which the
 * ThreadSanitizer stage runs.
 *
 *   TAP_TEST(name) { ... TAP_CHECK(cond, "fmt", ...); ... }
 *   int main(void) { return tap_run("suite", tests, count); }
 *
 * A test fails if any of its checks fails; each failed check prints a
 * "# ..." diagnostic naming the condition, file and line.
 */
#ifndef MESHSTATS_TEST_TAP_H
#define MESHSTATS_TEST_TAP_H

#include <stdio.h>

struct tap_test {
    const char *name;
    void (*run)(void);
};

extern int tap_failures; /* of the running test */

#define TAP_TEST(name) static void name(void)

#define TAP_CHECK(cond, ...)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            tap_failures++;                                                  \
            printf("# %s:%d: check failed: %s: ", __FILE__, __LINE__,        \
                   #cond);                                                   \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
        }                                                                    \
    } while (0)

/* Run every test in order, print the plan and a line each; returns the
 * exit status (1 if any test failed). */
static inline int
tap_run(const char *suite, const struct tap_test *tests, size_t count)
{
    int failed = 0;
    printf("1..%zu\n", count);
    fflush(stdout);
    for (size_t i = 0; i < count; i++) {
        tap_failures = 0;
        tests[i].run();
        printf("%s %zu - %s::%s\n", tap_failures ? "not ok" : "ok", i + 1,
               suite, tests[i].name);
        fflush(stdout);
        failed += tap_failures != 0;
    }
    return failed != 0;
}

#endif
