// Reading another tool's files for import: a regular file, read whole up to
// a size cap, never written. The last component may be a symbolic link
// only if root or the owner of the file it points to owns the link, so
// nobody else can point the import at a file of their choosing.
#pragma once

#include "secure_memory.hpp"

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace twofactor::admin {

struct SourceFile {
    SecureChars text; // the secrets are in it: wiped when freed
    uid_t owner = 0;
};

// Throws SourceError (line 0) with a message that names no content.
// "-" is standard input (owner: the caller's user id).
SourceFile read_source_file(const std::string& path, std::size_t cap);

} // namespace twofactor::admin
