#pragma once

// Small files that hold a secret (a store's secrets key, the admin key): readable by their owner only.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace feedrouter {

/// Why an owner-only file could not be read; what() says it without the file's name, which the caller adds.
class owner_only_file_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Returns the content of `path`, or nullopt when it is larger than `max_size` bytes (then it holds no secret of ours).
/// Throws owner_only_file_error when it cannot be read, is not a regular file, or may be accessed by group or others
/// (mode 0600 or stricter is required).
std::optional<std::string> read_owner_only_file(const std::string& path, std::size_t max_size);

} // namespace feedrouter
