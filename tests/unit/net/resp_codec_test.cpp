#include "net/detail/resp_codec.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

/// Reads every reply in `bytes`, fed `piece` bytes at a time; stops at an error.
std::vector<resp_value> read_all(resp_reader& reader, std::string_view bytes, std::size_t piece) {
  std::vector<resp_value> replies;
  while (!bytes.empty() && reader.error() == resp_read_error::none) {
    auto taken = reader.feed(bytes.substr(0, piece));
    bytes.remove_prefix(taken);
    if (reader.has_reply())
      replies.push_back(reader.take_reply());
  }
  return replies;
}

/// An XREAD reply of one entry, as Redis 7.0 sends it.
constexpr std::string_view xread_reply =
  "*1\r\n*2\r\n$4\r\njobs\r\n*1\r\n*2\r\n$15\r\n1796404172968-0\r\n*4\r\n$4\r\nkind\r\n$5\r\nemail\r\n"
  "$2\r\nto\r\n$13\r\na@example.com\r\n";

} // namespace

TEST_CASE("a command is an array of bulk strings", "[resp_codec]") {
  std::string out;
  append_command(out, {"XREAD", "COUNT", "10", "STREAMS", "jobs", "0-0"});
  CHECK(out == "*6\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n$7\r\nSTREAMS\r\n$4\r\njobs\r\n$3\r\n0-0\r\n");
  out.clear();
  // Binary-safe: the length frames the argument, whatever bytes it holds.
  append_command(out, {std::string{"a\r\n\0b", 5}});
  CHECK(out == std::string{"*1\r\n$5\r\na\r\n\0b\r\n", 15});
}

TEST_CASE("replies of every RESP2 type are read, whole or byte by byte", "[resp_codec]") {
  const std::string bytes = "+OK\r\n-WRONGPASS invalid\r\n:42\r\n:-7\r\n$3\r\nabc\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n"
                            + std::string{xread_reply};
  for (std::size_t piece : {bytes.size(), std::size_t{1}, std::size_t{7}}) {
    INFO("pieces of " << piece);
    resp_reader reader;
    auto replies = read_all(reader, bytes, piece);
    REQUIRE(reader.error() == resp_read_error::none);
    REQUIRE(replies.size() == 10);
    CHECK(replies[0].type == resp_value::kind::simple);
    CHECK(replies[0].text == "OK");
    CHECK(replies[1].is_error());
    CHECK(replies[1].text == "WRONGPASS invalid");
    CHECK(replies[2].integer == 42);
    CHECK(replies[3].integer == -7);
    CHECK(replies[4].text == "abc");
    CHECK(replies[5].type == resp_value::kind::bulk);
    CHECK(replies[5].text.empty());
    CHECK(replies[6].is_null());
    CHECK(replies[7].is_null());
    CHECK(replies[8].is_array());
    CHECK(replies[8].items.empty());
    const auto& fields = replies[9].items[0].items[1].items[0].items[1];
    REQUIRE(fields.items.size() == 4);
    CHECK(fields.items[3].text == "a@example.com");
    CHECK_FALSE(reader.mid_reply());
  }
}

TEST_CASE("a bulk string beyond its bound is read and dropped, marked oversized with its size", "[resp_codec]") {
  resp_limits limits;
  limits.max_bulk = 4;
  resp_reader reader{limits};
  auto replies = read_all(reader, "*2\r\n$10\r\n0123456789\r\n$2\r\nok\r\n", 3);
  REQUIRE(reader.error() == resp_read_error::none);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].items[0].oversized);
  CHECK(replies[0].items[0].integer == 10);
  CHECK(replies[0].items[0].text.empty());
  CHECK(replies[0].items[1].text == "ok");
}

TEST_CASE("what one reply keeps is bounded in bytes, whatever the sizes of its strings", "[resp_codec]") {
  resp_limits limits;
  limits.max_bulk = 8;
  limits.max_reply_bytes = 10;
  resp_reader reader{limits};
  auto replies = read_all(reader, "*3\r\n$6\r\naaaaaa\r\n$6\r\nbbbbbb\r\n$2\r\ncc\r\n", 64);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].items[0].text == "aaaaaa");
  CHECK(replies[0].items[1].oversized);
  CHECK(replies[0].items[2].text == "cc");
  // The budget is per reply: the next one starts afresh.
  replies = read_all(reader, "$6\r\ndddddd\r\n", 64);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].text == "dddddd");
}

TEST_CASE("simple strings and errors count against a reply's bytes too: many long ones fail the reader",
          "[resp_codec]") {
  // Each fits a line, but together they are more than one reply may keep (a finding of the redis_stream fuzz target:
  // with the default limits an array of 64 Ki simple strings of 64 KiB each would have kept 4 GiB).
  resp_limits limits;
  limits.max_line = 8;
  limits.max_reply_bytes = 20;
  resp_reader reader{limits};
  auto replies = read_all(reader, "*4\r\n+aaaaaaa\r\n-bbbbbbb\r\n+ccccccc\r\n+d\r\n", 3);
  CHECK(replies.empty());
  CHECK(reader.error() == resp_read_error::too_large);
  // Within the budget they are kept as before.
  resp_reader fits{limits};
  replies = read_all(fits, "*2\r\n+aaaaaaa\r\n-bbbbbbb\r\n", 3);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].items[1].is_error());
  CHECK(replies[0].items[1].text == "bbbbbbb");
}

TEST_CASE("a hostile server's huge, deep or malformed replies fail the reader instead of taking memory",
          "[resp_codec]") {
  resp_limits limits;
  limits.max_array = 100;
  limits.max_values = 150;
  limits.max_depth = 3;
  limits.max_line = 16;
  struct bad {
    std::string bytes;
    resp_read_error why;
  };
  const std::vector<bad> cases = {
    {"*50000000\r\n:1\r\n", resp_read_error::too_large},
    {"*100\r\n*100\r\n", resp_read_error::too_large},
    {"*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", resp_read_error::too_large},
    {"+" + std::string(100, 'x') + "\r\n", resp_read_error::too_large},
    {"?what\r\n", resp_read_error::malformed},
    {"$-2\r\n", resp_read_error::malformed},
    {":12x\r\n", resp_read_error::malformed},
    {"$3\r\nabcd\r\n", resp_read_error::malformed},
    {"+OK\n", resp_read_error::malformed},
    {"\r\n", resp_read_error::malformed},
  };
  for (const auto& c : cases) {
    INFO(c.bytes);
    resp_reader reader{limits};
    read_all(reader, c.bytes, 1);
    CHECK(reader.error() == c.why);
    CHECK_FALSE(reader.error_text().empty());
    // After an error the reader takes nothing more.
    CHECK(reader.feed("+OK\r\n") == 0);
  }
}
