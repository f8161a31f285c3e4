// A minimal pamtester for the concurrency test: `pam_login_driver SERVICE
// USER` reads answers from stdin, one per line, and for each runs a whole
// PAM transaction (pam_start, pam_authenticate answering the one prompt with
// that line, pam_end), printing "result RC" on stdout. A long-lived process
// per login slot keeps fifty rounds of sixteen simultaneous logins cheap
// (sixteen processes, not eight hundred), while each transaction still has
// its own handle and its own process. Unlike pamtester it installs a
// PAM_FAIL_DELAY function, so the fifteen failures a round do not sleep.
// The module's log lines go to stderr, "[pam_syslog PRIORITY] LINE".
#include <security/pam_appl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

extern "C" int answer_with_line(int num_msg, const pam_message** msg, pam_response** resp, void* appdata)
{
    const auto* line = static_cast<const std::string*>(appdata);
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(num_msg), sizeof(pam_response)));
    if (replies == nullptr)
        return PAM_BUF_ERR;
    for (int i = 0; i < num_msg; ++i) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            replies[i].resp = ::strdup(line->c_str());
    }
    *resp = replies;
    return PAM_SUCCESS;
}

extern "C" void no_delay(int /*status*/, unsigned /*usec*/, void* /*appdata*/) {}

int one_login(const char* service, const char* user, const std::string& answer)
{
    pam_conv conv{answer_with_line, const_cast<std::string*>(&answer)};
    pam_handle_t* ph = nullptr;
    int rc = pam_start(service, user, &conv, &ph);
    if (rc != PAM_SUCCESS)
        return rc;
    pam_set_item(ph, PAM_RHOST, "192.0.2.1");
    pam_set_item(ph, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&no_delay));
    rc = pam_authenticate(ph, 0);
    pam_end(ph, rc);
    return rc;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SERVICE USER < answers\n", argv[0]);
        return 2;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        const int rc = one_login(argv[1], argv[2], line);
        std::cout << "result " << rc << std::endl; // flushed: the test waits for it
    }
    return 0;
}
