#pragma once

#include <string>
#include <string_view>

#include "core/secrets_key.hpp"

namespace feedrouter {

// The file that holds a store's secrets key: read, created on first start, replaced by a rotation.

/// Returns the key file of a store whose --secrets-key-file is not given: PATH.key beside the sqlite:PATH file.
std::string default_key_file(std::string_view store_path);

/// Returns where `rotate-key` writes the new key of `key_file` until the store is sealed with it: KEY_FILE.new.
std::string pending_key_file(std::string_view key_file);

/// Returns where `rotate-key` keeps the replaced key `key_id` of `key_file`: KEY_FILE.KEY_ID.old.
std::string retired_key_file(std::string_view key_file, std::string_view key_id);

/// Returns whether anything exists at `path`; a dangling symbolic link counts as existing, so that it is never
/// replaced by a new key.
bool key_file_exists(const std::string& path);

/// Reads the key in `path`. Throws store_open_error, naming the file, when it cannot be read, is not a regular file,
/// may be read or written by group or others, or does not hold a key in the form secrets_key::parse() takes.
secrets_key read_key_file(const std::string& path);

/// Writes `key` to `path`, which must not exist, with mode 0600: into a temporary file of the same directory first,
/// synced, then linked in place, so that `path` never holds a partial key and an existing file is never replaced.
/// Throws store_open_error when `path` exists or cannot be written.
void create_key_file(const std::string& path, const secrets_key& key);

/// Makes `path` a hard link to `target` (which stays as it is); throws store_open_error when it cannot.
void link_key_file(const std::string& target, const std::string& path);

/// Moves `from` over `to` in one step and syncs the directory; throws store_open_error when it cannot.
void replace_key_file(const std::string& from, const std::string& to);

} // namespace feedrouter
