// Fuzzes a poll registration's state: its checkpoint as stored, and a polled document (remote, any content) applied
// to it step by step.
//
// Input: one byte choosing the spec (item and id pointers or not) and one for the items per step, then the checkpoint
// text, a NUL byte, then the document.
// Invariants: a checkpoint that reads is written back to text that reads as the same state; restoring never fails;
// a step takes at most its share of items, none seen before and none twice; applying the steps of one document until
// it is complete remembers at most max_seen_ids ids, keeps every id the document lists, and leaves a state whose
// checkpoint reads back; once the document is taken in, the same document brings nothing new.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "core/json.hpp"
#include "core/poll_spec.hpp"
#include "core/poll_state.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

constexpr std::array<std::string_view, 4> spec_params{
  R"({"url":"http://127.0.0.1:8080/items","intervalSeconds":60,"itemsPointer":"/items","idPointer":"/id"})",
  R"({"url":"http://127.0.0.1:8080/items","intervalSeconds":60,"itemsPointer":""})",
  R"({"url":"http://127.0.0.1:8080/items","intervalSeconds":60,"itemsPointer":"/data/0/list","idPointer":"/meta/id"})",
  R"({"url":"http://127.0.0.1:8080/items","intervalSeconds":60})",
};

/// Steps a document may need at most: with one item per step, every listed item once, and the baseline.
constexpr std::size_t max_steps = max_seen_ids + 2;

poll_spec make_spec(std::uint8_t choice) {
  auto params = parse_json_object(spec_params[choice % spec_params.size()], "params");
  require(!!params, "the spec parameters are JSON");
  auto spec = parse_poll_spec(*params);
  require(!!spec, "the spec parameters are valid");
  return *spec;
}

bool operator==(const poll_state& x, const poll_state& y) {
  return x.source == y.source && x.baseline == y.baseline && x.etag == y.etag && x.last_modified == y.last_modified
         && x.seen == y.seen;
}

void check_checkpoint_round_trip(const poll_state& state) {
  auto text = to_checkpoint(state);
  auto read = parse_poll_checkpoint(text);
  require(read && *read == state, "a checkpoint reads back as the state it was written from");
}

/// Applies `doc` to `state` until the document is taken in; returns the state, or nullopt when it is refused.
std::optional<poll_state> take_in(poll_state state, const poll_spec& spec, const poll_document& doc,
                                  std::size_t per_step) {
  for (std::size_t steps = 0; steps < max_steps; ++steps) {
    auto step = next_poll_step(state, spec, doc, per_step);
    if (!step)
      return std::nullopt;
    require(step->new_items.size() <= per_step, "a step takes at most its share of items");
    require(step->new_items.size() == (state.baseline ? step->new_ids.size() : 0), "an item fires with its id");
    std::unordered_set<std::uint64_t> fresh;
    for (auto id : step->new_ids)
      require(!state.baseline || (!state.seen.contains(id) && fresh.insert(id).second),
              "a step fires no item seen before, and none twice");
    auto listed = step->listed;
    const bool complete = step->complete;
    state = apply_poll_step(std::move(state), *step);
    require(state.baseline, "a step sets the baseline");
    require(state.seen.size() <= max_seen_ids, "at most max_seen_ids ids are remembered");
    check_checkpoint_round_trip(state);
    if (!complete)
      continue;
    for (auto id : listed)
      require(state.seen.contains(id), "every id the document lists is remembered once it is taken in");
    return state;
  }
  require(false, "a document is taken in within one step per item");
  return std::nullopt;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto spec = make_spec(in.byte());
  const std::size_t per_step = 1 + in.byte() % 8;
  const auto checkpoint = in.part();
  const poll_document doc{in.rest(), "\"etag\"", "Tue, 06 Jan 2026 08:49:37 GMT"};

  if (auto stored = parse_poll_checkpoint(checkpoint))
    check_checkpoint_round_trip(*stored);
  auto state = restore_poll_state(checkpoint, spec);
  require(state.source == poll_source_fingerprint(spec), "a restored state belongs to the spec");
  auto after = take_in(std::move(state), spec, doc, per_step);
  if (!after)
    return 0;
  auto again = next_poll_step(*after, spec, doc, per_step);
  require(again && again->new_items.empty() && again->complete, "a document taken in brings nothing new again");
  return 0;
}
