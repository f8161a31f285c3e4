#include "forward_pass.hpp"

#include "backup_codes.hpp"

#include <algorithm>

namespace twofactor::pam {

namespace {

bool all_digits(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

SplitAnswer split_at(std::string_view answer, std::size_t code_length)
{
    const std::size_t cut = answer.size() - code_length;
    return SplitAnswer{to_secure(answer.substr(0, cut)), to_secure(answer.substr(cut))};
}

} // namespace

SplitAnswer split_forward_pass(std::string_view whole, const CodeShapes& shapes)
{
    // Blanks typed after the code belong to the code, which ignores them.
    std::string_view answer = whole;
    while (!answer.empty() && is_code_blank(answer.back()))
        answer.remove_suffix(1);
    if (shapes.totp_digits && *shapes.totp_digits > 0 && answer.size() >= *shapes.totp_digits) {
        const std::size_t digits = *shapes.totp_digits;
        if (all_digits(answer.substr(answer.size() - digits)))
            return split_at(answer, digits);
    }
    if (shapes.backup_length && *shapes.backup_length > 0 && answer.size() >= *shapes.backup_length)
        return split_at(answer, *shapes.backup_length);
    return SplitAnswer{to_secure(whole), SecureChars{}};
}

} // namespace twofactor::pam
