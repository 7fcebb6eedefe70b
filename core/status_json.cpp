#include "core/status_json.hpp"

#include <algorithm>
#include <iterator>

#include "core/changes_spec.hpp"
#include "core/json.hpp"
#include "core/url.hpp"

namespace feedrouter {

namespace {

void write_time(json_writer& out, std::string_view name, const std::optional<sys_ms>& t) {
  if (t)
    out.key(name).value(format_iso8601(*t));
}

bool is_redacted(std::string_view name) {
  return std::find(std::begin(redacted_params), std::end(redacted_params), name) != std::end(redacted_params);
}

void write_config(json_writer& out, const registration_view& record) {
  out.key("config").begin_object();
  out.key("feed").value(record.feed);
  out.key("triggerName").value(record.trigger.qualified());
  out.key("name").value(record.trigger.name);
  out.key("namespace").value(record.trigger.ns);
  auto params = parse_json_object(record.params_json, "params");
  if (params) {
    auto derived = openwhisk_config_members(record.feed, *params);
    for (const auto& [name, raw] : *params)
      if (!is_redacted(name) && find_member(derived, name) == nullptr && name != "name" && name != "namespace")
        out.key(name).raw(raw);
    for (const auto& [name, raw] : derived)
      out.key(name).raw(raw);
  }
  out.end_object();
}

void write_status(json_writer& out, const registration_view& record) {
  const auto& st = record.status;
  const auto& live = record.live;
  out.key("status").begin_object();
  out.key("active").value(st.state == registration_state::active);
  out.key("state").value(to_string(st.state));
  if (st.reason.kind != reason_kind::none || !st.reason.message.empty()) {
    out.key("reason").begin_object();
    out.key("kind").value(to_string(st.reason.kind));
    // As OpenWhisk: no statusCode unless a status code caused it.
    if (st.reason.status_code != 0)
      out.key("statusCode").value(static_cast<std::int64_t>(st.reason.status_code));
    out.key("message").value(st.reason.message);
    out.end_object();
  }
  const auto changed_ms = clamp_to_time_range(st.date_changed).time_since_epoch().count();
  out.key("dateChanged").value(static_cast<std::int64_t>(changed_ms));
  out.key("dateChangedISO").value(format_iso8601_seconds(st.date_changed));
  out.key("created").value(format_iso8601(record.created));
  out.key("fires").value(st.fires);
  out.key("failures").value(st.failures);
  write_time(out, "lastFired", st.last_fired);
  out.key("deadLetters").value(st.dead_letters);
  out.key("pendingEvents").value(live.pending_events);
  if (live.retrying)
    out.key("retrying").value(true);
  if (st.triggers_left)
    out.key("triggersLeft").value(*st.triggers_left);
  write_time(out, "nextFire", live.next_fire);
  // A poll's checkpoint is its set of seen ids: large, and of no use to a reader. Other checkpoints that are JSON
  // objects (a changes feed's {"source", "seq"}) are shown as objects, anything else as text.
  if (!st.checkpoint.empty() && record.feed != "poll") {
    if (json_is_object(st.checkpoint))
      out.key("checkpoint").raw(st.checkpoint);
    else
      out.key("checkpoint").value(st.checkpoint);
  }
  if (live.source_errors > 0)
    out.key("sourceErrors").value(live.source_errors);
  if (!live.source_error.empty())
    out.key("lastSourceError").value(live.source_error);
  if (!live.hook_url.empty())
    out.key("hookUrl").value(live.hook_url);
  if (live.hook_removal_attempts > 0) {
    out.key("hookRemoval").begin_object();
    out.key("attempts").value(live.hook_removal_attempts);
    out.key("lastError").value(live.hook_removal_error);
    write_time(out, "nextAttempt", live.next_hook_removal);
    out.end_object();
  }
  out.end_object();
}

void write_registration(json_writer& out, const registration_view& view) {
  out.begin_object();
  if (!view.secret.empty())
    out.key("hookUrl").value(view.live.hook_url).key("secret").value(view.secret);
  write_config(out, view);
  write_status(out, view);
  if (view.stale)
    out.key("stale").value(true);
  out.end_object();
}

std::string json_text(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

/// The alarm members of OpenWhisk's READ: what each fire carries, and whether it is strict.
void add_alarm_members(const json_members& params, json_members& out) {
  const auto* payload = find_member(params, "trigger_payload");
  if (payload == nullptr) {
    out.emplace_back("payload", "{}");
  } else if (auto text = json_as_string(*payload)) {
    json_writer wrapped;
    wrapped.begin_object().key("payload").value(*text).end_object();
    out.emplace_back("payload", wrapped.take());
  } else {
    out.emplace_back("payload", *payload);
  }
  if (find_member(params, "strict") == nullptr)
    out.emplace_back("strict", "false");
}

/// The cloudant members of OpenWhisk's READ that a registration given as `url` or `dbName` does not spell out.
void add_changes_members(const json_members& params, json_members& out) {
  if (const auto* raw = find_member(params, "url"))
    if (auto text = json_as_string(*raw))
      if (auto where = parse_url(*text, "url")) {
        auto default_port = where->scheme == "https" ? 443 : 80;
        out.emplace_back("host", json_text(where->host));
        if (where->port != default_port)
          out.emplace_back("port", std::to_string(where->port));
        out.emplace_back("protocol", json_text(where->scheme));
      }
  if (find_member(params, "host") != nullptr && find_member(params, "protocol") == nullptr)
    out.emplace_back("protocol", json_text("https"));
  if (find_member(params, "dbname") == nullptr)
    if (const auto* alias = find_member(params, "dbName"))
      out.emplace_back("dbname", *alias);
  if (find_member(params, "iamApiKey") != nullptr && find_member(params, "iamUrl") == nullptr)
    out.emplace_back("iamUrl", json_text(iam_default_url));
}

} // namespace

json_members openwhisk_config_members(std::string_view feed, const json_members& params) {
  json_members out;
  if (feed == "alarm")
    add_alarm_members(params, out);
  else if (feed == "changes")
    add_changes_members(params, out);
  return out;
}

std::string format_iso8601_seconds(sys_ms t) {
  // format_iso8601 writes "YYYY-MM-DDTHH:MM:SS.mmmZ": drop the milliseconds.
  auto text = format_iso8601(t);
  constexpr std::size_t millis = 4; // ".mmm"
  text.erase(text.size() - 1 - millis, millis);
  return text;
}

registration_view make_view(const registration_record& record, live_status live) {
  return {record.trigger, record.feed, record.params_json, record.created, record.status, std::move(live), {}, false};
}

std::string render_registration(const registration_view& view) {
  json_writer out;
  write_registration(out, view);
  return out.take();
}

std::string render_dead_letters(const std::vector<dead_letter>& letters) {
  json_writer out;
  out.begin_object().key("deadLetters").begin_array();
  for (const auto& letter : letters) {
    out.begin_object();
    out.key("seq").value(static_cast<std::int64_t>(letter.event.seq));
    out.key("accepted").value(format_iso8601(letter.event.accepted));
    out.key("failed").value(format_iso8601(letter.failed));
    out.key("statusCode").value(static_cast<std::int64_t>(letter.status_code));
    out.key("error").value(letter.error);
    out.key("attempts").value(letter.attempts);
    out.key("payload").raw(letter.event.body);
    out.end_object();
  }
  out.end_array().key("count").value(static_cast<std::int64_t>(letters.size())).end_object();
  return out.take();
}

std::string render_error(std::string_view message, std::string_view field) {
  json_writer out;
  out.begin_object().key("error").value(message);
  if (!field.empty())
    out.key("field").value(field);
  out.end_object();
  return out.take();
}

} // namespace feedrouter
