#include "core/poll_state.hpp"

#include <algorithm>

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "core/json.hpp"
#include "core/json_pointer.hpp"

namespace feedrouter {

namespace {

constexpr std::int64_t checkpoint_version = 1;
/// Hex digits of one id fingerprint in the checkpoint: 64 bits.
constexpr std::size_t fingerprint_digits = 16;
/// Hex digits of the source fingerprint; it only has to tell a registration's successive configurations apart.
constexpr std::size_t source_digits = 16;

field_error checkpoint_error(std::string message) {
  return field_error{"checkpoint", std::move(message)};
}

/// Returns the JSON of each item in `body`, in document order.
outcome<std::vector<std::string>> document_items(const poll_spec& spec, std::string_view body) {
  if (!spec.items_pointer) {
    if (auto whole = resolve(json_pointer{}, body))
      return std::vector<std::string>{std::move(*whole)};
    // Not JSON (an HTML page, plain text): the text itself is the item.
    std::string text;
    append_json_string(text, body);
    return std::vector<std::string>{std::move(text)};
  }
  auto items = resolve_array(*spec.items_pointer, body);
  if (!items) {
    // Told apart only on this failure path: the check parses the document once more.
    if (!resolve(json_pointer{}, body))
      return field_error{"url", "the response is not valid JSON"};
    return field_error{"itemsPointer", "\"" + to_string(*spec.items_pointer)
                                         + "\" does not refer to an array in the response"};
  }
  if (items->size() > max_seen_ids)
    return field_error{"itemsPointer", "the response lists " + std::to_string(items->size())
                                         + " items; a poll takes at most " + std::to_string(max_seen_ids)};
  return std::move(*items);
}

} // namespace

// -- seen_ids -------------------------------------------------------------------------

std::uint64_t seen_ids::fingerprint(std::string_view id) {
  return *parse_hex_u64(std::string_view{sha256_hex(id)}.substr(0, fingerprint_digits));
}

void seen_ids::insert(std::uint64_t fp) {
  if (index_.insert(fp).second)
    order_.push_back(fp);
}

void seen_ids::trim(std::size_t limit, const std::unordered_set<std::uint64_t>& keep) {
  if (order_.size() <= limit)
    return;
  auto excess = order_.size() - limit;
  std::deque<std::uint64_t> kept;
  for (auto fp : order_) {
    if (excess > 0 && keep.count(fp) == 0) {
      index_.erase(fp);
      --excess;
    } else {
      kept.push_back(fp);
    }
  }
  order_ = std::move(kept);
}

// -- checkpoint -----------------------------------------------------------------------

std::string poll_source_fingerprint(const poll_spec& spec) {
  // "-" for an absent pointer keeps it apart from "" (the whole document), which is a different source.
  auto pointer_text = [](const std::optional<json_pointer>& ptr) { return ptr ? "=" + to_string(*ptr) : "-"; };
  auto text = spec.url_text + '\n' + pointer_text(spec.items_pointer) + '\n' + pointer_text(spec.id_pointer);
  return sha256_hex(text).substr(0, source_digits);
}

std::string to_checkpoint(const poll_state& state) {
  std::string seen;
  seen.reserve(state.seen.size() * fingerprint_digits);
  for (auto fp : state.seen.oldest_first())
    append_hex_u64(seen, fp);
  json_writer out;
  out.begin_object()
    .key("v")
    .value(checkpoint_version)
    .key("source")
    .value(state.source)
    .key("baseline")
    .value(state.baseline)
    .key("etag")
    .value(state.etag)
    .key("lastModified")
    .value(state.last_modified)
    .key("seen")
    .value(seen)
    .end_object();
  return out.take();
}

outcome<poll_state> parse_poll_checkpoint(std::string_view text) {
  auto members = parse_json_object(text, "checkpoint");
  if (!members)
    return checkpoint_error(members.error().message);
  auto string_member = [&](std::string_view name) -> std::optional<std::string> {
    const auto* raw = find_member(*members, name);
    return raw ? json_as_string(*raw) : std::nullopt;
  };
  const auto* version = find_member(*members, "v");
  if (version == nullptr || json_as_int(*version) != checkpoint_version)
    return checkpoint_error("is not a version " + std::to_string(checkpoint_version) + " poll checkpoint");
  const auto* baseline = find_member(*members, "baseline");
  auto source = string_member("source");
  auto etag = string_member("etag");
  auto last_modified = string_member("lastModified");
  auto seen = string_member("seen");
  if (baseline == nullptr || !json_as_bool(*baseline) || !source || !etag || !last_modified || !seen)
    return checkpoint_error("lacks one of source, baseline, etag, lastModified, seen");
  if (seen->size() % fingerprint_digits != 0)
    return checkpoint_error("has a seen list whose length is not a multiple of " + std::to_string(fingerprint_digits));
  poll_state state;
  state.source = std::move(*source);
  state.baseline = *json_as_bool(*baseline);
  state.etag = std::move(*etag);
  state.last_modified = std::move(*last_modified);
  for (std::size_t i = 0; i < seen->size(); i += fingerprint_digits) {
    auto fp = parse_hex_u64(std::string_view{*seen}.substr(i, fingerprint_digits));
    if (!fp)
      return checkpoint_error("has a seen list with a character that is not a lower-case hex digit");
    state.seen.insert(*fp);
  }
  return state;
}

poll_state restore_poll_state(std::string_view checkpoint, const poll_spec& spec) {
  auto source = poll_source_fingerprint(spec);
  if (!checkpoint.empty()) {
    auto stored = parse_poll_checkpoint(checkpoint);
    if (stored && stored->source == source)
      return std::move(*stored);
  }
  poll_state fresh;
  fresh.source = std::move(source);
  return fresh;
}

// -- steps --------------------------------------------------------------------------

outcome<poll_step> next_poll_step(const poll_state& state, const poll_spec& spec, const poll_document& doc,
                                  std::size_t max_items) {
  auto items = document_items(spec, doc.body);
  if (!items)
    return items.error();
  poll_step step;
  step.listed.reserve(items->size());
  std::unordered_set<std::uint64_t> taken;
  // Newest-first documents are the common case: walking backwards visits the oldest item first.
  for (auto item = items->rbegin(); item != items->rend(); ++item) {
    auto fp = seen_ids::fingerprint(item_id(*item, spec.id_pointer));
    step.listed.push_back(fp);
    if (!state.baseline) {
      step.new_ids.push_back(fp);
      continue;
    }
    // Two items with one id in one document fire once.
    if (state.seen.contains(fp) || !taken.insert(fp).second)
      continue;
    if (step.new_items.size() == max_items) {
      step.complete = false;
      continue;
    }
    step.new_ids.push_back(fp);
    step.new_items.push_back(std::move(*item));
  }
  step.sets_baseline = !state.baseline;
  step.etag = doc.etag;
  step.last_modified = doc.last_modified;
  return step;
}

poll_state apply_poll_step(poll_state state, const poll_step& step) {
  for (auto fp : step.new_ids)
    state.seen.insert(fp);
  if (state.seen.size() > max_seen_ids)
    state.seen.trim(max_seen_ids, std::unordered_set<std::uint64_t>{step.listed.begin(), step.listed.end()});
  if (step.sets_baseline)
    state.baseline = true;
  if (step.complete) {
    state.etag = step.etag;
    state.last_modified = step.last_modified;
  }
  return state;
}

std::string poll_event_body(std::string_view item_json, std::string_view fire_body) {
  if (json_is_object(item_json))
    return merge_object_defaults(item_json, fire_body);
  json_members payload;
  if (auto members = parse_json_object(fire_body, "trigger_payload"))
    payload = std::move(*members);
  json_writer out;
  out.begin_object();
  for (const auto& [name, raw] : payload)
    if (name != "item")
      out.key(name).raw(raw);
  out.key("item").raw(item_json);
  out.end_object();
  return out.take();
}

} // namespace feedrouter
