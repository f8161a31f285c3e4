// Whether a path names a place only trusted users can change: for the files
// libpq reads (certificates, CRLs, a passfile) and the socket directory it
// connects through, which root's logins must not take from a local user.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace twofactor {

struct PathTrust {
    std::vector<uid_t> owners; // root and our effective uid are always trusted
    std::vector<gid_t> groups; // groups whose write permission is accepted
};

// Resolves `path` as the kernel would (symbolic links followed, at most 40)
// and checks every directory entry looked up on the way, the last one
// included: each must be owned by a trusted user and not writable by anyone
// else. A directory others may write to is passed only if it is sticky and
// the entry looked up in it exists and is a trusted user's (in /tmp nobody
// else can rename or remove it). A missing last part is fine where nobody
// else could create it. Returns why the path is not trusted, or nothing.
std::optional<std::string> untrusted_part(const std::string& path, const PathTrust& trust);

} // namespace twofactor
