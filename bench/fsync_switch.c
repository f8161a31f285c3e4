/* Counts fsync/fdatasync per login and, for the "without fsync" rows, turns
 * them into no-ops, to separate the cost of durability (which differs by
 * module: ours syncs the file and the directory, the peers the file only, or
 * nothing on a failure) from the cost of the verification itself. */
#define _GNU_SOURCE
#include "preload.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_uint_fast64_t g_calls;
static atomic_int g_skip;

uint64_t bench_fsync_calls(void) { return (uint64_t)atomic_load(&g_calls); }
void bench_fsync_skip(int skip) { atomic_store(&g_skip, skip); }

typedef int (*sync_fn)(int);

int fsync(int fd)
{
    static sync_fn real;
    atomic_fetch_add(&g_calls, 1);
    if (atomic_load(&g_skip))
        return 0;
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}

int fdatasync(int fd)
{
    static sync_fn real;
    atomic_fetch_add(&g_calls, 1);
    if (atomic_load(&g_skip))
        return 0;
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}
