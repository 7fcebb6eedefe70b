#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/param_reader.hpp"
#include "core/url.hpp"

namespace feedrouter {

/// The settings of a `changes` registration, validated.
struct changes_spec {
  /// `url` as given, without trailing '/' (or the URL `host`, `port` and `protocol` make): with dbname, what the
  /// checkpoint's source is made of, so that a checkpoint taken on another server or database is not resumed from.
  std::string url_text;
  /// `url`, parsed: http or https without query; a path prefix (https://host/couch) is kept, without trailing '/'.
  url server;
  /// The parameter the server was given as, for the errors about it: "url", or "host" for OpenWhisk's form.
  std::string server_field = "url";
  /// `dbname` (or its alias `dbName`): CouchDB's rule ^[a-z][a-z0-9_$()+/-]*$, at most 238 characters.
  std::string dbname;
  /// `username` / `password`: Basic auth, both or neither (empty when neither). Never inside `url`, which ends up in
  /// the checkpoint and in logs. Not sent with `iamApiKey`, which wins as it does in OpenWhisk.
  std::string username;
  std::string password;
  /// `iamApiKey`: an IBM Cloud IAM API key, exchanged at `iam_url` for the bearer token every request carries;
  /// empty when absent. Never shown, never logged; the token is kept in memory only.
  std::string iam_api_key;
  /// `iamUrl` (default iam_default_url) parsed; set only with `iamApiKey`. A tenant's endpoint: the egress policy
  /// applies.
  std::optional<url> iam_url;
  /// `filter`: a design-document filter "designdoc/filtername", or one of CouchDB's built-in filters `_doc_ids`
  /// (with `query_params.doc_ids`), `_view` (with `query_params.view`) and `_design`; empty when absent. Excludes
  /// `selector`.
  std::string filter;
  /// `query_params`: the filter's parameters in the order given; string values as is, other values as their JSON
  /// text. Only with `filter`.
  std::vector<std::pair<std::string, std::string>> query_params;
  /// `selector`: a Mango selector as compact JSON object text; empty when absent.
  std::string selector;
  bool include_docs = false; ///< `includeDocs`
  /// `since`: "now", or a sequence (a non-negative integer's digits, or a CouchDB 2+ opaque string), as sent in the
  /// `since` query parameter. Only used while there is no checkpoint for this url and dbname.
  std::string since = "now";
  /// `heartbeatSeconds`: how often the server sends an empty line on an idle feed, so that a silent connection can
  /// be told dead after a few missed heartbeats.
  std::chrono::seconds heartbeat{30};
  /// `maxTriggers`: fires after which the registration is disabled (AUTO); nullopt when unlimited (-1, 0, absent).
  std::optional<std::int64_t> max_triggers;
};

// -- the integer parameters and their ranges (docs/changes-feed.md) --
inline constexpr int_param changes_heartbeat_param{"heartbeatSeconds", 1, 300};
inline constexpr int_param changes_port_param{"port", 1, 65535};
/// -1 and 0 mean no limit, as in OpenWhisk's cloudant feed.
inline constexpr int_param changes_max_triggers_param{"maxTriggers", -1, 1'000'000'000};
inline constexpr std::array<int_param, 3> changes_int_params = {changes_heartbeat_param, changes_port_param,
                                                                changes_max_triggers_param};

/// Where an IAM API key is exchanged for a token when `iamUrl` is not given: IBM Cloud's public token endpoint.
/// (OpenWhisk's cloudant feed defaulted to the legacy https://iam.bluemix.net/identity/token.)
inline constexpr std::string_view iam_default_url = "https://iam.cloud.ibm.com/identity/token";

/// Validates the changes parameters (`url`, or `host` + `port` + `protocol`; `dbname` or `dbName`, `username`,
/// `password`, `iamApiKey`, `iamUrl`, `filter`, `query_params`, `selector`, `includeDocs`, `since`,
/// `heartbeatSeconds`, `maxTriggers`); every failure names the parameter.
outcome<changes_spec> parse_changes_spec(const json_members& params);

/// An HTTP request to the database server; the caller adds Host, Authorization (from username and password) and,
/// when `body` is not empty, Content-Type: application/json.
struct changes_request {
  std::string method; ///< "GET", or "POST" with a selector
  std::string target;
  std::string body; ///< {"selector":...} for a POST; empty for a GET
};

/// Returns the request that opens the continuous feed from `since` (a checkpoint's seq, or spec.since):
/// {prefix}/{dbname}/_changes?feed=continuous&heartbeat={ms}&since={since}[&include_docs=true], then either
/// &filter={filter}&{query_params...}, or for a selector &filter=_selector&selector={JSON} with method POST and
/// body {"selector":...}: CouchDB reads the selector from the body, pouchdb-server from the query. The dbname ('/' as
/// %2F) and every query name and value are percent-encoded.
changes_request changes_feed_request(const changes_spec& spec, std::string_view since);

/// Returns the target of a GET that reads where the database ends now, the baseline of since=now:
/// {prefix}/{dbname}/_changes?since=now&limit=1, answered by {"results":[...],"last_seq":X}.
std::string changes_now_target(const changes_spec& spec);

/// Returns "last_seq" of such an answer as seq text (a number's digits, a string's content); a field_error named
/// "last_seq" when the answer is not an object or its last_seq is missing or not a seq.
outcome<std::string> read_last_seq(std::string_view document);

/// One line of the continuous feed, classified. Heartbeats are empty lines: skip them (and blank lines) before
/// classifying, or they come back as errors.
struct change_line {
  enum class kind {
    change,    ///< a change row: {"seq":..,"id":..,"changes":[..],...}
    last_seq,  ///< the feed's closing line {"last_seq":..}: reconnect from that seq
    error,     ///< the server's error object {"error":..,"reason":..}
    malformed, ///< a line that is none of these
  };
  kind what;
  std::string seq; ///< change and last_seq: the seq as text (a number's digits, a string's content)
  /// error: the server's "error: reason", which is the server's own text (for the operator's log, not the tenant);
  /// malformed: why the line could not be read, in words of ours only.
  std::string message;
};

/// Returns what `line` (one line of the feed, without its '\n') is.
change_line classify_change_line(std::string_view line);

/// Returns the fire body of one change row: the row's members (id, seq, changes, deleted, doc ... as the server sent
/// them) plus "dbname", with the members of `fire_body` (`trigger_payload`) that it does not have itself.
std::string change_event_body(std::string_view row, std::string_view dbname, std::string_view fire_body);

/// Returns the checkpoint text for a registration that has fired up to `seq`:
/// {"source":"<url_text>/<dbname>","seq":"<seq>"}. A numeric seq is stored as a string too.
std::string to_changes_checkpoint(const changes_spec& spec, std::string_view seq);

/// Returns the seq to resume from: the checkpoint's, when it was taken on this spec's url and dbname; nullopt when
/// the checkpoint is empty, unreadable, or from another server or database (after an UPDATE), and the feed starts
/// from spec.since.
std::optional<std::string> restore_changes_seq(std::string_view checkpoint, const changes_spec& spec);

} // namespace feedrouter
