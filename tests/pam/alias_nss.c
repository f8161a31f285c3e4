/* Preloaded into the PAM tests that need accounts: a user database that ignores case for
 * one account, as SSSD (case_sensitive = false), winbind or an LDAP server
 * with a case-insensitive uid attribute do. Every spelling of "alice" is
 * the account "alice"; a name starting with "nss-broken" makes the lookup
 * fail with EIO, like an unreachable directory server; "carol" is one more
 * account (spelled that way only); every other name goes to the real
 * getpwnam_r. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

static char* put(char** cursor, size_t* left, const char* s)
{
    const size_t n = strlen(s) + 1;
    if (n > *left)
        return NULL;
    char* out = *cursor;
    memcpy(out, s, n);
    *cursor += n;
    *left -= n;
    return out;
}

static int account(const char* name, uid_t uid, struct passwd* pwd, char* buf, size_t buflen, struct passwd** result)
{
    char* cursor = buf;
    size_t left = buflen;
    pwd->pw_name = put(&cursor, &left, name);
    pwd->pw_passwd = put(&cursor, &left, "x");
    pwd->pw_gecos = put(&cursor, &left, "");
    pwd->pw_dir = put(&cursor, &left, "/nonexistent");
    pwd->pw_shell = put(&cursor, &left, "/usr/sbin/nologin");
    if (pwd->pw_name == NULL || pwd->pw_passwd == NULL || pwd->pw_gecos == NULL || pwd->pw_dir == NULL
        || pwd->pw_shell == NULL)
        return ERANGE;
    pwd->pw_uid = uid;
    pwd->pw_gid = uid;
    *result = pwd;
    return 0;
}

int getpwnam_r(const char* name, struct passwd* pwd, char* buf, size_t buflen, struct passwd** result)
{
    *result = NULL;
    if (strncmp(name, "nss-broken", strlen("nss-broken")) == 0)
        return EIO;
    if (strcasecmp(name, "alice") == 0)
        return account("alice", 60001, pwd, buf, buflen, result);
    if (strcmp(name, "carol") == 0)
        return account("carol", 60002, pwd, buf, buflen, result);
    int (*real)(const char*, struct passwd*, char*, size_t, struct passwd**)
        = (int (*)(const char*, struct passwd*, char*, size_t, struct passwd**))dlsym(RTLD_NEXT, "getpwnam_r");
    return real == NULL ? ENOSYS : real(name, pwd, buf, buflen, result);
}
