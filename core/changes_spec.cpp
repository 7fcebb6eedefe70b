#include "core/changes_spec.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/param_reader.hpp"

namespace feedrouter {

namespace {

/// CouchDB's own limit on a database name.
constexpr std::size_t max_dbname_length = 238;
constexpr std::int64_t default_heartbeat_seconds = 30;
constexpr std::size_t max_query_params = 50;
/// The built-in filter that applies a Mango selector.
constexpr std::string_view selector_filter = "_selector";
/// CouchDB's other built-in filters a registration may name.
constexpr std::array<std::string_view, 3> builtin_filters = {"_doc_ids", "_view", "_design"};
/// Document ids a `_doc_ids` filter may list: they travel in the query, which servers bound to some KB.
constexpr std::size_t max_doc_ids = 100;
/// Longest IAM API key taken; IBM's are 44 characters.
constexpr std::size_t max_iam_key_length = 512;

/// Query parameters the feed sets itself, or that would end or reorder a continuous feed.
constexpr std::array<std::string_view, 9> reserved_query_params = {
  "feed", "since", "heartbeat", "timeout", "limit", "descending", "include_docs", "filter", "selector"};

/// Returns whether the authority of the URL `text` holds user info: parse_url rejects it, but the user should hear
/// where credentials go instead.
bool has_user_info(std::string_view text) {
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos)
    return false;
  auto authority = text.substr(scheme_end + 3);
  authority = authority.substr(0, std::min({authority.find('/'), authority.find('?'), authority.find('#')}));
  return authority.find('@') != std::string_view::npos;
}

bool is_dbname(std::string_view name) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto allowed = [&](char c) {
    return lower(c) || (c >= '0' && c <= '9') || std::string_view{"_$()+/-"}.find(c) != std::string_view::npos;
  };
  return !name.empty() && name.size() <= max_dbname_length && lower(name.front())
         && std::all_of(name.begin(), name.end(), allowed);
}

/// Returns the seq text of a raw JSON seq (a non-negative integer's digits, or a non-empty string's content), or
/// nullopt for anything else: the same rule `since` follows, so a seq read from the server can be sent back.
std::optional<std::string> seq_text(std::string_view raw) {
  if (auto text = json_as_string(raw); text && !text->empty())
    return text;
  if (auto number = json_as_int(raw); number && *number >= 0)
    return std::to_string(*number);
  return std::nullopt;
}

/// Returns {prefix}/{dbname}/_changes; a prefix's trailing '/' is dropped so that it never doubles.
std::string changes_path(const changes_spec& spec) {
  std::string_view prefix = spec.server.target;
  while (!prefix.empty() && prefix.back() == '/')
    prefix.remove_suffix(1);
  std::string path{prefix};
  path += '/';
  path += percent_encode(spec.dbname);
  path += "/_changes";
  return path;
}

void append_query(std::string& target, std::string_view name, std::string_view value) {
  target += '&';
  target += percent_encode(name);
  target += '=';
  target += percent_encode(value);
}

std::string changes_source(const changes_spec& spec) {
  return spec.url_text + '/' + spec.dbname;
}

/// Reads parameter `field` as a JSON object's members; the wsk CLI may send an object as a string holding its JSON.
outcome<std::optional<json_members>> read_object_param(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<json_members>{};
  std::string object_text = *raw;
  if (auto text = json_as_string(*raw))
    object_text = std::move(*text);
  if (!json_is_object(object_text))
    return field_error{std::string{field}, "must be a JSON object (or a string holding one)"};
  auto members = parse_json_object(object_text, field);
  if (!members) {
    // A duplicate member is reported under its own name; the user gave `field`.
    const auto& error = members.error();
    return field_error{std::string{field},
                       error.field == field ? error.message : "\"" + error.field + "\" " + error.message};
  }
  return std::optional<json_members>{std::move(*members)};
}

/// `url` as given without trailing '/', and parsed.
struct server_url {
  std::string text;
  url parsed;
};

/// Parses the server URL `given` (from `url`, or made of `host`, `port` and `protocol`); errors name `field`.
outcome<server_url> read_server(std::string_view given, std::string_view field) {
  if (has_user_info(given))
    return field_error{std::string{field},
                       "must not hold credentials (user:password@): give them as username and password"};
  auto server = parse_url(given, field);
  if (!server)
    return server.error();
  if (server->target.find('?') != std::string::npos)
    return field_error{std::string{field},
                       "must not have a query: give the server, such as https://host:6984 or https://host/couch"};
  // A parsed URL has a host, so stripping stops before the scheme's "//".
  while (given.back() == '/')
    given.remove_suffix(1);
  while (server->target.size() > 1 && server->target.back() == '/')
    server->target.pop_back();
  return server_url{std::string{given}, std::move(*server)};
}

/// Reads OpenWhisk's form of the server: `host` (a host name, optionally with a path prefix), `port` and `protocol`
/// (http or https, default https), made into `protocol://host[:port]`.
outcome<server_url> read_host_form(const json_members& params) {
  auto host = read_string_param(params, "host");
  if (!host)
    return host.error();
  auto protocol = read_string_param(params, "protocol");
  if (!protocol)
    return protocol.error();
  auto port = read_int_param(params, changes_port_param);
  if (!port)
    return port.error();
  if (!*host)
    return field_error{"host", "missing host parameter: give host (with port and protocol) or url"};
  auto scheme = protocol->value_or("https");
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https")
    return field_error{"protocol", "must be http or https"};
  const auto& name = **host;
  if (name.empty() || name.find_first_of("@?#\\ ") != std::string::npos || name.find("://") != std::string::npos)
    return field_error{"host", "must be a host name such as account.cloudant.com (no scheme, credentials or query)"};
  auto slash = std::min(name.find('/'), name.size());
  std::string text = scheme + "://" + name.substr(0, slash);
  if (*port)
    text += ":" + std::to_string(**port);
  text += name.substr(slash);
  return read_server(text, "host");
}

/// Reads the server: exactly one of `url` and OpenWhisk's `host` (+ `port`, `protocol`).
outcome<server_url> read_url(const json_members& params) {
  auto text = read_string_param(params, "url");
  if (!text)
    return text.error();
  for (auto name : {"host", "port", "protocol"})
    if (*text && find_member(params, name) != nullptr)
      return field_error{name, "cannot be combined with url: give either url, or host (with port and protocol)"};
  if (!*text && (find_member(params, "host") != nullptr || find_member(params, "port") != nullptr
                 || find_member(params, "protocol") != nullptr))
    return read_host_form(params);
  if (!*text)
    return field_error{"url", "is required: the database server, such as https://account.cloudant.com (or give host, "
                              "port and protocol)"};
  return read_server(**text, "url");
}

/// Reads `dbname`, or its alias `dbName`; both given must agree.
outcome<std::string> read_dbname(const json_members& params) {
  auto dbname = read_string_param(params, "dbname");
  if (!dbname)
    return dbname.error();
  auto alias = read_string_param(params, "dbName");
  if (!alias)
    return alias.error();
  if (*dbname && *alias && **dbname != **alias)
    return field_error{"dbName", "is another spelling of dbname and must not differ from it"};
  if (!*dbname && !*alias)
    return field_error{"dbname", "missing dbname parameter: the database whose changes fire the trigger"};
  auto name = *dbname ? std::move(**dbname) : std::move(**alias);
  if (!is_dbname(name))
    return field_error{*dbname ? "dbname" : "dbName",
                       "must start with a lower-case letter, hold only lower-case letters, digits and _$()+/- and "
                       "have at most " + std::to_string(max_dbname_length) + " characters"};
  return name;
}

/// Reads `iamApiKey` and `iamUrl` (only with the key).
std::optional<field_error> read_iam(const json_members& params, changes_spec& spec) {
  auto key = read_string_param(params, "iamApiKey");
  if (!key)
    return key.error();
  auto where = read_string_param(params, "iamUrl");
  if (!where)
    return where.error();
  if (!*key) {
    if (*where)
      return field_error{"iamUrl", "applies only with iamApiKey"};
    return std::nullopt;
  }
  if ((*key)->empty() || (*key)->size() > max_iam_key_length)
    return field_error{"iamApiKey", "must be an IBM Cloud API key of 1 to " + std::to_string(max_iam_key_length)
                                      + " characters"};
  std::string_view text = where->has_value() ? std::string_view{**where} : iam_default_url;
  if (has_user_info(text))
    return field_error{"iamUrl", "must not hold credentials (user:password@)"};
  auto parsed = parse_url(text, "iamUrl");
  if (!parsed)
    return parsed.error();
  spec.iam_api_key = std::move(**key);
  spec.iam_url = std::move(*parsed);
  return std::nullopt;
}

/// Reads `filter`: "designdoc/filtername", or a built-in filter with the query parameter it needs.
std::optional<field_error> read_filter(const json_members& params, changes_spec& spec) {
  auto filter = read_string_param(params, "filter");
  if (!filter)
    return filter.error();
  if (!*filter)
    return std::nullopt;
  const auto& name = **filter;
  if (find_member(params, "selector") != nullptr)
    return field_error{"filter", "cannot be combined with selector: give one of them"};
  if (name == selector_filter)
    return field_error{"filter", "_selector takes its selector from the selector parameter: give selector instead"};
  auto is_builtin = std::find(builtin_filters.begin(), builtin_filters.end(), name) != builtin_filters.end();
  auto slash = name.find('/');
  if (!is_builtin && (slash == std::string::npos || slash == 0 || slash + 1 == name.size()
                      || name.find('/', slash + 1) != std::string::npos))
    return field_error{"filter", "must name a design-document filter as \"designdoc/filtername\", or be one of "
                                 "CouchDB's _doc_ids, _view or _design"};
  spec.filter = name;
  return std::nullopt;
}

/// Checks what a built-in filter needs in its query parameters: `doc_ids` (a JSON array of at most max_doc_ids
/// strings) for `_doc_ids`, `view` ("designdoc/viewname") for `_view`.
std::optional<field_error> check_builtin_filter(const changes_spec& spec) {
  auto find = [&](std::string_view name) -> const std::string* {
    for (const auto& [key, value] : spec.query_params)
      if (key == name)
        return &value;
    return nullptr;
  };
  if (spec.filter == "_doc_ids") {
    const auto* ids = find("doc_ids");
    auto list = ids ? json_as_string_array(*ids) : std::nullopt;
    if (!list || list->empty() || list->size() > max_doc_ids)
      return field_error{"query_params", "the _doc_ids filter needs doc_ids: an array of 1 to "
                                           + std::to_string(max_doc_ids) + " document ids"};
  } else if (spec.filter == "_view") {
    const auto* view = find("view");
    auto slash = view ? view->find('/') : std::string::npos;
    if (!view || slash == 0 || slash == std::string::npos || slash + 1 == view->size())
      return field_error{"query_params", "the _view filter needs view: the view as \"designdoc/viewname\""};
  }
  return std::nullopt;
}

outcome<std::vector<std::pair<std::string, std::string>>> read_query_params(const json_members& params,
                                                                            const changes_spec& spec) {
  std::vector<std::pair<std::string, std::string>> query;
  auto members = read_object_param(params, "query_params");
  if (!members)
    return members.error();
  if (!*members)
    return query;
  if (spec.filter.empty())
    return field_error{"query_params", "are the parameters of a filter: give filter as well"};
  if ((*members)->size() > max_query_params)
    return field_error{"query_params", "may hold at most " + std::to_string(max_query_params) + " parameters"};
  for (auto& [name, raw] : **members) {
    if (name.empty())
      return field_error{"query_params", "must not have an empty parameter name"};
    if (std::find(reserved_query_params.begin(), reserved_query_params.end(), name) != reserved_query_params.end())
      return field_error{"query_params", "\"" + name + "\" is set by the changes feed itself and cannot be given"};
    auto text = json_as_string(raw);
    query.emplace_back(std::move(name), text ? std::move(*text) : std::move(raw));
  }
  return query;
}

outcome<std::string> read_since(const json_members& params) {
  constexpr char rule[] = "must be \"now\" or a sequence: a non-negative integer or a non-empty string";
  const auto* raw = find_member(params, "since");
  if (raw == nullptr)
    return std::string{"now"};
  if (auto text = json_as_string(*raw)) {
    // The wsk CLI sends "-p since -1" as a number, but a string may still hold a negative one.
    if (text->empty() || json_as_int(*text).value_or(0) < 0)
      return field_error{"since", rule};
    return std::move(*text);
  }
  if (auto number = json_as_int(*raw); number && *number >= 0)
    return std::to_string(*number);
  return field_error{"since", rule};
}

} // namespace

outcome<changes_spec> parse_changes_spec(const json_members& params) {
  changes_spec spec;
  auto server = read_url(params);
  if (!server)
    return server.error();
  spec.url_text = std::move(server->text);
  spec.server = std::move(server->parsed);
  if (find_member(params, "url") == nullptr)
    spec.server_field = "host";
  auto dbname = read_dbname(params);
  if (!dbname)
    return dbname.error();
  spec.dbname = std::move(*dbname);
  auto username = read_string_param(params, "username");
  if (!username)
    return username.error();
  auto password = read_string_param(params, "password");
  if (!password)
    return password.error();
  if (*username && !*password)
    return field_error{"password", "is required with username"};
  if (*password && !*username)
    return field_error{"username", "is required with password"};
  if (*username) {
    // Basic auth joins the two with ':', so the user name cannot hold one.
    if ((*username)->empty() || (*username)->find(':') != std::string::npos)
      return field_error{"username", "must be a non-empty user name without ':'"};
    if ((*password)->empty())
      return field_error{"password", "must not be empty"};
    spec.username = std::move(**username);
    spec.password = std::move(**password);
  }
  if (auto err = read_iam(params, spec))
    return *err;
  if (auto err = read_filter(params, spec))
    return *err;
  auto query = read_query_params(params, spec);
  if (!query)
    return query.error();
  spec.query_params = std::move(*query);
  if (auto err = check_builtin_filter(spec))
    return *err;
  auto selector = read_object_param(params, "selector");
  if (!selector)
    return selector.error();
  if (*selector)
    spec.selector = to_json_object(**selector);
  auto include_docs = read_bool_param(params, "includeDocs");
  if (!include_docs)
    return include_docs.error();
  spec.include_docs = include_docs->value_or(false);
  auto since = read_since(params);
  if (!since)
    return since.error();
  spec.since = std::move(*since);
  auto heartbeat = read_int_param(params, changes_heartbeat_param);
  if (!heartbeat)
    return heartbeat.error();
  spec.heartbeat = std::chrono::seconds{heartbeat->value_or(default_heartbeat_seconds)};
  auto max_triggers = read_int_param(params, changes_max_triggers_param);
  if (!max_triggers)
    return max_triggers.error();
  if (*max_triggers && **max_triggers > 0)
    spec.max_triggers = **max_triggers;
  return spec;
}

changes_request changes_feed_request(const changes_spec& spec, std::string_view since) {
  changes_request request{"GET", changes_path(spec), {}};
  auto& target = request.target;
  target += "?feed=continuous&heartbeat=";
  target += std::to_string(std::chrono::milliseconds{spec.heartbeat}.count());
  append_query(target, "since", since);
  if (spec.include_docs)
    target += "&include_docs=true";
  if (!spec.filter.empty()) {
    append_query(target, "filter", spec.filter);
    for (const auto& [name, value] : spec.query_params)
      append_query(target, name, value);
  } else if (!spec.selector.empty()) {
    append_query(target, "filter", selector_filter);
    append_query(target, "selector", spec.selector);
    request.method = "POST";
    json_writer body;
    body.begin_object().key("selector").raw(spec.selector).end_object();
    request.body = body.take();
  }
  return request;
}

std::string changes_now_target(const changes_spec& spec) {
  return changes_path(spec) + "?since=now&limit=1";
}

outcome<std::string> read_last_seq(std::string_view document) {
  auto members = parse_json_object(document, "last_seq");
  if (!members)
    return field_error{"last_seq", "cannot be read: the answer is not a JSON object (" + members.error().message + ")"};
  const auto* raw = find_member(*members, "last_seq");
  if (raw == nullptr)
    return field_error{"last_seq", "is missing from the answer"};
  if (auto seq = seq_text(*raw))
    return std::move(*seq);
  return field_error{"last_seq", "is neither a non-negative integer nor a non-empty string"};
}

change_line classify_change_line(std::string_view line) {
  using kind = change_line::kind;
  auto members = parse_json_object(line, "line");
  if (!members)
    return {kind::malformed, {}, "the feed sent a line that is not a JSON object (" + members.error().message + ")"};
  if (const auto* error = find_member(*members, "error")) {
    auto message = json_as_string(*error).value_or(*error);
    if (const auto* reason = find_member(*members, "reason"))
      message += ": " + json_as_string(*reason).value_or(*reason);
    if (message.empty())
      message = "the feed sent an error line without an error text";
    return {kind::error, {}, std::move(message)};
  }
  if (const auto* seq = find_member(*members, "seq")) {
    if (auto text = seq_text(*seq))
      return {kind::change, std::move(*text), {}};
    return {kind::malformed, {}, "the feed sent a change whose seq is neither a non-negative integer nor a string"};
  }
  if (const auto* last = find_member(*members, "last_seq")) {
    if (auto text = seq_text(*last))
      return {kind::last_seq, std::move(*text), {}};
    return {kind::malformed, {}, "the feed sent a last_seq that is neither a non-negative integer nor a string"};
  }
  return {kind::malformed, {}, "the feed sent an object that is neither a change, a last_seq nor an error"};
}

std::string change_event_body(std::string_view row, std::string_view dbname, std::string_view fire_body) {
  json_members members;
  if (auto parsed = parse_json_object(row, "row"))
    members = std::move(*parsed);
  if (find_member(members, "dbname") == nullptr) {
    std::string name;
    append_json_string(name, dbname);
    members.emplace_back("dbname", std::move(name));
  }
  return merge_object_defaults(to_json_object(members), fire_body);
}

std::string to_changes_checkpoint(const changes_spec& spec, std::string_view seq) {
  json_writer out;
  out.begin_object().key("source").value(changes_source(spec)).key("seq").value(seq).end_object();
  return out.take();
}

std::optional<std::string> restore_changes_seq(std::string_view checkpoint, const changes_spec& spec) {
  if (checkpoint.empty())
    return std::nullopt;
  auto members = parse_json_object(checkpoint, "checkpoint");
  if (!members)
    return std::nullopt;
  const auto* source = find_member(*members, "source");
  const auto* seq = find_member(*members, "seq");
  if (source == nullptr || seq == nullptr || json_as_string(*source) != changes_source(spec))
    return std::nullopt;
  auto text = json_as_string(*seq);
  if (!text || text->empty())
    return std::nullopt;
  return text;
}

} // namespace feedrouter
