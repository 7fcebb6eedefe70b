#include "app/env_file.hpp"

#include "core/outcome.hpp"

namespace feedrouter {

namespace {

constexpr std::string_view blanks = " \t\r";

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

/// Returns whether a line ends in a backslash that is not itself escaped: systemd joins the next line to it.
bool ends_in_continuation(std::string_view text) {
  auto last_other = text.find_last_not_of('\\');
  auto backslashes = text.size() - (last_other == std::string_view::npos ? 0 : last_other + 1);
  return backslashes % 2 == 1;
}

bool is_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (name.empty() || !letter(name.front()))
    return false;
  for (char c : name)
    if (!letter(c) && !(c >= '0' && c <= '9'))
      return false;
  return true;
}

/// Reads the quoted value of variable `name`, starting at its opening quote.
outcome<std::string> quoted_value(std::string_view name, std::string_view text) {
  auto quote = text.front();
  std::string value;
  std::size_t i = 1;
  constexpr std::string_view kept_after_backslash = "\"\\`$";
  auto escapes = [&](std::size_t at) {
    return quote == '"' && text[at] == '\\' && at + 1 < text.size()
           && kept_after_backslash.find(text[at + 1]) != std::string_view::npos;
  };
  for (; i < text.size() && text[i] != quote; ++i) {
    if (escapes(i))
      ++i;
    value += text[i];
  }
  if (i == text.size()) {
    auto kind = quote == '"' ? "double" : "single";
    return field_error{std::string{name}, std::string{"the "} + kind + " quote is not closed on this line "
                                                                         "(check-config reads one line per value)"};
  }
  if (!trim(text.substr(i + 1)).empty())
    return field_error{std::string{name}, "text after the closing quote"};
  return value;
}

std::string unquoted_value(std::string_view text) {
  std::string value;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size())
      ++i;
    value += text[i];
  }
  return value;
}

} // namespace

env_file parse_env_file(std::string_view text) {
  env_file result;
  int number = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';')
      continue;
    auto fail = [&](const std::string& why) {
      result.problems.push_back("line " + std::to_string(number) + ": " + why);
    };
    auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      fail("not NAME=VALUE (systemd ignores the line)");
      continue;
    }
    auto name = trim(line.substr(0, equals));
    if (!is_name(name)) {
      fail("'" + std::string{name} + "' is not a variable name");
      continue;
    }
    auto value_text = trim(line.substr(equals + 1));
    if (ends_in_continuation(value_text)) {
      fail(std::string{name} + ": a value continued on the next line; write it on one line");
      continue;
    }
    std::string value;
    if (!value_text.empty() && (value_text.front() == '"' || value_text.front() == '\'')) {
      auto quoted = quoted_value(name, value_text);
      if (!quoted) {
        fail(quoted.error().field + ": " + quoted.error().message);
        continue;
      }
      value = std::move(*quoted);
    } else {
      value = unquoted_value(value_text);
    }
    result.assignments.push_back({std::string{name}, std::move(value), number});
  }
  return result;
}

} // namespace feedrouter
