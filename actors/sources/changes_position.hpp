#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/source_protocol.hpp"
#include "core/changes_spec.hpp"
#include "core/iam_token.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Where a database ends now, or why that could not be read.
struct changes_end {
  int status_code = 0; ///< the HTTP status; 0 when no response came
  std::string seq;     ///< the database's last seq, when it could be read
  /// Empty on success; otherwise what the tenant is shown, e.g. "the database answered 404", "not allowed by the
  /// egress policy" or "no HTTP response (cannot connect, timed out or not HTTP)": never the server's own words.
  std::string error;
  /// The operator's detail of a failure, for the debug log: the transport error, or the server's answer quoted.
  std::string detail;

  bool ok() const noexcept {
    return error.empty();
  }
};

/// Returns whether the database's answer `status` says that the registration's credentials, permissions or database
/// name are wrong, so that asking again would not help.
inline bool is_database_refusal(int status) noexcept {
  return status == 401 || status == 403 || status == 404;
}

/// Returns the text for a database's non-2xx answer: "the database answered 404". The body is not part of it: a
/// tenant may point the feed at any server, and what that server says in an error (a stack trace, a token) is not for
/// the tenant to read through the provider.
std::string database_answer_text(int status);

/// Returns the start of a server's answer `body` as a quoted JSON string, for a debug log line: quoting keeps its line
/// breaks from forging log lines.
std::string quoted_excerpt(std::string_view body);

/// Returns the request that reads where `spec`'s database ends now (the position `since=now` means), with the
/// registration's credentials (`bearer`: the IAM token of a registration with `iamApiKey`).
client_request changes_end_request(const changes_spec& spec, std::chrono::milliseconds timeout,
                                   std::string_view bearer = {});

/// Returns what the answer to changes_end_request() says.
changes_end read_changes_end(const client_result& result);

/// Returns the headers every request to `spec`'s database carries: Accept, and the credentials: `bearer` (the IAM
/// token) when given, else Basic auth when it has a username.
http_fields database_fields(const changes_spec& spec, std::string_view bearer = {});

/// Returns the request that exchanges `spec`'s iamApiKey for a token at its iamUrl.
client_request iam_token_request(const changes_spec& spec, std::chrono::milliseconds timeout);

/// What an IAM token exchange gave: a token, or why not.
struct iam_exchange {
  std::optional<iam_token> token;
  int status_code = 0; ///< the service's status; 0 when no response came
  /// Empty on success; otherwise what the tenant is shown ("the IAM token service answered 400"): never the answer.
  std::string error;
  /// The service refused the key (400, 401, 403): asking again would not help.
  bool refused = false;
};

/// Returns what the answer to iam_token_request() says.
iam_exchange read_iam_exchange(const client_result& result);

/// Returns the field a database's failure to say where it ends is about: `dbname` for 404, `username` for 401 and
/// 403, `url` for anything else.
std::string_view failed_field(const changes_end& end);

/// Spawns the preparer of a `changes` registration with `since: now`: it reads where `spec`'s database ends within
/// `timeout` (with an IAM token first when the registration has `iamApiKey`) and answers that position as the
/// checkpoint, or an error naming the field to fix, then quits.
source_preparer_actor spawn_changes_preparer(caf::actor_system& sys, http_client_ptr client, changes_spec spec,
                                             std::chrono::milliseconds timeout);

} // namespace feedrouter
