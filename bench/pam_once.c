/* One login per process, the way sshd, login and su run PAM: a C program
 * that links only libpam (run under pam_wrapper and libbench_preload.so by
 * scripts/bench). Like pamtester, but it answers every prompt with CODE
 * from the command line and installs a fail-delay function that does not
 * sleep, so a refused login measures work, not libpam's delay. Prints the
 * wall time from pam_start to the end of pam_end in microseconds: all of a
 * module's cost in a fresh process (libpam loads it in pam_start and unloads
 * it in pam_end), without the process start-up that is the same for all.
 *
 * Usage: pam_once SERVICE USER CODE
 * Exit status: 0 PAM_SUCCESS, 1 PAM_AUTH_ERR, 2 anything else (with a line
 * on stderr), 3 bad usage. */
#include <security/pam_appl.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int converse(int n, const struct pam_message** msg, struct pam_response** resp, void* data)
{
    const char* code = data;
    struct pam_response* r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i) {
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF && msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        r[i].resp = strdup(code);
        if (r[i].resp == NULL) {
            for (int j = 0; j < i; ++j)
                free(r[j].resp);
            free(r);
            return PAM_BUF_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static void no_delay(int status, unsigned int usec, void* appdata)
{
    (void)status;
    (void)usec;
    (void)appdata;
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pam_once SERVICE USER CODE\n");
        return 3;
    }
    const struct pam_conv conv = {converse, argv[3]};
    pam_handle_t* pamh = NULL;
    /* sshd looks the user up before it starts PAM (getpwnamallow, in the
     * very process that then runs the modules), and so do login and su:
     * the user database is set up (nsswitch.conf read, nscd tried) before
     * any module runs. Do the same, untimed, so a module that looks the
     * user up pays a lookup, not that set-up. */
    {
        char buffer[16384];
        struct passwd entry, *found = NULL;
        (void)getpwnam_r(argv[2], &entry, buffer, sizeof buffer, &found);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = pam_start(argv[1], argv[2], &conv, &pamh);
    if (rc == PAM_SUCCESS) {
        void (*delay)(int, unsigned int, void*) = no_delay;
        pam_set_item(pamh, PAM_RHOST, "203.0.113.5");
        pam_set_item(pamh, PAM_TTY, "ssh");
        pam_set_item(pamh, PAM_FAIL_DELAY, (const void*)delay);
        rc = pam_authenticate(pamh, 0);
    }
    if (rc != PAM_SUCCESS && rc != PAM_AUTH_ERR)
        fprintf(stderr, "pam_once: %s: %s\n", argv[1], pam_strerror(pamh, rc));
    if (pamh != NULL)
        pam_end(pamh, rc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.1f\n", (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3);
    return rc == PAM_SUCCESS ? 0 : rc == PAM_AUTH_ERR ? 1 : 2;
}
