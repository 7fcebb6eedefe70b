// Fuzzes the validation of every feed kind's parameters, as CREATE and UPDATE take them from a tenant.
//
// Input: one byte choosing the kind (alarm, webhook, poll, changes), then the parameters as a JSON object.
// Invariants: a refusal names its field; an accepted config has its kind's spec and nothing else, and a JSON object as
// its fire body; an alarm's dates can be shown as ISO-8601 text that reads back; its parameters survive the store
// (JSON text and back) unchanged; and what CREATE accepted is accepted again when the stored registration is loaded
// at a restart, then or years later.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/time_format.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

constexpr std::array<std::string_view, 4> feed_kinds{"alarm", "webhook", "poll", "changes"};

/// A fixed "now" keeps every run reproducible: 2026-01-01T00:00:00Z.
constexpr sys_ms fuzz_now{std::chrono::milliseconds{1'767'225'600'000}};

/// How much later a stored registration may be loaded again: its dates have long passed by then.
constexpr std::chrono::hours years_later{24 * 3653};

constexpr std::string_view trigger_key = "alice/fuzzed";

/// The default egress policy, as a provider started without --allow-egress applies it (kafka has a target of its own).
const egress_policy default_egress{};

/// Returns whether `t` is shown (ISO-8601, as the API writes it) as text that reads back as `t`.
bool shows_faithfully(std::optional<sys_ms> t) {
  return !t || parse_iso8601(format_iso8601(*t)) == t;
}

void check_accepted(std::string_view feed, const feed_config& config) {
  require(config.feed == feed, "the config keeps its feed kind");
  const int specs = !!config.alarm + !!config.webhook + !!config.poll + !!config.changes + !!config.kafka;
  require(specs == 1, "exactly one spec is set");
  require((feed == "alarm") == !!config.alarm && (feed == "webhook") == !!config.webhook
            && (feed == "poll") == !!config.poll && (feed == "changes") == !!config.changes,
          "the spec set is the kind's");
  require(json_is_object(config.fire_body), "the fire body is a JSON object");
  require(config.delivery.batch_size >= 1, "a batch holds at least one event");
  if (const auto& alarm = config.alarm)
    require(shows_faithfully(alarm->date) && shows_faithfully(alarm->start_date)
              && shows_faithfully(alarm->stop_date),
            "every date of an alarm is shown as text that reads back as the same instant");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto feed = feed_kinds[in.byte() % feed_kinds.size()];
  auto params = parse_json_object(in.rest(), "params");
  if (!params)
    return 0;
  auto config = make_feed_config(feed, *params, fuzz_now, validation_time::request, trigger_key, default_egress);
  if (!config) {
    require(!config.error().field.empty() && !config.error().message.empty(), "a refusal names field and reason");
    return 0;
  }
  check_accepted(feed, *config);
  auto stored = parse_json_object(to_json_object(config->params), "params");
  require(stored && *stored == config->params, "the parameters read back from their JSON text unchanged");
  for (auto later : {fuzz_now, fuzz_now + years_later}) {
    auto restored = make_feed_config(feed, *stored, later, validation_time::restore, trigger_key, default_egress);
    require(!!restored, "a registration CREATE accepted loads again at a restart");
    check_accepted(feed, *restored);
    require(restored->fire_body == config->fire_body, "a restored registration fires the same body");
  }
  return 0;
}
