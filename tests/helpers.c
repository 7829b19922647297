/*
 * helpers.c: fixtures and references for the tests (see helpers.h).
 */
#include "helpers.h"
#include "meshstats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

char *
helper_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);
    snprintf(dir, 4096, "%s/meshstats-test-XXXXXX",
             base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

void
helper_tmpdir_remove(char *dir)
{
    if (dir == NULL) {
        return;
    }
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    free(dir);
}

char *
helper_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

long double
ref_mean(const double *x, size_t n)
{
    if (n == 0) {
        return 0;
    }
    /* Sum deviations from the first value, so that a large offset does not
     * cost long double's digits. */
    long double shift = x[0], sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += (long double)x[i] - shift;
    }
    return shift + sum / n;
}

long double
ref_std(const double *x, size_t n)
{
    if (n == 0) {
        return 0;
    }
    long double mean = ref_mean(x, n), sum = 0;
    for (size_t i = 0; i < n; i++) {
        long double d = x[i] - mean;
        sum += d * d;
    }
    return sqrtl(sum / n);
}

hid_t
helper_h5_create(const char *path, int with_data)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (with_data) {
        H5Gclose(H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT));
    }
    return f;
}

static hid_t
sample_group(hid_t file, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "data/%s", name);
    if (H5Lexists(file, path, H5P_DEFAULT) > 0) {
        return H5Gopen2(file, path, H5P_DEFAULT);
    }
    return H5Gcreate2(file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

void
helper_h5_nodal(hid_t file, const char *name, hid_t file_type, int rank,
                const hsize_t *dims, const double *values)
{
    hid_t g = sample_group(file, name);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(g, "nodal_data", file_type, space, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    if (values != NULL) {
        H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                 values);
    }
    H5Dclose(d);
    H5Sclose(space);
    H5Gclose(g);
}

void
helper_h5_edges(hid_t file, const char *name, hid_t file_type,
                const int64_t *edges, size_t E)
{
    hid_t g = sample_group(file, name);
    hsize_t dims[2] = {2, E};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(g, "mesh_edge", file_type, space, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    if (E > 0) {
        H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, edges);
    }
    H5Dclose(d);
    H5Sclose(space);
    H5Gclose(g);
}

void
helper_h5_sample(hid_t file, const char *name, size_t F, size_t T, size_t N,
                 const double *values, const int64_t *edges, size_t E)
{
    hsize_t dims[3] = {F, T, N};
    helper_h5_nodal(file, name, H5T_IEEE_F64LE, 3, dims, values);
    helper_h5_edges(file, name, H5T_STD_I64LE, edges, E);
}

const char *
helper_exe(void)
{
    const char *exe = getenv("MESHSTATS_EXE");
    return exe && *exe ? exe : "meshstats";
}

static int
run_as(const char *const *args, char *err, size_t size, bool unprivileged)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        abort();
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (unprivileged && geteuid() == 0 &&
            (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
             setuid(65534) != 0)) {
            _exit(126);
        }
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    close(pipefd[1]);
    size_t used = 0;
    char sink[512];
    for (;;) {
        char *dst = err && used + 1 < size ? err + used : sink;
        size_t room = err && used + 1 < size ? size - used - 1 : sizeof(sink);
        ssize_t n = read(pipefd[0], dst, room);
        if (n <= 0) {
            break;
        }
        if (dst != sink) {
            used += (size_t)n;
        }
    }
    if (err) {
        err[used] = '\0';
    }
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
helper_run(const char *const *args, char *err, size_t size)
{
    return run_as(args, err, size, false);
}

int
helper_run_unprivileged(const char *const *args, char *err, size_t size)
{
    return run_as(args, err, size, true);
}

void
helper_fill(double *values, size_t F, size_t T, size_t N, double seed)
{
    for (size_t f = 0; f < F; f++) {
        for (size_t t = 0; t < T; t++) {
            for (size_t n = 0; n < N; n++) {
                double x = seed + 0.37 * f + 0.11 * t + 0.013 * n;
                values[(f * T + t) * N + n] = sin(x * 3.1) + 0.25 * cos(7 * x);
            }
        }
    }
}

char *
helper_generate(const char *dir, const char *name, unsigned samples,
                unsigned T, unsigned N)
{
    char *path = helper_path(dir, name);
    struct ms_generate_options g;
    ms_generate_options_init(&g);
    g.samples = samples;
    g.timesteps = T;
    g.nodes = N;
    struct ms_error err;
    if (ms_generate(path, &g, &err) != 0) {
        fprintf(stderr, "helper_generate: %s\n", err.message);
        abort();
    }
    return path;
}

char *helper_dir;

void
helper_dir_setup(void)
{
    helper_dir = helper_tmpdir();
}

void
helper_dir_teardown(void)
{
    helper_tmpdir_remove(helper_dir);
    helper_dir = NULL;
}

char *
helper_write_text(const char *name, const char *text)
{
    char *path = helper_path(helper_dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        abort();
    }
    return path;
}
