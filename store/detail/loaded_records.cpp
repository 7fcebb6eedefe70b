#include "store/detail/loaded_records.hpp"

#include <algorithm>
#include <tuple>

#include "core/log.hpp"

namespace feedrouter::detail {

void disable_loaded(registration_record& rec, std::string why) {
  rec.status.state = registration_state::disabled;
  rec.status.reason = {reason_kind::automatic, 0, std::move(why)};
}

void read_state(registration_record& rec, std::string_view state_text, std::string_view kind_text, int status_code,
                std::string message) {
  auto state = parse_registration_state(state_text);
  auto kind = parse_reason_kind(kind_text);
  if (state && kind) {
    rec.status.state = *state;
    rec.status.reason = {*kind, status_code, std::move(message)};
    return;
  }
  disable_loaded(rec, state ? "the store holds an unknown reason kind '" + std::string{kind_text} + "'"
                            : "the store holds an unknown state '" + std::string{state_text} + "'");
}

void sort_by_trigger(std::vector<registration_record>& records) {
  // std::string compares its chars as unsigned: bytes above 0x7f sort after ASCII.
  std::sort(records.begin(), records.end(), [](const auto& x, const auto& y) {
    return std::tie(x.trigger.ns, x.trigger.name) < std::tie(y.trigger.ns, y.trigger.name);
  });
}

std::size_t open_loaded_secrets(std::vector<registration_record>& records, const secrets_key& key,
                                const std::string& store_name) {
  std::size_t unreadable = 0;
  std::string first;
  for (auto& rec : records) {
    auto params = key.open(rec.params_json, rec.trigger, secret_column::params_json);
    auto auth_key = key.open(rec.auth_key, rec.trigger, secret_column::auth_key);
    if (params && auth_key) {
      rec.params_json = std::move(*params);
      rec.auth_key = std::move(*auth_key);
      continue;
    }
    // The sealed values stay in the store untouched: only a new CREATE replaces them.
    rec.params_json.clear();
    rec.auth_key.clear();
    disable_loaded(rec, "its secrets cannot be opened with the store's key (an altered or damaged row); create it "
                        "again");
    if (unreadable++ == 0)
      first = rec.trigger.key();
  }
  if (unreadable > 0)
    log(log_level::error, "store '", store_name, "': the secrets of ", unreadable,
        " registrations cannot be opened with key ", key.id(), " (the first: ", first,
        "); they stay disabled until created again");
  return unreadable;
}

record_index::record_index(std::vector<registration_record>& records) {
  by_key_.reserve(records.size());
  for (auto& rec : records)
    by_key_.emplace(key{rec.trigger.ns, rec.trigger.name}, &rec);
}

registration_record* record_index::find(std::string_view ns, std::string_view name) {
  auto i = by_key_.find(key{ns, name});
  return i != by_key_.end() ? i->second : nullptr;
}

} // namespace feedrouter::detail
