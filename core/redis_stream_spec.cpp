#include "core/redis_stream_spec.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/kafka_payload.hpp"
#include "core/param_reader.hpp"
#include "core/text.hpp"
#include "core/url.hpp"

namespace feedrouter {

namespace {

constexpr std::uint16_t default_port = 6379;
/// DNS's limit on a host name.
constexpr std::size_t max_host_length = 253;
/// Bytes of a user name or password at most.
constexpr std::size_t max_credential_bytes = 1024;

constexpr std::string_view url_rule =
  "must be redis://[user:password@]host[:port][/db] or rediss://... (TLS), with a database from 0 to 65535";

/// `url` split into its parts, the credentials still percent-encoded.
struct url_parts {
  std::string_view scheme;
  std::string_view userinfo; ///< empty without '@'
  bool has_userinfo = false;
  std::string_view hostport;
  std::string_view path;
};

std::optional<url_parts> split_url(std::string_view text) {
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos)
    return std::nullopt;
  url_parts parts;
  parts.scheme = text.substr(0, scheme_end);
  auto rest = text.substr(scheme_end + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  parts.path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  // A password may hold '@' only percent-encoded; the last '@' ends the user info either way.
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parts.has_userinfo = true;
    parts.userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
  }
  parts.hostport = authority;
  return parts;
}

bool is_host_name(std::string_view host) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'
           || c == '_';
  };
  return !host.empty() && host.size() <= max_host_length && std::all_of(host.begin(), host.end(), allowed);
}

bool is_ipv6_text(std::string_view host) {
  auto allowed = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
  };
  return !host.empty() && std::all_of(host.begin(), host.end(), allowed);
}

template <class Int>
std::optional<Int> read_digits(std::string_view digits, Int max) {
  Int value = 0;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || value > max)
    return std::nullopt;
  return value;
}

std::string json_string(std::string_view text) {
  std::string quoted;
  append_json_string(quoted, text);
  return quoted;
}

field_error url_error(std::string message) {
  return field_error{"url", std::move(message)};
}

std::optional<field_error> read_host_port(std::string_view hostport, redis_server& server) {
  std::string_view port_text;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos || !is_ipv6_text(hostport.substr(1, close - 1)))
      return url_error("has an invalid IPv6 address (give it in brackets)");
    server.host = ascii_lowercase(hostport.substr(1, close - 1));
    auto after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return url_error("has unexpected characters after the IPv6 address");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    auto colon = hostport.find(':');
    auto host = hostport.substr(0, colon);
    if (!is_host_name(host))
      return url_error("must name a host: a host name or address (IPv6 in brackets)");
    server.host = ascii_lowercase(host);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = hostport.substr(colon + 1);
    }
  }
  if (has_port) {
    auto port = read_digits<unsigned>(port_text, 65535);
    if (!port || *port == 0)
      return url_error("must have a port from 1 to 65535");
    server.port = static_cast<std::uint16_t>(*port);
  }
  return std::nullopt;
}

std::optional<field_error> read_userinfo(std::string_view userinfo, redis_server& server) {
  auto colon = userinfo.find(':');
  auto user = percent_decode(userinfo.substr(0, colon));
  if (!user)
    return url_error("has a malformed percent escape in its user name");
  server.user = std::move(*user);
  if (colon != std::string_view::npos) {
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!password)
      return url_error("has a malformed percent escape in its password");
    server.password = std::move(*password);
  }
  if (server.user.size() > max_credential_bytes || server.password.size() > max_credential_bytes)
    return url_error("may hold a user name and a password of at most " + std::to_string(max_credential_bytes)
                     + " bytes each");
  // The password is stored as a JSON string, which holds UTF-8 only: other bytes would not read back as given.
  if (replace_invalid_utf8(server.user) != server.user || replace_invalid_utf8(server.password) != server.password)
    return url_error("must hold a user name and a password that are UTF-8 once percent-decoded");
  return std::nullopt;
}

outcome<redis_server> read_url(const json_members& params) {
  auto text = read_string_param(params, "url");
  if (!text)
    return text.error();
  if (!*text)
    return url_error("is required: the Redis server, such as redis://:password@redis.example.com:6379/0");
  std::string_view given = **text;
  // Nothing of the URL itself goes into a message: it may hold a password.
  for (char c : given) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return url_error("must be printable ASCII without blanks; percent-encode other characters");
  }
  if (given.find_first_of("?#") != std::string_view::npos)
    return url_error("must not have a query or a fragment: " + std::string{url_rule});
  auto parts = split_url(given);
  if (!parts)
    return url_error(std::string{url_rule});
  redis_server server;
  auto scheme = ascii_lowercase(parts->scheme);
  if (scheme != "redis" && scheme != "rediss")
    return url_error("must use the redis or rediss scheme: " + std::string{url_rule});
  server.tls = scheme == "rediss";
  if (auto error = read_host_port(parts->hostport, server))
    return *error;
  if (parts->has_userinfo) {
    if (auto error = read_userinfo(parts->userinfo, server))
      return *error;
  }
  if (parts->path.size() > 1) {
    auto db = read_digits<std::int64_t>(parts->path.substr(1), redis_max_db);
    if (!db)
      return url_error("must end with a database number from 0 to " + std::to_string(redis_max_db)
                       + " (redis://host:6379/0)");
    server.db = *db;
  }
  return server;
}

outcome<std::string> read_name(const json_members& params, std::string_view field, std::string_view what) {
  auto name = read_string_param(params, field);
  if (!name)
    return name.error();
  if (!*name)
    return field_error{std::string{field}, "is required: " + std::string{what}};
  if ((*name)->empty() || (*name)->size() > redis_max_name_bytes)
    return field_error{std::string{field},
                       "must have 1 to " + std::to_string(redis_max_name_bytes) + " bytes"};
  return std::move(**name);
}

outcome<std::string> read_start(const json_members& params) {
  const auto* raw = find_member(params, "start");
  if (raw == nullptr)
    return std::string{"$"};
  auto text = json_as_string(*raw);
  // The wsk CLI sends "-p start 0" as a number.
  if (!text && json_as_int(*raw) == 0)
    text = "0";
  if (text && (*text == "$" || *text == "0"))
    return std::move(*text);
  return field_error{"start", "must be \"$\" (entries added from now on) or \"0\" (every entry of the stream)"};
}

std::optional<field_error> read_password(const json_members& params, redis_server& server) {
  auto password = read_string_param(params, "password");
  if (!password)
    return password.error();
  // A password inside url wins: PATCHing url with new credentials replaces the stored password.
  if (*password && server.password.empty()) {
    if ((*password)->empty() || (*password)->size() > max_credential_bytes)
      return field_error{"password", "must have 1 to " + std::to_string(max_credential_bytes) + " bytes"};
    server.password = std::move(**password);
  }
  if (!server.user.empty() && server.password.empty())
    return url_error("names a user without a password: give redis://user:password@host (or the password as "
                     "password)");
  return std::nullopt;
}

/// Returns `url` without the password in its user info; the rest as given.
std::string without_password(std::string_view text) {
  auto parts = split_url(text);
  if (!parts || !parts->has_userinfo)
    return std::string{text};
  auto user = parts->userinfo.substr(0, parts->userinfo.find(':'));
  std::string result{parts->scheme};
  result += "://";
  if (!user.empty()) {
    result += user;
    result += '@';
  }
  result += parts->hostport;
  result += parts->path;
  return result;
}

} // namespace

std::string redis_server::text() const {
  std::string result = tls ? "rediss://" : "redis://";
  result += format_host_port(host, port);
  result += '/';
  result += std::to_string(db);
  return result;
}

outcome<redis_stream_spec> parse_redis_stream_spec(const json_members& params, const egress_policy& egress) {
  redis_stream_spec spec;
  auto server = read_url(params);
  if (!server)
    return server.error();
  spec.server = std::move(*server);
  if (auto error = read_password(params, spec.server))
    return *error;
  auto stream = read_name(params, "stream", "the key of the Redis stream whose entries fire the trigger");
  if (!stream)
    return stream.error();
  spec.stream = std::move(*stream);
  auto start = read_start(params);
  if (!start)
    return start.error();
  spec.start = std::move(*start);
  auto create = read_bool_param(params, "create");
  if (!create)
    return create.error();
  spec.create = create->value_or(false);
  auto verdict = egress.check_host(spec.server.host, spec.server.port);
  if (verdict && !verdict->allowed)
    return url_error(std::string{egress_refusal_text} + ": " + describe_refusal(*verdict, spec.server.host));
  return spec;
}

json_members normalize_redis_stream_params(json_members params) {
  std::optional<std::string> moved_password;
  for (auto& [name, raw] : params) {
    if (name == "url") {
      auto text = json_as_string(raw);
      if (!text)
        continue;
      redis_server server;
      auto parts = split_url(*text);
      if (parts && parts->has_userinfo && !read_userinfo(parts->userinfo, server) && !server.password.empty())
        moved_password = server.password;
      raw = json_string(without_password(*text));
    } else if (name == "start") {
      if (auto start = read_start({{name, raw}}))
        raw = json_string(*start);
    } else if (name == "create") {
      if (auto create = read_bool_param({{name, raw}}, name); create && *create)
        raw = **create ? "true" : "false";
    }
  }
  if (moved_password) {
    params = without_members(std::move(params), {"password"});
    params.emplace_back("password", json_string(*moved_password));
  }
  return params;
}

std::string stream_id::text() const {
  return std::to_string(ms) + '-' + std::to_string(seq);
}

std::optional<stream_id> parse_stream_id(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos)
    return std::nullopt;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  auto ms = read_digits<std::uint64_t>(text.substr(0, dash), max);
  auto seq = read_digits<std::uint64_t>(text.substr(dash + 1), max);
  if (!ms || !seq)
    return std::nullopt;
  return stream_id{*ms, *seq};
}

std::string to_redis_checkpoint(const redis_stream_spec& spec, const stream_id& id) {
  json_writer out;
  out.begin_object()
    .key("server")
    .value(spec.server.text())
    .key("stream")
    .value(spec.stream)
    .key("id")
    .value(id.text())
    .end_object();
  return out.take();
}

std::optional<stream_id> restore_redis_id(std::string_view checkpoint, const redis_stream_spec& spec) {
  if (checkpoint.empty())
    return std::nullopt;
  auto members = parse_json_object(checkpoint, "checkpoint");
  if (!members)
    return std::nullopt;
  auto text_of = [&](std::string_view name) -> std::optional<std::string> {
    const auto* raw = find_member(*members, name);
    return raw == nullptr ? std::nullopt : json_as_string(*raw);
  };
  if (text_of("server") != spec.server.text() || text_of("stream") != spec.stream)
    return std::nullopt;
  auto id = text_of("id");
  return id ? parse_stream_id(*id) : std::nullopt;
}

} // namespace feedrouter
