#include "core/openwhisk_documents.hpp"

#include <algorithm>

#include "core/alarm_spec.hpp"
#include "core/openwhisk_params.hpp"

namespace feedrouter {

namespace {

/// The reason messages of a provider mid-way through its own UPDATE or DELETE (a disable that a re-enable or the
/// document's removal follows at once).
constexpr std::string_view updating_message = "Automatically disabled trigger while updating";
constexpr std::string_view deleting_message = "Automatically disabled trigger while deleting";
constexpr std::string_view marked_message = "Marked for deletion";
constexpr std::string_view used_up_message = "Automatically disabled after reaching max triggers";
/// The reason OpenWhisk's alarms provider gives a one-shot whose date passed while it was not running.
constexpr std::string_view expired_message =
  "Automatically disabled after receiving error on trigger initialization: the fire once date has expired";

std::optional<std::string> string_member(const json_members& doc, std::string_view name) {
  const auto* raw = find_member(doc, name);
  return raw != nullptr ? json_as_string(*raw) : std::nullopt;
}

std::string json_text(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

/// Copies member `name` of `doc` into `params` as `as` (default: the same name), when present.
void carry(const json_members& doc, std::string_view name, json_members& params, std::string_view as = {}) {
  if (const auto* raw = find_member(doc, name))
    params.emplace_back(std::string{as.empty() ? name : as}, *raw);
}

/// Reads the document's status into `trigger`: active, or disabled with the provider's reason. Returns what makes it no
/// trigger to import (a deletion under way), or an empty string.
std::string read_status(const json_members& doc, openwhisk_trigger& trigger, sys_ms now) {
  trigger.date_changed = now;
  const auto* raw = find_member(doc, "status");
  if (raw == nullptr)
    return {};
  auto status = parse_json_object(*raw, "status");
  if (!status)
    return {};
  if (const auto* changed = find_member(*status, "dateChanged"))
    if (auto ms = json_as_int(*changed); ms && in_time_range(sys_ms{std::chrono::milliseconds{*ms}}))
      trigger.date_changed = sys_ms{std::chrono::milliseconds{*ms}};
  const auto* active = find_member(*status, "active");
  if (active == nullptr || json_as_bool(*active).value_or(true))
    return {};
  json_members reason;
  if (const auto* reason_raw = find_member(*status, "reason"))
    if (auto parsed = parse_json_object(*reason_raw, "reason"))
      reason = std::move(*parsed);
  auto message = string_member(reason, "message").value_or("");
  if (message == deleting_message || message == marked_message)
    return "it is being deleted in OpenWhisk (" + message + ")";
  if (message == updating_message) {
    // The provider re-enables it right after; caught in between, it is as good as active.
    trigger.notes.push_back("caught mid-way through an OpenWhisk UPDATE: imported active");
    return {};
  }
  trigger.state = registration_state::disabled;
  auto kind = string_member(reason, "kind").value_or("AUTO");
  trigger.reason.kind = kind == "ADMIN" ? reason_kind::admin : reason_kind::automatic;
  if (const auto* code = find_member(reason, "statusCode"))
    trigger.reason.status_code = static_cast<int>(json_as_int(*code).value_or(0));
  trigger.reason.message = message.empty() ? "disabled in OpenWhisk" : message;
  trigger.max_triggers_used_up = message.rfind(used_up_message, 0) == 0;
  return {};
}

/// Returns the positive `maxTriggers` of the document, or nullopt for -1, 0 and anything else.
std::optional<std::int64_t> positive_max_triggers(const json_members& doc) {
  const auto* raw = find_member(doc, "maxTriggers");
  auto count = raw != nullptr ? read_openwhisk_int(*raw) : std::nullopt;
  if (count && *count > 0)
    return count;
  return std::nullopt;
}

/// The alarms document's name, namespace and parameters; an error text when it has none to import.
std::string read_alarm(const json_members& doc, openwhisk_trigger& trigger, sys_ms now) {
  auto ns = string_member(doc, "namespace");
  auto name = string_member(doc, "name");
  if (!ns || !name) {
    // <apikey>/<namespace>/<name>: the key holds no '/'.
    auto parts = trigger.id;
    auto first = parts.find('/');
    auto second = first == std::string::npos ? first : parts.find('/', first + 1);
    if (second == std::string::npos)
      return "it names no trigger (no name and namespace, and an _id not of the form key/namespace/name)";
    ns = parts.substr(first + 1, second - first - 1);
    name = parts.substr(second + 1);
  }
  auto ref = *ns == "_" ? outcome<trigger_ref>{trigger_ref{"_", *name}} : make_trigger_ref(*ns, *name);
  if (!ref || !is_valid_entity_name(ref->name))
    return "it names no valid trigger";
  trigger.trigger = *ref;
  trigger.feed = "alarm";
  auto& params = trigger.params;
  const auto* payload = find_member(doc, "payload");
  params.emplace_back("trigger_payload", payload != nullptr ? *payload : "{}");
  if (find_member(doc, "date") != nullptr) {
    trigger.kind = "once";
    params.emplace_back("fireOnce", "true");
    carry(doc, "date", params);
    carry(doc, "deleteAfterFire", params);
    auto date = read_openwhisk_date(*find_member(doc, "date"));
    if (trigger.state == registration_state::active && date && *date <= now) {
      trigger.state = registration_state::disabled;
      trigger.reason = {reason_kind::automatic, 0, std::string{expired_message}};
    }
    return {};
  }
  if (find_member(doc, "minutes") != nullptr) {
    trigger.kind = "interval";
    params.emplace_back("isInterval", "true");
    carry(doc, "minutes", params);
    carry(doc, "startDate", params);
    carry(doc, "stopDate", params);
    trigger.old_provider_may_fire = true;
    if (positive_max_triggers(doc))
      trigger.notes.push_back("maxTriggers not carried: OpenWhisk's interval feed never enforced it");
    return {};
  }
  if (find_member(doc, "cron") == nullptr)
    return "it holds no cron, minutes or date";
  trigger.kind = "cron";
  carry(doc, "cron", params);
  if (auto zone = string_member(doc, "timezone"); zone && !zone->empty())
    params.emplace_back("timezone", json_text(*zone));
  carry(doc, "startDate", params);
  carry(doc, "stopDate", params);
  params.emplace_back(std::string{cron_months_param}, json_text(openwhisk_months_value));
  // OpenWhisk's provider fires a cron at second 0 unless its operator set ALARM_DELAY_LIMIT.
  params.emplace_back("strict", "true");
  trigger.notes.push_back("cron months read 0-11 (cronMonths \"0-11\") and strict: true (fires at second 0, as "
                          "OpenWhisk's provider does without ALARM_DELAY_LIMIT)");
  if (auto max = positive_max_triggers(doc)) {
    params.emplace_back("maxTriggers", std::to_string(*max));
    if (!trigger.max_triggers_used_up)
      trigger.notes.push_back("maxTriggers " + std::to_string(*max)
                              + " carried in full: OpenWhisk keeps no count of the fires left");
  }
  if (const auto* start = find_member(doc, "startDate")) {
    auto at = read_openwhisk_date(*start);
    trigger.old_provider_may_fire = at && *at > now;
  }
  return {};
}

/// The cloudant document's name, namespace and parameters; an error text when it has none to import.
std::string read_cloudant(const json_members& doc, openwhisk_trigger& trigger) {
  // :<namespace>:<name>
  const auto& id = trigger.id;
  auto colon = id.size() > 1 && id.front() == ':' ? id.find(':', 1) : std::string::npos;
  if (colon == std::string::npos)
    return "its _id is not of the form :namespace:name";
  auto ref = make_trigger_ref(id.substr(1, colon - 1), id.substr(colon + 1));
  if (!ref)
    return "its _id names no valid trigger";
  trigger.trigger = *ref;
  trigger.feed = "changes";
  trigger.kind = "changes";
  auto& params = trigger.params;
  carry(doc, "host", params);
  carry(doc, "port", params);
  carry(doc, "protocol", params);
  carry(doc, "dbname", params);
  carry(doc, "user", params, "username");
  carry(doc, "pass", params, "password");
  if (find_member(doc, "iamApiKey") != nullptr) {
    carry(doc, "iamApiKey", params);
    carry(doc, "iamUrl", params);
  }
  carry(doc, "filter", params);
  carry(doc, "query_params", params);
  // OpenWhisk reads a false-like since (0, "") as now, which is feedrouter's default.
  if (const auto* since = find_member(doc, "since"); since != nullptr && !is_js_falsy(*since))
    params.emplace_back("since", *since);
  if (auto max = positive_max_triggers(doc)) {
    params.emplace_back("maxTriggers", std::to_string(*max));
    if (!trigger.max_triggers_used_up)
      trigger.notes.push_back("maxTriggers " + std::to_string(*max)
                              + " carried in full: OpenWhisk keeps no count of the fires left");
  }
  return {};
}

} // namespace

openwhisk_document read_openwhisk_document(std::string_view json, openwhisk_provider provider, sys_ms now) {
  openwhisk_document result;
  auto doc = parse_json_object(json, "document");
  if (!doc) {
    result.error = "it is not a JSON object";
    return result;
  }
  auto id = string_member(*doc, "_id").value_or("");
  if (id.rfind("_design/", 0) == 0) {
    // Its id is its name, and holds no key.
    result.skipped = "design document " + id;
    return result;
  }
  if (find_member(*doc, "monitor") != nullptr) {
    result.skipped = "the provider's health monitor trigger";
    return result;
  }
  if (id.rfind("canary", 0) == 0 || find_member(*doc, "isCanaryDoc") != nullptr) {
    result.skipped = "the provider's canary document";
    return result;
  }
  // The providers themselves see only documents with a maxTriggers (their filter and view test it).
  const auto* max = find_member(*doc, "maxTriggers");
  if (max == nullptr || is_js_falsy(*max)) {
    result.skipped = "no trigger document (no maxTriggers)";
    return result;
  }
  openwhisk_trigger trigger;
  trigger.id = std::move(id);
  trigger.rev = string_member(*doc, "_rev").value_or("");
  auto key = string_member(*doc, "apikey");
  if (!key || key->find(':') == std::string::npos) {
    result.error = "it holds no apikey (the owner's uuid:key)";
    return result;
  }
  trigger.auth_key = std::move(*key);
  if (auto deleting = read_status(*doc, trigger, now); !deleting.empty()) {
    result.skipped = std::move(deleting);
    return result;
  }
  auto error = provider == openwhisk_provider::alarms ? read_alarm(*doc, trigger, now) : read_cloudant(*doc, trigger);
  if (!error.empty()) {
    result.error = std::move(error);
    return result;
  }
  result.trigger = std::move(trigger);
  return result;
}

std::string disabled_at_source(std::string_view json, sys_ms now) {
  auto parsed = parse_json_object(json, "document");
  auto doc = parsed ? std::move(*parsed) : json_members{};
  json_writer status;
  status.begin_object().key("active").value(false);
  status.key("dateChanged").value(static_cast<std::int64_t>(now.time_since_epoch().count()));
  status.key("reason").begin_object().key("kind").value("ADMIN").key("message").value(migrated_reason_message);
  status.end_object().end_object();
  return to_json_object(merge_members(std::move(doc), {{"status", status.take()}}));
}

bool active_at_source(std::string_view json) {
  auto doc = parse_json_object(json, "document");
  if (!doc)
    return false;
  const auto* raw = find_member(*doc, "status");
  if (raw == nullptr)
    return true;
  auto status = parse_json_object(*raw, "status");
  const auto* active = status ? find_member(*status, "active") : nullptr;
  return active == nullptr || json_as_bool(*active).value_or(true);
}

std::string feed_annotation(std::string_view trigger_json) {
  auto trigger = parse_json_object(trigger_json, "trigger");
  const auto* raw = trigger ? find_member(*trigger, "annotations") : nullptr;
  auto annotations = raw != nullptr ? json_array_elements(*raw) : std::nullopt;
  if (!annotations)
    return {};
  // [{"key": "feed", "value": "/whisk.system/alarms/alarm"}, ...]
  for (const auto& element : *annotations) {
    auto annotation = parse_json_object(element, "annotation");
    if (annotation && string_member(*annotation, "key") == std::string{"feed"})
      return string_member(*annotation, "value").value_or("");
  }
  return {};
}

} // namespace feedrouter
