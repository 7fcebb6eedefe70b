#include "core/webhook_spec.hpp"

#include <algorithm>
#include <cctype>

#include "core/param_reader.hpp"
#include "core/text.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter {

namespace {

/// A shorter secret is too easy to guess for an HMAC or a token.
constexpr std::size_t min_secret_length = 16;
constexpr std::size_t max_secret_length = 1024;
constexpr std::size_t max_events = 100;
constexpr char default_event_header[] = "X-GitHub-Event";

/// Reads `signature`: "hmac-sha256" (the default), "token" or "standard".
outcome<webhook_spec::signature_kind> read_signature_kind(const json_members& params) {
  auto signature = read_string_param(params, "signature");
  if (!signature)
    return signature.error();
  if (!*signature || **signature == "hmac-sha256")
    return webhook_spec::signature_kind::hmac_sha256;
  if (**signature == "token")
    return webhook_spec::signature_kind::token;
  if (**signature == "standard")
    return webhook_spec::signature_kind::standard;
  return field_error{"signature", "must be \"hmac-sha256\", \"token\" or \"standard\""};
}

bool is_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

} // namespace

outcome<webhook_spec> parse_webhook_spec(const json_members& params) {
  webhook_spec spec;
  auto hook_id = read_string_param(params, hook_id_param);
  if (!hook_id)
    return hook_id.error();
  if (!*hook_id || (*hook_id)->empty())
    return field_error{std::string{hook_id_param}, "is missing"};
  spec.hook_id = **hook_id;
  auto signature = read_signature_kind(params);
  if (!signature)
    return signature.error();
  spec.signature = *signature;
  auto secret = read_string_param(params, "secret");
  if (!secret)
    return secret.error();
  // A Standard Webhooks secret has a form of its own, whose key bounds its length.
  if (spec.signature == webhook_spec::signature_kind::standard) {
    if (!*secret || !standard_secret_key(**secret))
      return field_error{"secret", "must be \"" + std::string{standard_secret_prefix}
                                     + "\" followed by the base64 of " + std::to_string(standard_key_min_bytes)
                                     + " to " + std::to_string(standard_key_max_bytes)
                                     + " bytes with signature \"standard\" (leave it out to get one)"};
  } else if (!*secret || (*secret)->size() < min_secret_length || (*secret)->size() > max_secret_length) {
    return field_error{"secret", "must be a string of " + std::to_string(min_secret_length) + " to "
                                   + std::to_string(max_secret_length) + " characters (leave it out to get one)"};
  }
  spec.secret = **secret;
  auto events = read_string_list_param(params, "events");
  if (!events)
    return events.error();
  if (*events) {
    if ((*events)->size() > max_events)
      return field_error{"events", "may list at most " + std::to_string(max_events) + " events"};
    spec.events = std::move(**events);
  }
  auto header = read_string_param(params, "eventHeader");
  if (!header)
    return header.error();
  if (*header) {
    if (!is_header_name(**header))
      return field_error{"eventHeader", "must be an HTTP header name such as \"X-GitHub-Event\""};
    spec.event_header = **header;
  } else if (!spec.events.empty()) {
    spec.event_header = default_event_header;
  }
  auto delivery = read_string_param(params, "deliveryHeader");
  if (!delivery)
    return delivery.error();
  if (*delivery) {
    if (!is_header_name(**delivery))
      return field_error{"deliveryHeader", "must be an HTTP header name such as \"X-GitHub-Delivery\""};
    spec.delivery_header = **delivery;
  }
  // Standard Webhooks name and sign each delivery's id: it is always what the replay window goes by.
  if (spec.signature == webhook_spec::signature_kind::standard) {
    if (!spec.delivery_header.empty() && !iequals(spec.delivery_header, standard_id_header))
      return field_error{"deliveryHeader", "is " + std::string{standard_id_header} + " with signature \"standard\""};
    spec.delivery_header = std::string{standard_id_header};
  }
  return spec;
}

std::string generate_webhook_secret(const json_members& params) {
  auto signature = read_signature_kind(params);
  if (signature && *signature == webhook_spec::signature_kind::standard)
    return generate_standard_secret();
  return generate_secret();
}

std::string webhook_payload(std::string_view body, std::string_view event_value, bool has_event_header) {
  auto object = parse_json_object(body, "body");
  json_writer out;
  out.begin_object();
  if (object) {
    for (const auto& [name, raw] : *object)
      if (!(has_event_header && name == "event"))
        out.key(name).raw(raw);
  } else {
    auto whole = parse_json_object("{\"body\":" + std::string{body} + "}", "body");
    if (whole)
      out.key("body").raw(whole->front().second);
    else
      out.key("body").value(body);
  }
  if (has_event_header)
    out.key("event").value(event_value);
  out.end_object();
  return out.take();
}

} // namespace feedrouter
