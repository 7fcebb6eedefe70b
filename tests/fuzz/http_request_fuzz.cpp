// Fuzzes the HTTP server's request reader (net/detail/request_reader) with what a client sends on one connection,
// read the way the server's sessions read it (tests/unit/net/read_requests.hpp).
//
// Input: byte 0 seeds the sizes of the pieces the stream arrives in; the rest is the stream. Checked:
// - the stream is split into the same requests, refused at the same place with the same status, whether it arrives
//   whole, byte by byte, or in pieces of the seeded sizes;
// - every request accepted ends where an independent reading of its framing ends it (the head, then Content-Length
//   bytes or the chunks and the trailer section), with the same body, never longer than the body limit;
// - an accepted request has at most one Host, Transfer-Encoding only as one "chunked" and never beside
//   Content-Length, and no CR, LF or NUL in its fields;
// - a refusal carries one of the statuses the server answers with.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "core/text.hpp"
#include "tests/unit/net/read_requests.hpp"

namespace {

using feedrouter::http_request;
using feedrouter::iequals;
using feedrouter::trim_ows;
using feedrouter::test::read_outcome;
using feedrouter::test::read_requests;

constexpr std::size_t header_limit = 512;
constexpr std::size_t body_limit = 128;

/// Stops the run with a finding when `condition` is false.
void require(bool condition) {
  if (!condition)
    __builtin_trap();
}

/// Returns piece sizes from 1 to 31, from a linear congruential generator seeded with `seed`.
auto seeded_pieces(std::uint8_t seed) {
  return [state = std::uint32_t{seed}]() mutable {
    state = state * 1103515245u + 12345u;
    return std::size_t{1} + (state >> 16) % 31;
  };
}

/// Returns whether two refusals of one stream are a 400 and a 431: the same head judged malformed in one reading and
/// too long in the other.
bool over_limit_or_malformed(const feedrouter::request_refusal& x, const feedrouter::request_refusal& y) {
  return (x.status == 400 && y.status == 431) || (x.status == 431 && y.status == 400);
}

void require_same(const read_outcome& x, const read_outcome& y) {
  require(x.ends == y.ends);
  require(x.requests.size() == y.requests.size());
  for (std::size_t i = 0; i < x.requests.size(); ++i) {
    require(x.requests[i].method == y.requests[i].method);
    require(x.requests[i].target == y.requests[i].target);
    require(x.requests[i].fields == y.requests[i].fields);
    require(x.requests[i].body == y.requests[i].body);
  }
  require(x.refusal.has_value() == y.refusal.has_value());
  // The message may differ: Beast 1.74 re-reads an unfinished chunk line with an unclosed quote as often as bytes
  // arrive, and may give up on it with another error (the status and field stay those of a malformed request).
  // A head that is malformed and also longer than the limit is refused either way, at the same place, but which of
  // the two is seen first depends on how much of it has arrived: 400 when the malformed part came in one piece, 431
  // when the limit was reached before it could be judged.
  if (x.refusal && y.refusal && !over_limit_or_malformed(*x.refusal, *y.refusal)) {
    require(x.refusal->status == y.refusal->status);
    require(x.refusal->field == y.refusal->field);
  }
  require(x.unfinished == y.unfinished);
}

/// Returns the end of the chunked body that starts at `at` in `stream` and its content, read without Beast: size
/// lines (extensions skipped), data, CRLF, down to the last chunk, then trailer lines up to a blank line.
std::pair<std::size_t, std::string> read_chunked(std::string_view stream, std::size_t at) {
  std::string body;
  while (true) {
    auto eol = stream.find("\r\n", at);
    require(eol != std::string_view::npos);
    std::uint64_t size = 0;
    auto digits = 0;
    for (auto c : stream.substr(at, eol - at)) {
      auto digit = std::string_view{"0123456789abcdef"}.find(feedrouter::ascii_lower(c));
      if (digit == std::string_view::npos)
        break;
      // Leading zeros are allowed, so the value is what must fit.
      require(size <= (std::numeric_limits<std::uint64_t>::max() - digit) / 16);
      size = size * 16 + digit;
      ++digits;
    }
    require(digits > 0);
    at = eol + 2;
    if (size == 0)
      break;
    require(size <= stream.size() - at);
    body.append(stream.substr(at, size));
    at += size;
    require(stream.substr(at, 2) == "\r\n");
    at += 2;
  }
  while (true) {
    auto eol = stream.find("\r\n", at);
    require(eol != std::string_view::npos);
    auto blank = eol == at;
    at = eol + 2;
    if (blank)
      return {at, body};
  }
}

/// Returns the first number of a Content-Length value that the reader accepted ("3" or "3, 3").
std::uint64_t content_length(std::string_view value) {
  std::uint64_t length = 0;
  for (auto c : trim_ows(value)) {
    if (c < '0' || c > '9')
      break;
    length = length * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return length;
}

/// Checks request `req`, read from `stream` between `start` and `end`, against the invariants above.
void check_accepted(std::string_view stream, std::size_t start, std::size_t end, const http_request& req) {
  require(req.body.size() <= body_limit);
  int hosts = 0;
  int transfer_encodings = 0;
  const std::pair<std::string, std::string>* length = nullptr;
  for (const auto& field : req.fields) {
    require(field.first.find_first_of(std::string_view{"\r\n\0", 3}) == std::string::npos);
    require(field.second.find_first_of(std::string_view{"\r\n\0", 3}) == std::string::npos);
    if (iequals(field.first, "host"))
      ++hosts;
    if (iequals(field.first, "transfer-encoding")) {
      ++transfer_encodings;
      require(iequals(trim_ows(field.second), "chunked"));
    }
    if (iequals(field.first, "content-length") && !length)
      length = &field;
  }
  require(hosts <= 1);
  require(transfer_encodings <= 1);
  require(!(transfer_encodings && length));
  auto head_end = stream.find("\r\n\r\n", start);
  require(head_end != std::string_view::npos);
  auto body_start = head_end + 4;
  if (transfer_encodings) {
    auto [chunked_end, body] = read_chunked(stream, body_start);
    require(chunked_end == end);
    require(body == req.body);
  } else {
    auto size = length ? content_length(length->second) : 0;
    require(end - body_start == size);
    require(stream.substr(body_start, size) == req.body);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view stream{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto whole = read_requests(stream, header_limit, body_limit, [&] { return stream.size(); });
  require_same(whole, read_requests(stream, header_limit, body_limit, [] { return std::size_t{1}; }));
  require_same(whole, read_requests(stream, header_limit, body_limit, seeded_pieces(data[0])));
  std::size_t start = 0;
  for (std::size_t i = 0; i < whole.requests.size(); ++i) {
    check_accepted(stream, start, whole.ends[i], whole.requests[i]);
    start = whole.ends[i];
  }
  if (whole.refusal) {
    auto status = whole.refusal->status;
    require(status == 400 || status == 413 || status == 417 || status == 431 || status == 501);
  }
  return 0;
}
