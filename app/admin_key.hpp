#pragma once

// The admin key (--admin-key-file): what an operator sends as "Authorization: Bearer KEY" to use the admin routes
// (docs/operations.md, "Admin key").

#include <string>
#include <string_view>

namespace feedrouter {

/// Reads the admin key from `path`: one line of visible ASCII, trailing white space (the newline) ignored. Throws
/// std::runtime_error, naming the file, when it cannot be read, is not a regular file, may be accessed by group or
/// others, or holds no key (empty, longer than a line, or with other characters).
std::string read_admin_key_file(const std::string& path);

/// Returns whether the Authorization header `authorization` is "Bearer KEY" with `key`, compared in time that depends
/// on neither where they differ nor the key's length. The scheme is matched case-insensitively.
bool carries_admin_key(std::string_view authorization, std::string_view key);

} // namespace feedrouter
