/*
 * timesteps.c: which timesteps of a sample are used (docs/spec.md section 3).
 *
 * A selection is (count, last): its k-th timestep is
 * numpy.linspace(0, last, count, dtype=int)[k], i.e. floor(k * step) with
 * step = last / (count - 1) in double and the final entry equal to last.
 * Full mode is the case count == last + 1, where step is exactly 1 and the
 * k-th timestep is k, so one rule serves both modes and a selection costs
 * no memory whatever T is.  Pure functions: no allocation, no I/O.
 */
#include "pass/pass.h"

#include <math.h>

size_t
ms__linspace_at(size_t last, size_t count, size_t k)
{
    if (count <= 1 || k == 0) {
        return 0;
    }
    if (k >= count - 1) {
        return last;
    }
    /* numpy: y = arange(count) * (last / (count - 1)), then astype(int),
     * which truncates; the values are non-negative so that is floor. */
    double step = (double)last / (double)(count - 1);
    return (size_t)floor((double)k * step);
}

size_t
ms__timesteps_at(const struct ms_timesteps *sel, size_t k)
{
    return sel->first + ms__linspace_at(sel->last, sel->count, k);
}

static void
select_from(size_t available, unsigned max_timesteps, struct ms_timesteps *out)
{
    out->first = 0;
    out->last = available ? available - 1 : 0;
    out->count = available;
    if (max_timesteps != 0 && max_timesteps < available) {
        out->count = max_timesteps;
    }
}

void
ms__node_timesteps(size_t T, unsigned max_timesteps, struct ms_timesteps *out)
{
    select_from(T, max_timesteps, out);
}

void
ms__delta_timesteps(size_t T, unsigned max_timesteps,
                    struct ms_timesteps *out)
{
    if (T == 1) {
        /* The change from a zero initial state: one delta, d[0] itself. */
        out->count = 1;
        out->last = 0;
        out->first = 0;
        return;
    }
    select_from(T == 0 ? 0 : T - 1, max_timesteps, out);
}

void
ms__trajectory_frames(size_t T, unsigned max_timesteps,
                      struct ms_timesteps *out)
{
    select_from(T >= 3 ? T - 2 : 0, max_timesteps, out);
    out->first = 1;
}
