#include "net/detail/request_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/text.hpp"

namespace feedrouter {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

using request_parser = http::request_parser<http::string_body>;

/// The blank line that ends a header section.
constexpr std::string_view head_end = "\r\n\r\n";

// -- checks Beast 1.74 does not make ------------------------------------------------------------------------------

/// Returns whether `c` is a tchar, a character of a token such as a method (RFC 9110 section 5.6.2).
bool is_tchar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

/// Returns whether `input`, the start of a head, may still become a request: its method is a token so far. Checked
/// before the head is complete, so that a TLS handshake or other binary sent to a plain server is refused at once
/// rather than after the idle timeout; and checked on every prefix, so the verdict does not depend on how the bytes
/// arrive.
bool starts_with_method(std::string_view input) noexcept {
  auto space = input.find(' ');
  auto method = input.substr(0, space);
  return (space != 0 || input.empty()) && std::all_of(method.begin(), method.end(), is_tchar);
}

/// Returns whether a line of `head` other than the first starts with a space or a tab: obsolete line folding, or
/// whitespace before the first field. Beast would join a folded line to the field above; another reader may not.
bool has_folded_line(std::string_view head) noexcept {
  return head.find("\r\n ") != std::string_view::npos || head.find("\r\n\t") != std::string_view::npos;
}

/// Returns the members of the comma-separated values of every field `name` in `fields` (RFC 9110 section 5.6.1),
/// without surrounding whitespace and without empty members.
std::vector<std::string_view> list_members(const http::fields& fields, http::field name) {
  std::vector<std::string_view> members;
  auto [first, last] = fields.equal_range(name);
  for (auto field = first; field != last; ++field) {
    std::string_view value{field->value().data(), field->value().size()};
    while (true) {
      auto comma = value.find(',');
      auto member = trim_ows(value.substr(0, comma));
      if (!member.empty())
        members.push_back(member);
      if (comma == std::string_view::npos)
        break;
      value.remove_prefix(comma + 1);
    }
  }
  return members;
}

/// Returns whether `c` may appear in a reg-name: unreserved, pct-encoded or sub-delims (RFC 3986 section 3.2.2).
bool is_reg_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || std::string_view{"-._~%!$&'()*+,;="}.find(c) != std::string_view::npos;
}

/// Returns whether `value` is a Host field value, uri-host [ ":" port ] (RFC 9110 section 7.2); it may be empty.
bool is_valid_host(std::string_view value) noexcept {
  std::string_view port_part;
  if (!value.empty() && value.front() == '[') {
    // IP-literal: an IPv6 address or IPvFuture, both made of reg-name characters and colons.
    auto close = value.find(']');
    if (close == std::string_view::npos)
      return false;
    auto literal = value.substr(1, close - 1);
    if (!std::all_of(literal.begin(), literal.end(), [](char c) { return c == ':' || is_reg_name_char(c); }))
      return false;
    port_part = value.substr(close + 1);
  } else {
    auto colon = value.find(':');
    auto name = value.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_reg_name_char))
      return false;
    port_part = colon == std::string_view::npos ? std::string_view{} : value.substr(colon);
  }
  if (port_part.empty())
    return true;
  return port_part.front() == ':'
         && std::all_of(port_part.begin() + 1, port_part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

request_refusal bad_request(std::string message, std::string field) {
  return {400, std::move(message), std::move(field)};
}

/// Returns why the head `parser` holds cannot be read safely, or nullopt when it can.
std::optional<request_refusal> check_head(const request_parser& parser) {
  const auto& msg = parser.get();
  const auto http11 = msg.version() == 11;
  // A server MUST answer 400 to an HTTP/1.1 request without a Host, and to any with several (RFC 9112 section 3.2).
  auto hosts = msg.count(http::field::host);
  if (hosts == 0 && http11)
    return bad_request("an HTTP/1.1 request needs a Host field", "Host");
  if (hosts > 1)
    return bad_request("more than one Host field", "Host");
  auto host = msg[http::field::host];
  if (hosts == 1 && !is_valid_host({host.data(), host.size()}))
    return bad_request("the Host field is not host[:port]", "Host");
  // Beast ignores a Transfer-Encoding whose last coding it does not know, and then reads the body as the next
  // request. The one reading every implementation shares is a single "chunked" (RFC 9112 sections 6.1 and 6.3),
  // and Beast must have taken it so.
  auto transfer_encodings = msg.count(http::field::transfer_encoding);
  if (transfer_encodings > 0) {
    if (!http11)
      return bad_request("Transfer-Encoding in an HTTP/1.0 request", "Transfer-Encoding");
    if (msg.count(http::field::content_length) > 0)
      return bad_request("Content-Length together with Transfer-Encoding", "Content-Length");
    auto value = msg[http::field::transfer_encoding];
    auto only_chunked = transfer_encodings == 1 && iequals(trim_ows({value.data(), value.size()}), "chunked");
    if (!only_chunked || !parser.chunked()) {
      // Chunked last, after other codings, is well-formed but asks for a decoder the server does not have.
      auto codings = list_members(msg, http::field::transfer_encoding);
      if (codings.size() > 1 && iequals(codings.back(), "chunked"))
        return request_refusal{501, "transfer codings other than one chunked are not supported",
                               "Transfer-Encoding"};
      return bad_request("the body length is unknown: Transfer-Encoding is not chunked", "Transfer-Encoding");
    }
  }
  // 100-continue is the only expectation there is (RFC 9110 section 10.1.1); HTTP/1.0 expectations are ignored.
  if (http11) {
    auto expectations = list_members(msg, http::field::expect);
    if (!std::all_of(expectations.begin(), expectations.end(),
                     [](std::string_view e) { return iequals(e, "100-continue"); }))
      return request_refusal{417, "the only expectation supported is 100-continue", "Expect"};
  }
  return std::nullopt;
}

} // namespace

// -- impl -------------------------------------------------------------------------------------------------------------

struct request_reader::impl {
  impl(std::size_t header_limit_bytes, std::size_t body_limit_bytes)
    : header_limit(header_limit_bytes), body_limit(body_limit_bytes) {
    parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(header_limit, std::numeric_limits<std::uint32_t>::max())));
    // The body limit is enforced here, on the body read so far, not by Beast: Beast 1.74 charges a chunk's size
    // against its limit again each time it re-reads a chunk line it could not finish (an unclosed quote in an
    // extension), so its verdict would depend on how the bytes arrive. (boost::none would refuse every body.)
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    // Only the head is parsed until it is checked; the body is then parsed as far as the input goes.
    parser.eager(false);
  }

  /// Looks for the end of the head, checks the whole head, and hands it to Beast; returns the bytes used.
  std::size_t read_head(std::string_view input) {
    if (!starts_with_method(input))
      return refuse(bad_request("malformed HTTP request: the method is not a token", "request"));
    auto end = input.find(head_end, scanned);
    if (end == std::string_view::npos) {
      if (input.size() > header_limit)
        refuse(header_too_large());
      // The next search starts where this one could not have found the blank line.
      scanned = input.size() < head_end.size() ? 0 : input.size() - head_end.size() + 1;
      return 0;
    }
    auto head = input.substr(0, end + head_end.size());
    if (head.size() > header_limit)
      return refuse(header_too_large());
    if (has_folded_line(head))
      return refuse(bad_request("obsolete line folding (a line that starts with whitespace)", "headers"));
    beast::error_code ec;
    auto used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
    if (ec)
      return refuse(refusal_for(ec));
    // Beast must end the head at the same blank line as the search above; a head it reads otherwise is refused.
    if (!parser.is_header_done() || used != head.size())
      return refuse(bad_request("malformed HTTP request: the header section", "request"));
    if (auto why = check_head(parser))
      return refuse(std::move(*why));
    // Refused before any of the body is read: a client that expects 100-continue does not send it.
    if (auto length = parser.content_length(); length && *length > body_limit)
      return refuse(body_too_large());
    const auto& msg = parser.get();
    request.method = std::string{msg.method_string()};
    request.target = std::string{msg.target()};
    // Taken now: trailer fields, which Beast adds to the same list later, must not pass for header fields.
    for (const auto& field : msg)
      request.fields.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    http10 = msg.version() == 10;
    keep_alive = parser.keep_alive();
    // check_head refused every expectation but 100-continue.
    expects_continue = !http10 && !list_members(msg, http::field::expect).empty();
    at = phase::body;
    finish_if_done();
    return head.size();
  }

  /// Parses body bytes; returns the bytes used.
  std::size_t read_body(std::string_view input) {
    parser.eager(true);
    std::size_t used = 0;
    while (at == phase::body && used < input.size()) {
      // Beast waits for a chunk's whole size line, and for the whole trailer section; a window of header_limit bytes
      // bounds how much of them is buffered, whatever the pieces the input arrives in.
      auto window = input.substr(used, header_limit);
      beast::error_code ec;
      auto n = parser.put(boost::asio::buffer(window.data(), window.size()), ec);
      used += n;
      // Before Beast's verdict: it may have found an error after the limit was passed, in the same window.
      if (parser.get().body().size() > body_limit) {
        refuse(body_too_large());
        break;
      }
      if (ec == http::error::need_more) {
        if (n > 0)
          continue;
        if (window.size() == header_limit)
          refuse(bad_request("a chunk size line or the trailer section exceeds " + std::to_string(header_limit)
                               + " bytes",
                             "body"));
        break;
      }
      if (ec) {
        refuse(refusal_for(ec));
        break;
      }
      finish_if_done();
      if (n == 0)
        break;
    }
    return used;
  }

  void finish_if_done() {
    if (!parser.is_done())
      return;
    request.body = std::move(parser.get().body());
    at = phase::done;
  }

  std::size_t refuse(request_refusal why) {
    refusal = std::move(why);
    at = phase::refused;
    return 0;
  }

  request_refusal header_too_large() const {
    return {431, "request header exceeds " + std::to_string(header_limit) + " bytes", "headers"};
  }

  request_refusal body_too_large() const {
    return {413, "request body exceeds " + std::to_string(body_limit) + " bytes", "body"};
  }

  request_refusal refusal_for(beast::error_code ec) const {
    if (ec == http::error::header_limit)
      return header_too_large();
    return bad_request("malformed HTTP request: " + ec.message(), "request");
  }

  std::size_t header_limit;
  std::size_t body_limit;
  request_parser parser;
  phase at = phase::head;
  std::size_t scanned = 0; ///< how much of the buffered head is known to hold no blank line
  http_request request;
  request_refusal refusal;
  bool expects_continue = false;
  bool keep_alive = false;
  bool http10 = false;
};

// -- request_reader ---------------------------------------------------------------------------------------------------

request_reader::request_reader(std::size_t header_limit, std::size_t body_limit)
  : impl_(std::make_unique<impl>(header_limit, body_limit)) {
  // nop
}

request_reader::~request_reader() = default;

request_reader::request_reader(request_reader&&) noexcept = default;

request_reader& request_reader::operator=(request_reader&&) noexcept = default;

std::size_t request_reader::put(std::string_view input) {
  std::size_t used = 0;
  if (impl_->at == phase::head)
    used = impl_->read_head(input);
  if (impl_->at == phase::body)
    used += impl_->read_body(input.substr(used));
  return used;
}

request_reader::phase request_reader::progress() const noexcept {
  return impl_->at;
}

bool request_reader::expects_continue() const noexcept {
  return impl_->expects_continue;
}

bool request_reader::keep_alive() const noexcept {
  return impl_->keep_alive;
}

bool request_reader::http10() const noexcept {
  return impl_->http10;
}

const request_refusal& request_reader::refusal() const noexcept {
  return impl_->refusal;
}

http_request request_reader::release() {
  return std::move(impl_->request);
}

} // namespace feedrouter
