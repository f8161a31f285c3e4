#include "messages.hpp"

namespace twofactor::pam {

std::string lockout_message(std::int64_t locked_until, std::int64_t now)
{
    const std::int64_t seconds = locked_until > now ? locked_until - now : 0;
    std::int64_t minutes = (seconds + 59) / 60;
    if (minutes < 1)
        minutes = 1;
    return "Too many failed verification codes; try again in " + std::to_string(minutes)
        + (minutes == 1 ? " minute." : " minutes.");
}

std::vector<std::string> backup_code_messages(std::size_t remaining, std::size_t total, unsigned warn_remaining)
{
    const std::string of_total = std::to_string(total);
    if (remaining == 0)
        return {"Backup code accepted; none of your " + of_total
                + " backup codes remain. Ask your administrator for a new set."};
    std::vector<std::string> out;
    out.push_back("Backup code accepted; " + std::to_string(remaining) + " of " + of_total + " backup codes "
                  + (remaining == 1 ? "remains." : "remain."));
    if (remaining <= warn_remaining)
        out.push_back("Only " + std::to_string(remaining) + (remaining == 1 ? " backup code" : " backup codes")
                      + " left; ask your administrator for a new set.");
    return out;
}

} // namespace twofactor::pam
