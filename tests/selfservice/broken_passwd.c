/* Preloaded into a copy of twofactor(1) that root runs without the setuid
 * bit (a setuid program ignores LD_PRELOAD): every passwd lookup fails with
 * EIO, as when the directory server behind NSS cannot be reached. The tool
 * must stop on that error, not take it for an account that does not exist. */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>

int getpwuid_r(uid_t uid, struct passwd* pwd, char* buf, size_t buflen, struct passwd** result)
{
    (void)uid;
    (void)pwd;
    (void)buf;
    (void)buflen;
    *result = NULL;
    return EIO;
}

int getpwnam_r(const char* name, struct passwd* pwd, char* buf, size_t buflen, struct passwd** result)
{
    (void)name;
    (void)pwd;
    (void)buf;
    (void)buflen;
    *result = NULL;
    return EIO;
}
