// Fuzzes the redis-stream feed from what tenants control: the parameters of a CREATE (validation, normalization, the
// position) and the bytes a Redis server sends (the RESP2 reader within its bounds, and what the source makes of the
// replies). A hostile server must not make the reader keep more than its limits, every fire body must be one valid
// JSON object, and a position must read back as written.
//
// Input: the parameters as a JSON object on the first line, then the server's bytes. The first byte of those also
// picks where the bytes are cut into reads, so that replies split at any point are read as whole ones are.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/redis_stream_reply.hpp"
#include "core/redis_stream_spec.hpp"
#include "core/time_format.hpp"
#include "net/detail/resp_codec.hpp"

namespace {

using namespace feedrouter;

constexpr sys_ms now{std::chrono::milliseconds{1'768'471'200'000}}; // 2026-01-15T10:00:00Z

/// Small limits, so that the fuzzer reaches them with short inputs.
constexpr resp_limits fuzz_limits{256, 64, 512, 32, 128, 5};

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

/// Returns the string bytes `value` keeps, at every level.
std::size_t kept_bytes(const resp_value& value) {
  auto total = value.text.size();
  for (const auto& item : value.items)
    total += kept_bytes(item);
  return total;
}

std::size_t depth_of(const resp_value& value) {
  std::size_t deepest = 0;
  for (const auto& item : value.items)
    deepest = std::max(deepest, depth_of(item));
  return value.is_array() ? deepest + 1 : deepest;
}

void check_reply(const redis_stream_spec& spec, resp_value reply) {
  check(kept_bytes(reply) <= fuzz_limits.max_reply_bytes);
  check(depth_of(reply) <= fuzz_limits.max_depth);
  if (reply.is_error()) {
    auto refusal = classify_redis_error(reply.text);
    check(!refusal_text(refusal).empty());
  }
  read_key_type(reply);
  read_last_id(reply);
  auto entries = read_stream_entries(reply);
  if (!entries.ok())
    return;
  auto n = entries_to_hand_over(entries.value, fuzz_limits.max_bulk);
  check(n <= entries.value.size());
  for (const auto& entry : entries.value) {
    check(json_is_object(stream_entry_body(spec.stream, entry, R"({"team":"a"})")));
    check(restore_redis_id(to_redis_checkpoint(spec, entry.id), spec) == entry.id);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto end = input.find('\n');
  auto params_text = input.substr(0, end);
  auto bytes = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
  auto params = parse_json_object(params_text, "params");
  if (!params)
    return 0;
  auto config =
    make_feed_config("redis-stream", *params, now, validation_time::request, "guest/fuzzed", egress_policy{});
  if (!config)
    return 0;
  const auto& spec = *config->redis_stream;
  // The stored parameters are read again at every start: they must give the same registration, without a password in
  // the URL that is shown.
  auto again =
    make_feed_config("redis-stream", config->params, now, validation_time::restore, "guest/fuzzed", egress_policy{});
  check(again && again->redis_stream->server.text() == spec.server.text());
  check(again->redis_stream->server.password == spec.server.password);
  check(again->redis_stream->stream == spec.stream);
  if (bytes.empty())
    return 0;
  std::size_t cut = 1 + static_cast<unsigned char>(bytes.front()) % 16;
  bytes.remove_prefix(1);
  resp_reader reader{fuzz_limits};
  while (!bytes.empty() && reader.error() == resp_read_error::none) {
    auto piece = bytes.substr(0, cut);
    auto taken = reader.feed(piece);
    check(taken <= piece.size());
    bytes.remove_prefix(taken);
    if (reader.has_reply())
      check_reply(spec, reader.take_reply());
    else if (taken == 0)
      break;
  }
  return 0;
}
