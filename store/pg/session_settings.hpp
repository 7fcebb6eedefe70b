#pragma once

// How the PostgreSQL sessions of one instance are opened: the store's, the lease manager's and its listener's, all
// from the same URI and password sources (docs/storage.md). Internal to store/.

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace feedrouter::pg {

/// What opening a session takes: libpq's connection keywords, in order (later ones win), and the secrets no message
/// about the session may show.
struct session_settings {
  std::vector<std::pair<std::string, std::string>> keywords;
  std::vector<std::string> secrets;
};

/// Returns the settings of a session with the database `uri` names, with the password from the URI, from
/// `password_file` (its first line) or from libpq's password file, named `application` on the server
/// (pg_stat_activity) unless the URI names it. `connect_timeout` applies unless the URI sets one. Throws
/// store_open_error, naming the store as `store_name`, when the URI is malformed, the password file cannot be used, or
/// both the URI and `password_file` give a password.
session_settings settings_for(const std::string& uri, const std::string& password_file, const std::string& store_name,
                              const std::string& application, std::chrono::seconds connect_timeout);

/// Returns the options libpq parses out of `uri`: keyword -> value for those it sets. Throws store_open_error for a URI
/// libpq refuses, with any of `secrets` masked.
std::unordered_map<std::string, std::string> parse_uri(const std::string& uri,
                                                       const std::vector<std::string>& secrets);

/// Returns the password as it appears in the URI's user information ("user:PASSWORD@"), still percent-encoded, so that
/// an error message quoting the URI can mask it before the URI is parsed; empty when there is none.
std::string raw_uri_password(const std::string& uri);

} // namespace feedrouter::pg
