#include "user_tokens.hpp"

#include "crypto.hpp"
#include "user_state.hpp"

#include <algorithm>
#include <cctype>

namespace twofactor::admin {
namespace {

std::string lower(std::string_view text)
{
    std::string s(text);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool same_secret(const ImportedUser& a, const ImportedUser& b)
{
    return a.secret.size() == b.secret.size() && ct_equal(a.secret.data(), b.secret.data(), a.secret.size());
}

} // namespace

std::vector<std::string> authenticator_names(const std::vector<ImportedUser>& tokens, std::string_view source)
{
    if (tokens.size() == 1)
        return {kDefaultAuthenticator};
    std::vector<std::string> fallback;
    std::vector<std::string> wanted;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        fallback.push_back(std::string(source) + "-" + std::to_string(i + 1));
        wanted.push_back(lower(tokens[i].label));
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string& w = wanted[i];
        const bool usable = valid_authenticator_name(w) && std::count(wanted.begin(), wanted.end(), w) == 1
            && std::find(fallback.begin(), fallback.end(), w) == fallback.end();
        names.push_back(usable ? w : fallback[i]);
    }
    return names;
}

std::string refusal(const std::vector<ImportedUser>& tokens, unsigned max_authenticators)
{
    for (const ImportedUser& t : tokens)
        if (!t.refused.empty())
            return tokens.size() == 1 ? t.refused : t.origin + ": " + t.refused;
    if (tokens.size() > max_authenticators)
        return std::to_string(tokens.size()) + " tokens; max_authenticators is " + std::to_string(max_authenticators)
            + ": raise it in twofactor.conf or remove some";
    std::vector<const ImportedUser*> with_codes;
    for (const ImportedUser& t : tokens)
        if (!t.scratch_codes.empty())
            with_codes.push_back(&t);
    if (with_codes.size() > 1)
        return "scratch codes in " + with_codes[0]->origin + " and in " + with_codes[1]->origin
            + ": a user has one backup-code set; remove the codes from all files but one";
    for (std::size_t i = 0; i < tokens.size(); ++i)
        for (std::size_t j = i + 1; j < tokens.size(); ++j)
            if (same_secret(tokens[i], tokens[j]))
                return tokens[i].origin + " and " + tokens[j].origin
                    + " hold the same secret: each would accept a code once more; remove one";
    return {};
}

std::string origins(const std::vector<ImportedUser>& tokens)
{
    std::string where;
    for (const ImportedUser& t : tokens)
        where += (where.empty() ? "" : ", ") + t.origin;
    return where;
}

} // namespace twofactor::admin
