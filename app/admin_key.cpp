#include "app/admin_key.hpp"

#include <algorithm>
#include <stdexcept>

#include <openssl/crypto.h>

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "store/owner_only_file.hpp"

namespace feedrouter {

namespace {

/// Largest admin key file read: a key is one line; anything longer is not one.
constexpr std::size_t max_admin_key_file_size = 1024;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("admin key file '" + path + "': " + what);
}

/// Returns whether `key` is a token an HTTP header can carry as it is: visible ASCII, no spaces.
bool is_visible_ascii(std::string_view key) {
  return std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < '\x7f'; });
}

} // namespace

std::string read_admin_key_file(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = read_owner_only_file(path, max_admin_key_file_size);
  } catch (const owner_only_file_error& e) {
    fail(path, e.what());
  }
  std::string key;
  if (text) {
    auto end = text->find_last_not_of(" \t\r\n");
    key = end == std::string::npos ? std::string{} : text->substr(0, end + 1);
    OPENSSL_cleanse(text->data(), text->size());
  }
  if (key.empty() || !is_visible_ascii(key)) {
    OPENSSL_cleanse(key.data(), key.size());
    fail(path, "does not hold a key (expected one line of at most " + std::to_string(max_admin_key_file_size)
                 + " visible ASCII characters, e.g. from 'openssl rand -hex 32')");
  }
  return key;
}

bool carries_admin_key(std::string_view authorization, std::string_view key) {
  constexpr std::string_view scheme = "Bearer";
  if (key.empty() || !istarts_with(authorization, scheme))
    return false;
  auto rest = authorization.substr(scheme.size());
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t'))
    return false;
  // Digests of equal length: the time taken tells neither where the keys differ nor how long the key is.
  return constant_time_equal(sha256_hex(trim_ows(rest)), sha256_hex(key));
}

} // namespace feedrouter
