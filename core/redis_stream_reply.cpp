#include "core/redis_stream_reply.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/kafka_payload.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

using kind = resp_value::kind;

template <class T>
read_result<T> malformed(std::string why) {
  read_result<T> result;
  result.malformed = std::move(why);
  return result;
}

std::optional<stream_id> id_of(const resp_value& value) {
  if (value.type != kind::bulk || value.oversized)
    return std::nullopt;
  return parse_stream_id(value.text);
}

/// Reads one [id, [name, value, ...] | null] element.
std::optional<stream_entry> read_entry(resp_value& element) {
  if (!element.is_array() || element.items.size() != 2)
    return std::nullopt;
  auto id = id_of(element.items[0]);
  if (!id)
    return std::nullopt;
  stream_entry entry;
  entry.id = *id;
  auto& fields = element.items[1];
  if (!fields.is_array() || fields.items.size() % 2 != 0)
    return std::nullopt;
  entry.fields.reserve(fields.items.size() / 2);
  for (std::size_t i = 0; i < fields.items.size(); i += 2) {
    auto& name = fields.items[i];
    auto& value = fields.items[i + 1];
    if (name.type != kind::bulk || value.type != kind::bulk)
      return std::nullopt;
    stream_field field;
    // A name too large to keep still names a field: it is shown as empty, its value as oversized.
    field.name = std::move(name.text);
    field.oversized = value.oversized || name.oversized;
    field.size = value.oversized ? value.integer : static_cast<std::int64_t>(value.text.size());
    if (!field.oversized)
      field.value = std::move(value.text);
    entry.fields.push_back(std::move(field));
  }
  return entry;
}

} // namespace

bool stream_entry::oversized() const noexcept {
  return std::any_of(fields.begin(), fields.end(), [](const stream_field& f) { return f.oversized; });
}

std::vector<std::vector<std::string>> login_commands(const redis_server& server) {
  std::vector<std::vector<std::string>> commands;
  if (!server.password.empty()) {
    if (server.user.empty())
      commands.push_back({"AUTH", server.password});
    else
      commands.push_back({"AUTH", server.user, server.password});
  }
  if (server.db != 0)
    commands.push_back({"SELECT", std::to_string(server.db)});
  return commands;
}

std::vector<std::string> xread_command(const redis_stream_spec& spec, std::size_t count, std::int64_t block_ms,
                                       const stream_id& after) {
  return {"XREAD", "COUNT", std::to_string(count), "BLOCK", std::to_string(block_ms), "STREAMS", spec.stream,
          after.text()};
}

std::vector<std::string> last_entry_command(const redis_stream_spec& spec) {
  return {"XREVRANGE", spec.stream, "+", "-", "COUNT", "1"};
}

std::vector<std::string> type_command(const redis_stream_spec& spec) {
  return {"TYPE", spec.stream};
}

read_result<std::vector<stream_entry>> read_stream_entries(resp_value& reply) {
  read_result<std::vector<stream_entry>> result;
  if (reply.is_null())
    return result;
  if (!reply.is_array() || reply.items.size() != 1)
    return malformed<std::vector<stream_entry>>("an XREAD reply that is not one stream");
  auto& stream = reply.items[0];
  if (!stream.is_array() || stream.items.size() != 2 || !stream.items[1].is_array())
    return malformed<std::vector<stream_entry>>("an XREAD reply whose stream is not [name, entries]");
  auto& entries = stream.items[1].items;
  result.value.reserve(entries.size());
  for (auto& element : entries) {
    auto entry = read_entry(element);
    if (!entry)
      return malformed<std::vector<stream_entry>>("an XREAD reply with an entry that is not [id, fields]");
    result.value.push_back(std::move(*entry));
  }
  return result;
}

read_result<stream_key> read_key_type(const resp_value& reply) {
  read_result<stream_key> result;
  if (!reply.is_string() || reply.oversized)
    return malformed<stream_key>("a TYPE reply that is not a string");
  result.value = reply.text == "stream" ? stream_key::stream
                 : reply.text == "none" ? stream_key::missing
                                        : stream_key::other;
  return result;
}

std::size_t entries_to_hand_over(const std::vector<stream_entry>& entries, std::size_t max_bulk) {
  for (std::size_t i = 1; i < entries.size(); ++i) {
    const auto& fields = entries[i].fields;
    bool cut = std::any_of(fields.begin(), fields.end(), [max_bulk](const stream_field& field) {
      return field.oversized && field.size >= 0 && static_cast<std::size_t>(field.size) <= max_bulk;
    });
    if (cut)
      return i;
  }
  return entries.size();
}

read_result<stream_id> read_last_id(const resp_value& reply) {
  read_result<stream_id> result;
  if (!reply.is_array() || reply.items.size() > 1)
    return malformed<stream_id>("an XREVRANGE reply that is not a list of at most one entry");
  if (reply.items.empty())
    return result;
  const auto& entry = reply.items[0];
  std::optional<stream_id> id;
  if (entry.is_array() && !entry.items.empty())
    id = id_of(entry.items[0]);
  if (!id)
    return malformed<stream_id>("an XREVRANGE reply with an entry that is not [id, fields]");
  result.value = *id;
  return result;
}

redis_refusal classify_redis_error(std::string_view line) {
  auto code = line.substr(0, line.find(' '));
  if (code == "WRONGPASS" || code == "NOAUTH")
    return redis_refusal::credentials;
  if (code == "NOPERM")
    return redis_refusal::permission;
  if (code == "WRONGTYPE")
    return redis_refusal::wrong_type;
  // Redis 7.0's words for a password given to a server without one: "ERR AUTH <password> called without any password
  // configured for the default user. ...".
  if (code == "ERR" && line.find("without any password configured") != std::string_view::npos)
    return redis_refusal::credentials;
  return redis_refusal::transient;
}

std::string_view refusal_field(redis_refusal refusal) {
  switch (refusal) {
    case redis_refusal::credentials:
    case redis_refusal::permission:
      return "url";
    case redis_refusal::no_stream:
    case redis_refusal::wrong_type:
      return "stream";
    case redis_refusal::transient:
      break;
  }
  return {};
}

std::string refusal_text(redis_refusal refusal) {
  switch (refusal) {
    case redis_refusal::credentials:
      return "the Redis server refused the user name or password";
    case redis_refusal::permission:
      return "the Redis user may not read the stream (NOPERM)";
    case redis_refusal::no_stream:
      return "the stream does not exist; create it, or set create to true to read it once it exists";
    case redis_refusal::wrong_type:
      return "the key is not a stream";
    case redis_refusal::transient:
      break;
  }
  return "the Redis server answered with an error";
}

std::string stream_entry_body(std::string_view stream, const stream_entry& entry, std::string_view fire_body) {
  std::vector<std::string_view> binary;
  std::vector<std::string_view> oversized;
  json_writer out;
  out.begin_object();
  out.key("stream").value(stream);
  out.key("id").value(entry.id.text());
  out.key("fields").begin_object();
  for (const auto& field : entry.fields) {
    auto name = replace_invalid_utf8(field.name);
    out.key(name);
    if (field.oversized) {
      oversized.push_back(field.name);
      out.null();
      continue;
    }
    auto text = replace_invalid_utf8(field.value);
    if (text == field.value) {
      out.value(field.value);
    } else {
      binary.push_back(field.name);
      out.value(base64_encode(field.value));
    }
  }
  out.end_object();
  auto list = [&out](std::string_view key, const std::vector<std::string_view>& names) {
    if (names.empty())
      return;
    out.key(key).begin_array();
    for (auto name : names)
      out.value(replace_invalid_utf8(name));
    out.end_array();
  };
  list("binaryFields", binary);
  list("oversizedFields", oversized);
  out.end_object();
  if (fire_body.empty() || fire_body == "{}")
    return out.take();
  return merge_object_defaults(out.take(), fire_body);
}

} // namespace feedrouter
