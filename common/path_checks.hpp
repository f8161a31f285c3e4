// Path shapes the state store must not be handed.
#pragma once

#include <string_view>

namespace twofactor {

// True if opening `path` with O_NOFOLLOW could still follow a symbolic link
// in its last component: O_NOFOLLOW guards only a last component that is a
// name, so "dir/", "dir/." and "dir/.." would follow a symlinked `dir`.
inline bool last_component_not_a_name(std::string_view path)
{
    if (path.empty() || path.back() == '/')
        return true;
    const auto slash = path.rfind('/');
    const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
    return last == "." || last == "..";
}

} // namespace twofactor
