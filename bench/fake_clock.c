/* A wall clock the harness can set, so every module sees the same time and
 * a TOTP step can be moved forward between logins without sleeping (each
 * module's replay refusal then sees a fresh step). Only the wall clock is
 * touched: CLOCK_MONOTONIC (the harness's stopwatch, lock timeouts) passes
 * through untouched. Same idea as libfaketime, without its per-call parsing.
 * BENCH_FAKE_TIME in the environment sets it for a whole process. */
#define _GNU_SOURCE
#include "preload.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static atomic_int g_frozen;
static _Atomic int64_t g_now;

void bench_clock_set(int64_t unix_seconds)
{
    atomic_store(&g_now, unix_seconds);
    atomic_store(&g_frozen, 1);
}

void bench_clock_release(void) { atomic_store(&g_frozen, 0); }

/* For programs that cannot call bench_clock_set (pamtester): BENCH_FAKE_TIME
 * (Unix seconds) freezes the clock from the start. */
__attribute__((constructor)) static void clock_from_environment(void)
{
    const char* text = getenv("BENCH_FAKE_TIME");
    if (text && *text) {
        char* end = NULL;
        const long long t = strtoll(text, &end, 10);
        if (end && *end == '\0' && t > 0)
            bench_clock_set((int64_t)t);
    }
}

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);
typedef int (*gettimeofday_fn)(struct timeval*, void*);
typedef time_t (*time_fn)(time_t*);

static int is_wall(clockid_t id) { return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE; }

int clock_gettime(clockid_t id, struct timespec* ts)
{
    static clock_gettime_fn real;
    if (atomic_load(&g_frozen) && is_wall(id)) {
        ts->tv_sec = (time_t)atomic_load(&g_now);
        ts->tv_nsec = 0;
        return 0;
    }
    if (!real)
        real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    return real(id, ts);
}

int gettimeofday(struct timeval* tv, void* tz)
{
    static gettimeofday_fn real;
    if (atomic_load(&g_frozen)) {
        tv->tv_sec = (time_t)atomic_load(&g_now);
        tv->tv_usec = 0;
        return 0;
    }
    if (!real)
        real = (gettimeofday_fn)dlsym(RTLD_NEXT, "gettimeofday");
    return real(tv, tz);
}

time_t time(time_t* out)
{
    static time_fn real;
    if (atomic_load(&g_frozen)) {
        time_t t = (time_t)atomic_load(&g_now);
        if (out)
            *out = t;
        return t;
    }
    if (!real)
        real = (time_fn)dlsym(RTLD_NEXT, "time");
    return real(out);
}
