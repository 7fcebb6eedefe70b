#include "core/status_json.hpp"

#include "core/json.hpp"

namespace feedrouter {

namespace {

void write_time(json_writer& out, std::string_view name, const std::optional<sys_ms>& t) {
  if (t)
    out.key(name).value(format_iso8601(*t));
}

void write_config(json_writer& out, const registration_record& record) {
  out.key("config").begin_object();
  out.key("feed").value(record.feed);
  out.key("triggerName").value(record.trigger.qualified());
  auto params = parse_json_object(record.params_json, "params");
  if (params)
    for (const auto& [name, raw] : *params)
      out.key(name).raw(raw);
  out.end_object();
}

void write_status(json_writer& out, const registration_record& record, const live_status& live) {
  const auto& st = record.status;
  out.key("status").begin_object();
  out.key("state").value(to_string(st.state));
  if (st.reason.kind != reason_kind::none || !st.reason.message.empty()) {
    out.key("reason").begin_object();
    out.key("kind").value(to_string(st.reason.kind));
    out.key("statusCode").value(static_cast<std::int64_t>(st.reason.status_code));
    out.key("message").value(st.reason.message);
    out.end_object();
  }
  out.key("dateChanged").value(format_iso8601(st.date_changed));
  out.key("created").value(format_iso8601(record.created));
  out.key("fires").value(st.fires);
  out.key("failures").value(st.failures);
  write_time(out, "lastFired", st.last_fired);
  if (st.triggers_left)
    out.key("triggersLeft").value(*st.triggers_left);
  write_time(out, "nextFire", live.next_fire);
  out.end_object();
}

} // namespace

std::string render_registration(const registration_record& record, const live_status& live) {
  json_writer out;
  out.begin_object();
  write_config(out, record);
  write_status(out, record, live);
  out.end_object();
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
