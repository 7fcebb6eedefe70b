#include "core/json_pointer.hpp"

#include <limits>

#include <simdjson.h>

#include "core/crypto.hpp"

namespace feedrouter {

namespace {

// One DOM parser per thread: parsers are not thread-safe, and reusing one keeps its buffers allocated.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

/// Returns the array index a reference token names, or nullopt when it names none (RFC 6901 section 4).
std::optional<std::size_t> array_index(std::string_view token) {
  if (token.empty() || (token.size() > 1 && token.front() == '0'))
    return std::nullopt;
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9')
      return std::nullopt;
    const auto digit = static_cast<std::size_t>(c - '0');
    // An index too large to represent cannot exist in any document.
    if (index > (std::numeric_limits<std::size_t>::max() - digit) / 10)
      return std::nullopt;
    index = index * 10 + digit;
  }
  return index;
}

/// Returns the element `ptr` refers to, or nullopt; the element lives until the thread's parser parses again.
std::optional<simdjson::dom::element> locate(const json_pointer& ptr, std::string_view document_json) {
  simdjson::dom::element current;
  if (thread_parser().parse(document_json.data(), document_json.size()).get(current))
    return std::nullopt;
  for (const auto& token : ptr.tokens) {
    simdjson::dom::object obj;
    simdjson::dom::array arr;
    if (!current.get_object().get(obj)) {
      if (obj.at_key(token).get(current))
        return std::nullopt;
    } else if (!current.get_array().get(arr)) {
      auto index = array_index(token);
      if (!index || arr.at(*index).get(current))
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return current;
}

} // namespace

outcome<json_pointer> parse_json_pointer(std::string_view text, std::string_view field) {
  json_pointer result;
  if (text.empty())
    return result;
  if (text.front() != '/')
    return field_error{std::string{field}, "must be a JSON pointer: empty or starting with \"/\""};
  std::string token;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      result.tokens.push_back(std::move(token));
      token.clear();
    } else if (text[i] == '~') {
      // Decoding each escape where it stands turns "~01" into "~1", as RFC 6901 requires, not into "/".
      const char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (next != '0' && next != '1')
        return field_error{std::string{field}, "must escape \"~\" as \"~0\" and \"/\" as \"~1\""};
      token += next == '0' ? '~' : '/';
      ++i;
    } else {
      token += text[i];
    }
  }
  return result;
}

std::string to_string(const json_pointer& ptr) {
  std::string out;
  for (const auto& token : ptr.tokens) {
    out += '/';
    for (char c : token) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
  }
  return out;
}

std::optional<std::string> resolve(const json_pointer& ptr, std::string_view document_json) {
  auto target = locate(ptr, document_json);
  if (!target)
    return std::nullopt;
  return simdjson::minify(*target);
}

std::optional<std::vector<std::string>> resolve_array(const json_pointer& ptr, std::string_view document_json) {
  auto target = locate(ptr, document_json);
  simdjson::dom::array arr;
  if (!target || target->get_array().get(arr))
    return std::nullopt;
  std::vector<std::string> elements;
  elements.reserve(arr.size());
  for (auto element : arr)
    elements.push_back(simdjson::minify(element));
  return elements;
}

std::string item_id(std::string_view item_json, const std::optional<json_pointer>& id_pointer) {
  std::string id;
  if (id_pointer) {
    if (auto target = locate(*id_pointer, item_json)) {
      std::string_view text;
      switch (target->type()) {
        case simdjson::dom::element_type::STRING:
          if (!target->get_string().get(text))
            id = std::string{text};
          break;
        case simdjson::dom::element_type::OBJECT:
        case simdjson::dom::element_type::ARRAY:
          id = sha256_hex(simdjson::minify(*target));
          break;
        case simdjson::dom::element_type::NULL_VALUE:
          break;
        default: // numbers and booleans
          id = simdjson::minify(*target);
          break;
      }
    }
  }
  if (id.empty()) {
    simdjson::dom::element whole;
    if (thread_parser().parse(item_json.data(), item_json.size()).get(whole))
      return sha256_hex(item_json);
    return sha256_hex(simdjson::minify(whole));
  }
  if (id.size() > max_item_id_length)
    return sha256_hex(id);
  return id;
}

} // namespace feedrouter
