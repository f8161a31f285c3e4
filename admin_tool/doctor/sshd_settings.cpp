#include "sshd_settings.hpp"

#include <sstream>
#include <vector>

namespace twofactor::doctor {

namespace {

std::vector<std::string> split(const std::string& s, char separator)
{
    std::vector<std::string> out;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, separator))
        if (!part.empty())
            out.push_back(part);
    return out;
}

// "keyboard-interactive:pam" is keyboard-interactive with a device.
std::string method_name(const std::string& method) { return method.substr(0, method.find(':')); }

bool has_method(const std::vector<std::string>& list, const std::string& name)
{
    for (const std::string& m : list)
        if (method_name(m) == name)
            return true;
    return false;
}

std::string value(const SshdSettings& settings, const std::string& key)
{
    const auto it = settings.find(key);
    return it == settings.end() ? "" : it->second;
}

} // namespace

SshdSettings parse_sshd_settings(std::string_view output)
{
    SshdSettings settings;
    std::istringstream in{std::string(output)};
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t space = line.find(' ');
        if (space == std::string::npos)
            continue;
        // The first value wins, as in sshd_config.
        settings.emplace(line.substr(0, space), line.substr(space + 1));
    }
    return settings;
}

Findings analyse_sshd_settings(const SshdSettings& settings, const SshdNeeds& needs)
{
    Findings out;
    auto add = [&](Level level, std::string seen, std::string fix) {
        out.push_back({level, "sshd", std::move(seen), std::move(fix)});
    };
    if (value(settings, "usepam") != "yes") {
        add(needs.module_in_stack ? Level::fail : Level::warn,
            "UsePAM " + value(settings, "usepam") + ": sshd never runs the PAM stack, so ssh logins ask no code",
            "set \"UsePAM yes\" in sshd_config");
        return out;
    }
    if (!needs.module_in_stack) {
        add(Level::ok, "UsePAM yes; the sshd PAM stack asks no code, so the other settings do not matter", "");
        return out;
    }
    std::string kbd = value(settings, "kbdinteractiveauthentication");
    if (kbd.empty()) // OpenSSH before 8.7
        kbd = value(settings, "challengeresponseauthentication");
    if (kbd != "yes")
        add(Level::fail,
            "KbdInteractiveAuthentication " + kbd + ": the code prompt has no way to reach the user, "
                + "no login through PAM can succeed",
            "set \"KbdInteractiveAuthentication yes\" in sshd_config");

    const std::string methods = value(settings, "authenticationmethods");
    std::vector<std::vector<std::string>> lists;
    if (!methods.empty() && methods != "any")
        for (const std::string& list : split(methods, ' '))
            lists.push_back(split(list, ','));
    bool password_usable = lists.empty();
    for (const auto& list : lists)
        password_usable = password_usable || has_method(list, "password");
    if (value(settings, "passwordauthentication") == "yes" && password_usable)
        add(Level::fail,
            "PasswordAuthentication yes: the password method answers the code prompt with the password "
            "(a failed code, counted toward the lockout)",
            "set \"PasswordAuthentication no\" (the password is asked through keyboard-interactive)");

    if (lists.empty()) {
        if (value(settings, "pubkeyauthentication") == "yes")
            add(Level::warn,
                "AuthenticationMethods any: a public key alone logs in, without PAM's auth stack "
                "and without a code",
                "set \"AuthenticationMethods publickey,keyboard-interactive\" (or keyboard-interactive)");
    } else {
        for (const auto& list : lists) {
            std::string joined;
            for (const std::string& m : list)
                joined += (joined.empty() ? "" : ",") + m;
            if (!has_method(list, "keyboard-interactive"))
                add(Level::warn, "AuthenticationMethods " + joined + " logs in without keyboard-interactive: no code",
                    "add keyboard-interactive to that list");
            else if (list.size() == 1 && !needs.password_in_stack)
                add(Level::fail,
                    "AuthenticationMethods " + joined + " with a PAM stack without a password: the code alone logs in",
                    "use \"publickey,keyboard-interactive\", or put the password module before pam_twofactor.so");
        }
    }
    if (needs.auth_info && value(settings, "exposeauthinfo") != "yes")
        add(Level::fail,
            "ExposeAuthInfo " + value(settings, "exposeauthinfo") + ": remember_by needs the key sshd used",
            "set \"ExposeAuthInfo yes\" in sshd_config");
    if (out.empty())
        add(Level::ok,
            "UsePAM yes, KbdInteractiveAuthentication yes, PasswordAuthentication "
                + value(settings, "passwordauthentication") + ", AuthenticationMethods " + methods,
            "");
    return out;
}

} // namespace twofactor::doctor
