/* The benchmark's LD_PRELOAD library (libbench_preload.so), loaded after
 * libpam_wrapper.so so every module under test goes through the same
 * interposed calls. pam_bench finds these through dlsym(RTLD_DEFAULT, ...);
 * without the library it reports "n/a" instead of counts.
 *   count_scrypt.c  scrypt evaluations (EVP_PBE_scrypt, EVP_KDF_derive SCRYPT)
 *   fake_clock.c    a settable wall clock (time, gettimeofday, CLOCK_REALTIME)
 *   fsync_switch.c  counts fsync/fdatasync; can turn them into no-ops
 *   syslog_sink.c   one logging cost for all modules (see there)
 *   user_db.c       the harness's users resolve like local accounts */
#ifndef TWOFACTOR_BENCH_PRELOAD_H
#define TWOFACTOR_BENCH_PRELOAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint64_t bench_scrypt_calls(void);

/* Freezes the wall clock at `unix_seconds`; all three clock entry points
 * return it (sub-second part zero) until released. */
void bench_clock_set(int64_t unix_seconds);
void bench_clock_release(void);

uint64_t bench_fsync_calls(void); /* fsync + fdatasync, skipped or not */
void bench_fsync_skip(int skip);  /* 1: return 0 without syncing */

uint64_t bench_syslog_calls(void); /* lines logged */

#ifdef __cplusplus
}
#endif

#endif
