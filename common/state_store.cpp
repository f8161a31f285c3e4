// What every store shares: the user-name check and the default load_many.
// The file store is file_state_store.cpp, PostgreSQL's pg/pg_state_store.cpp.
#include "state_store.hpp"

#include "errors.hpp"

#include <algorithm>

namespace twofactor {

namespace {

constexpr std::size_t kMaxUserName = 64;

} // namespace

bool valid_user_name(std::string_view name)
{
    if (name.empty() || name.size() > kMaxUserName)
        return false;
    const auto ok = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
            || c == '-' || c == '@';
    };
    if (name.front() == '.' || name.front() == '-' || name.front() == '@')
        return false;
    if (name.back() == '$')
        name.remove_suffix(1);
    return !name.empty() && std::all_of(name.begin(), name.end(), ok);
}

void require_valid_user_name(std::string_view name)
{
    if (valid_user_name(name))
        return;
    std::string shown;
    for (char c : name.substr(0, 40)) {
        const auto u = static_cast<unsigned char>(c);
        shown.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    if (name.size() > 40)
        shown += "...";
    throw InvalidUserName("invalid user name '" + shown + "'");
}

std::vector<LoadedState> StateStore::load_many(const std::vector<std::string>& users)
{
    for (const std::string& user : users)
        require_valid_user_name(user);
    std::vector<LoadedState> out(users.size());
    for (std::size_t i = 0; i < users.size(); ++i) {
        try {
            out[i].state = load(users[i]);
        } catch (const StoreError& e) {
            out[i].error = e.what();
        }
    }
    return out;
}

} // namespace twofactor
