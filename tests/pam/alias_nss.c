/* Preloaded into the PAM tests that need accounts: a user database that ignores case for
 * one account, as SSSD (case_sensitive = false), winbind or an LDAP server
 * with a case-insensitive uid attribute do. Every spelling of "alice" is
 * the account "alice"; a name starting with "nss-broken" makes the lookup
 * fail with EIO, like an unreachable directory server; "carol" is one more
 * account (spelled that way only); every other name goes to the real
 * getpwnam_r.
 * Groups, for the exemption tests: "tf-admins" (gid 61001) holds alice,
 * "tf-pilot" (gid 61002) holds carol, a group name starting with
 * "nss-broken" fails with EIO; every other name, and the groups of every
 * other user, go to the real getgrnam_r and getgrouplist. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
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

static int group_entry(const char* name, gid_t gid, const char* member, struct group* grp, char* buf, size_t buflen,
                       struct group** result)
{
    char* cursor = buf;
    size_t left = buflen;
    /* gr_mem: a NULL-terminated array of two pointers, first in the buffer
     * (aligned). */
    const size_t pad = (sizeof(char*) - (uintptr_t)buf % sizeof(char*)) % sizeof(char*);
    if (buflen < pad + 2 * sizeof(char*))
        return ERANGE;
    char** members = (char**)(void*)(buf + pad);
    cursor += pad + 2 * sizeof(char*);
    left -= pad + 2 * sizeof(char*);
    grp->gr_name = put(&cursor, &left, name);
    grp->gr_passwd = put(&cursor, &left, "x");
    members[0] = put(&cursor, &left, member);
    members[1] = NULL;
    if (grp->gr_name == NULL || grp->gr_passwd == NULL || members[0] == NULL)
        return ERANGE;
    grp->gr_gid = gid;
    grp->gr_mem = members;
    *result = grp;
    return 0;
}

int getgrnam_r(const char* name, struct group* grp, char* buf, size_t buflen, struct group** result)
{
    *result = NULL;
    if (strncmp(name, "nss-broken", strlen("nss-broken")) == 0)
        return EIO;
    if (strcmp(name, "tf-admins") == 0)
        return group_entry(name, 61001, "alice", grp, buf, buflen, result);
    if (strcmp(name, "tf-pilot") == 0)
        return group_entry(name, 61002, "carol", grp, buf, buflen, result);
    int (*real)(const char*, struct group*, char*, size_t, struct group**)
        = (int (*)(const char*, struct group*, char*, size_t, struct group**))dlsym(RTLD_NEXT, "getgrnam_r");
    return real == NULL ? ENOSYS : real(name, grp, buf, buflen, result);
}

static int group_list(gid_t primary, gid_t extra, gid_t* groups, int* ngroups)
{
    const int have = *ngroups;
    *ngroups = 2;
    if (have < 2)
        return -1;
    groups[0] = primary;
    groups[1] = extra;
    return 2;
}

int getgrouplist(const char* user, gid_t group, gid_t* groups, int* ngroups)
{
    if (strcmp(user, "alice") == 0)
        return group_list(group, 61001, groups, ngroups);
    if (strcmp(user, "carol") == 0)
        return group_list(group, 61002, groups, ngroups);
    int (*real)(const char*, gid_t, gid_t*, int*)
        = (int (*)(const char*, gid_t, gid_t*, int*))dlsym(RTLD_NEXT, "getgrouplist");
    return real == NULL ? -1 : real(user, group, groups, ngroups);
}
