/* Gives every module the same logging cost. Without a syslog daemon
 * (no /dev/log, as on this build machine) glibc's syslog() falls back to
 * writing each line to /dev/console when the caller asked for LOG_CONS
 * (google-authenticator does), while pam_wrapper swallows pam_syslog()
 * (ours, pam_oath) unless PAM_WRAPPER_USE_SYSLOG is set -- so one module
 * would pay for a console write and another for nothing. scripts/bench sets
 * PAM_WRAPPER_USE_SYSLOG=1 and this file takes every syslog entry point:
 * the line is formatted as syslog() would (priority, time stamp, message)
 * and written to /dev/null, one write per line. */
#define _GNU_SOURCE
#include "preload.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static atomic_uint_fast64_t g_lines;
static int g_fd = -1;

uint64_t bench_syslog_calls(void) { return (uint64_t)atomic_load(&g_lines); }

static void emit(int priority, const char* format, va_list ap)
{
    char line[2048];
    char stamp[32];
    struct tm tm;
    const time_t now = time(NULL);
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%h %e %T", &tm);
    int n = snprintf(line, sizeof line, "<%d>%s bench[%d]: ", priority, stamp, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    const int m = vsnprintf(line + n, sizeof line - (size_t)n, format, ap);
    if (m > 0)
        n += (size_t)m < sizeof line - (size_t)n ? m : (int)(sizeof line - (size_t)n - 1);
    if (g_fd < 0)
        g_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (write(g_fd, line, (size_t)n) < 0) {
        /* nothing to do */
    }
    atomic_fetch_add(&g_lines, 1);
}

void vsyslog(int priority, const char* format, va_list ap) { emit(priority, format, ap); }

void syslog(int priority, const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    emit(priority, format, ap);
    va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char* format, va_list ap)
{
    (void)flag;
    emit(priority, format, ap);
}

void __syslog_chk(int priority, int flag, const char* format, ...)
{
    va_list ap;
    (void)flag;
    va_start(ap, format);
    emit(priority, format, ap);
    va_end(ap);
}
