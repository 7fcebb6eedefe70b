#include "core/line_splitter.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using feedrouter::line_splitter;

using lines = std::vector<std::string>;

TEST_CASE("a line splitter cuts at line feeds and drops the carriage return before one", "[line_splitter]") {
  line_splitter splitter{64};
  REQUIRE(splitter.feed("{\"seq\":1}\n{\"seq\":2}\r\n{\"se"));
  CHECK(splitter.take_lines() == lines{"{\"seq\":1}", "{\"seq\":2}"});
  CHECK(splitter.take_lines().empty());
  REQUIRE(splitter.feed("q\":3}\r"));
  CHECK(splitter.take_lines().empty());
  REQUIRE(splitter.feed("\n"));
  CHECK(splitter.take_lines() == lines{"{\"seq\":3}"});
}

TEST_CASE("a line splitter leaves out blank lines, the heartbeats of a feed", "[line_splitter]") {
  line_splitter splitter{64};
  REQUIRE(splitter.feed("\n\r\n \t\n\r\r\nx\n"));
  CHECK(splitter.take_lines() == lines{"x"});
}

TEST_CASE("a line splitter counts the last line without its line break once the stream ends", "[line_splitter]") {
  line_splitter splitter{64};
  REQUIRE(splitter.feed("a\nb\r"));
  CHECK(splitter.finish() == lines{"a", "b"});
  line_splitter blank_end{64};
  REQUIRE(blank_end.feed("a\n \r"));
  CHECK(blank_end.finish() == lines{"a"});
}

TEST_CASE("a line splitter refuses a line longer than its limit, wherever the pieces are cut", "[line_splitter]") {
  constexpr std::size_t max_line = 8;
  const std::string longest(max_line, 'a');
  SECTION("a line of exactly the limit passes, with LF or CRLF, also when the CR comes alone") {
    line_splitter splitter{max_line};
    REQUIRE(splitter.feed(longest + "\n" + longest + "\r"));
    REQUIRE(splitter.feed("\n"));
    CHECK(splitter.take_lines() == lines{longest, longest});
  }
  SECTION("one byte more breaks the stream before its line feed comes") {
    line_splitter splitter{max_line};
    REQUIRE(splitter.feed(longest));
    CHECK_FALSE(splitter.feed("b"));
    CHECK(splitter.broken());
    CHECK_FALSE(splitter.feed("\n"));
    CHECK(splitter.finish().empty());
  }
  SECTION("the lines before the long one are still delivered") {
    line_splitter splitter{max_line};
    CHECK_FALSE(splitter.feed("ok\n" + longest + "bb\n"));
    CHECK(splitter.take_lines() == lines{"ok"});
  }
}
