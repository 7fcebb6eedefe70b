#include "net/detail/resp_codec.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

namespace feedrouter {

namespace {

/// Elements reserved for an array up front: its announced size is the peer's word, the elements that came are not.
constexpr std::size_t array_reserve_limit = 16;

/// Returns the integer `text` holds: an optional '-' and decimal digits, within 64 bits; nullopt for anything else.
std::optional<std::int64_t> read_integer(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text == "-")
    return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

void append_decimal(std::string& out, std::size_t n) {
  out += std::to_string(n);
}

} // namespace

void append_command(std::string& out, const std::vector<std::string>& args) {
  out += '*';
  append_decimal(out, args.size());
  out += "\r\n";
  for (const auto& arg : args) {
    out += '$';
    append_decimal(out, arg.size());
    out += "\r\n";
    out += arg;
    out += "\r\n";
  }
}

resp_reader::resp_reader(resp_limits limits) : limits_(limits) {
  // nop
}

std::size_t resp_reader::feed(std::string_view data) {
  std::size_t taken = 0;
  while (taken < data.size() && !has_reply_ && error_ == resp_read_error::none) {
    auto rest = data.substr(taken);
    switch (mode_) {
      case mode::line:
        taken += take_line(rest);
        break;
      case mode::bulk:
        taken += take_bulk(rest);
        break;
      case mode::bulk_end:
        taken += take_bulk_end(rest);
        break;
    }
  }
  return taken;
}

resp_value resp_reader::take_reply() {
  has_reply_ = false;
  kept_bytes_ = 0;
  values_ = 0;
  return std::exchange(reply_, resp_value{});
}

std::size_t resp_reader::take_line(std::string_view data) {
  auto newline = data.find('\n');
  auto piece = data.substr(0, newline);
  // The CR before the LF is part of what is read here, hence one byte more than a line may hold.
  if (line_.size() + piece.size() > limits_.max_line + 1) {
    fail(resp_read_error::too_large, "a line longer than " + std::to_string(limits_.max_line) + " bytes");
    return data.size();
  }
  line_ += piece;
  if (newline == std::string_view::npos)
    return data.size();
  if (line_.empty() || line_.back() != '\r') {
    fail(resp_read_error::malformed, "a line that does not end with CRLF");
    return newline + 1;
  }
  line_.pop_back();
  on_line();
  return newline + 1;
}

std::size_t resp_reader::take_bulk(std::string_view data) {
  auto n = std::min(bulk_left_, data.size());
  if (!bulk_.oversized)
    bulk_.text.append(data.substr(0, n));
  bulk_left_ -= n;
  if (bulk_left_ == 0) {
    mode_ = mode::bulk_end;
    crlf_left_ = 2;
  }
  return n;
}

std::size_t resp_reader::take_bulk_end(std::string_view data) {
  const char expected = crlf_left_ == 2 ? '\r' : '\n';
  if (data.front() != expected) {
    fail(resp_read_error::malformed, "a bulk string longer than its length");
    return 1;
  }
  if (--crlf_left_ == 0) {
    mode_ = mode::line;
    complete(std::exchange(bulk_, resp_value{}));
  }
  return 1;
}

void resp_reader::on_line() {
  if (line_.empty())
    return fail(resp_read_error::malformed, "an empty line");
  if (stack_.empty()) {
    // A new reply begins: it is one value, plus what its arrays announce.
    values_ = 1;
  }
  auto type = line_.front();
  auto rest = std::string_view{line_}.substr(1);
  resp_value value;
  switch (type) {
    case '+':
    case '-':
      // Kept whole or not at all: unlike a bulk string, a simple string has no length to report instead.
      if (kept_bytes_ + rest.size() > limits_.max_reply_bytes)
        return fail(resp_read_error::too_large,
                    "a reply of more than " + std::to_string(limits_.max_reply_bytes) + " bytes");
      value.type = type == '+' ? resp_value::kind::simple : resp_value::kind::error;
      value.text = std::string{rest};
      kept_bytes_ += rest.size();
      line_.clear();
      return complete(std::move(value));
    case ':': {
      auto number = read_integer(rest);
      if (!number)
        return fail(resp_read_error::malformed, "an integer reply that is not a 64-bit integer");
      value.type = resp_value::kind::integer;
      value.integer = *number;
      line_.clear();
      return complete(std::move(value));
    }
    case '$':
    case '*': {
      auto length = read_integer(rest);
      line_.clear();
      if (!length || *length < -1)
        return fail(resp_read_error::malformed, "a length that is not -1 or more");
      if (type == '$')
        return begin_bulk(*length);
      return begin_array(*length);
    }
    default:
      return fail(resp_read_error::malformed, "a reply of unknown type");
  }
}

void resp_reader::begin_bulk(std::int64_t length) {
  if (length == -1)
    return complete(resp_value{});
  auto size = static_cast<std::uint64_t>(length);
  bulk_ = resp_value{};
  bulk_.type = resp_value::kind::bulk;
  if (size > limits_.max_bulk || kept_bytes_ + size > limits_.max_reply_bytes) {
    // Read and dropped: the caller learns that the value was there and how large it was.
    bulk_.oversized = true;
    bulk_.integer = length;
  } else {
    kept_bytes_ += size;
  }
  bulk_left_ = size;
  mode_ = size == 0 ? mode::bulk_end : mode::bulk;
  crlf_left_ = 2;
}

void resp_reader::begin_array(std::int64_t length) {
  if (length == -1)
    return complete(resp_value{});
  auto size = static_cast<std::uint64_t>(length);
  if (size > limits_.max_array)
    return fail(resp_read_error::too_large, "an array of " + std::to_string(size) + " elements (at most "
                                              + std::to_string(limits_.max_array) + ")");
  if (stack_.size() + 1 > limits_.max_depth)
    return fail(resp_read_error::too_large,
                "arrays nested deeper than " + std::to_string(limits_.max_depth) + " levels");
  if (values_ + size > limits_.max_values)
    return fail(resp_read_error::too_large,
                "a reply of more than " + std::to_string(limits_.max_values) + " values");
  values_ += size;
  resp_value array;
  array.type = resp_value::kind::array;
  if (size == 0)
    return complete(std::move(array));
  array.items.reserve(std::min<std::size_t>(size, array_reserve_limit));
  stack_.push_back({std::move(array), size});
}

void resp_reader::complete(resp_value value) {
  for (;;) {
    if (stack_.empty()) {
      reply_ = std::move(value);
      has_reply_ = true;
      return;
    }
    auto& top = stack_.back();
    top.array.items.push_back(std::move(value));
    if (top.array.items.size() < top.expected)
      return;
    value = std::move(top.array);
    stack_.pop_back();
  }
}

void resp_reader::fail(resp_read_error why, std::string text) {
  error_ = why;
  error_text_ = std::move(text);
}

} // namespace feedrouter
