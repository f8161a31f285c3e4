/* A stand-in for sshd, for tests only (never installed): puts
 * SSH_AUTH_INFO_0 in the PAM environment, with pam_putenv as sshd does, from
 * the file named by its argument file=PATH. Its auth step returns PAM_IGNORE,
 * so the stack's result is the next module's. */
#define PAM_SM_AUTH
#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include <stdio.h>
#include <string.h>

int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    static const char prefix[] = "SSH_AUTH_INFO_0=";
    char entry[8192];
    const char* path = NULL;
    (void)flags;
    for (int i = 0; i < argc; ++i)
        if (strncmp(argv[i], "file=", 5) == 0)
            path = argv[i] + 5;
    if (path == NULL)
        return PAM_SERVICE_ERR;
    FILE* file = fopen(path, "r");
    if (file == NULL)
        return PAM_SERVICE_ERR;
    memcpy(entry, prefix, sizeof prefix);
    size_t length = sizeof prefix - 1;
    length += fread(entry + length, 1, sizeof entry - length - 1, file);
    entry[length] = '\0';
    fclose(file);
    return pam_putenv(pamh, entry) == PAM_SUCCESS ? PAM_IGNORE : PAM_SERVICE_ERR;
}

int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_IGNORE;
}
