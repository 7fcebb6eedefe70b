// Fuzzes what a changes registration reads from a database server (any content: the server is the tenant's) and from
// its own stored position: feed lines, the last_seq answer, the checkpoint, and the request built from a seq.
//
// Input: one byte choosing the spec, then a feed line (also read as a last_seq answer), a NUL byte, a checkpoint.
// Invariants: every seq read is non-empty; a seq written into a checkpoint restores as itself, for the same database
// only; a stored checkpoint that restores names a seq that round-trips too; an error or malformed line says why; a
// change's fire body is a JSON object with its dbname; a seq goes into the feed's request target percent-encoded, so
// it can neither add query parameters nor break the request line.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/changes_spec.hpp"
#include "core/json.hpp"
#include "core/url.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

constexpr std::array<std::string_view, 3> spec_params{
  R"({"url":"http://127.0.0.1:5984","dbname":"orders"})",
  R"({"url":"https://127.0.0.1:6984/couch/","dbname":"a/b$c","includeDocs":true,"selector":{"kind":"x"}})",
  R"({"url":"http://127.0.0.1:5984","dbname":"events","filter":"app/by_kind","query_params":{"kind":"x y&z"}})",
};

/// What the request target may hold: RFC 3986 unreserved and sub-delims, ':', '@', '/', '?' and percent escapes.
constexpr std::string_view target_bytes
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%";

changes_spec make_spec(std::size_t choice) {
  auto params = parse_json_object(spec_params[choice % spec_params.size()], "params");
  require(!!params, "the spec parameters are JSON");
  auto spec = parse_changes_spec(*params);
  require(!!spec, "the spec parameters are valid");
  return *spec;
}

/// Returns the percent-decoded value of query parameter `name` in `target`.
std::optional<std::string> query_value(std::string_view target, std::string_view name) {
  for (auto separator : {'?', '&'}) {
    auto key = separator + std::string{name} + '=';
    if (auto at = target.find(key); at != std::string_view::npos) {
      auto value = target.substr(at + key.size());
      return percent_decode(value.substr(0, value.find('&')));
    }
  }
  return std::nullopt;
}

void check_seq(const changes_spec& spec, const changes_spec& other, const std::string& seq) {
  require(!seq.empty(), "a seq is never empty");
  auto checkpoint = to_changes_checkpoint(spec, seq);
  require(restore_changes_seq(checkpoint, spec) == seq, "a checkpoint restores its seq");
  require(!restore_changes_seq(checkpoint, other), "a checkpoint of another database is not resumed from");
  auto request = changes_feed_request(spec, seq);
  require(request.target.find_first_not_of(target_bytes) == std::string::npos,
          "a request target holds only URI characters");
  require(query_value(request.target, "since") == seq, "the seq is the since parameter, whole");
  auto plain = changes_feed_request(spec, "0");
  auto count_ampersands = [](std::string_view text) { return std::count(text.begin(), text.end(), '&'); };
  require(count_ampersands(request.target) == count_ampersands(plain.target), "a seq adds no query parameter");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto choice = in.byte();
  const auto spec = make_spec(choice);
  const auto other = make_spec(choice + 1);
  const auto line = in.part();
  const auto checkpoint = in.rest();

  auto classified = classify_change_line(line);
  if (classified.what == change_line::kind::error || classified.what == change_line::kind::malformed)
    require(!classified.message.empty(), "an error or malformed line says why");
  else
    check_seq(spec, other, classified.seq);
  if (auto last = read_last_seq(line))
    check_seq(spec, other, *last);
  if (auto resumed = restore_changes_seq(checkpoint, spec))
    check_seq(spec, other, *resumed);

  auto body = change_event_body(line, spec.dbname, R"({"source":"fuzz"})");
  auto members = parse_json_object(body, "body");
  require(!!members, "a fire body is a JSON object");
  require(find_member(*members, "dbname") != nullptr, "a fire body names its database");
  return 0;
}
