#include "core/poll_state.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/json.hpp"

using namespace feedrouter;

namespace {

poll_spec spec(std::string_view json) {
  auto members = parse_json_object(json, "params");
  REQUIRE(members);
  auto parsed = parse_poll_spec(*members);
  REQUIRE(parsed);
  return *parsed;
}

const char items_params[] = R"({"url": "http://127.0.0.1/feed", "intervalSeconds": 5, "itemsPointer": "/items"})";

field_error step_error(std::string_view body) {
  auto s = spec(items_params);
  auto step = next_poll_step(restore_poll_state("", s), s, poll_document{body, {}, {}}, 100);
  INFO("body: " << body);
  REQUIRE_FALSE(step);
  return step.error();
}

} // namespace

TEST_CASE("a document that is not JSON is an error when items are pointed at", "[poll_state]") {
  for (std::string_view body : {"", "<html></html>", "{\"items\": [1,", "{\"items\": []} tail"}) {
    auto err = step_error(body);
    CHECK(err.field == "url");
    CHECK(err.message.find("not valid JSON") != std::string::npos);
  }
}

TEST_CASE("an itemsPointer that finds no array is an error naming itemsPointer", "[poll_state]") {
  for (std::string_view body : {R"({})", R"({"items": {"a": 1}})", R"({"items": "x"})", R"([1, 2])"}) {
    auto err = step_error(body);
    CHECK(err.field == "itemsPointer");
    CHECK(err.message.find("/items") != std::string::npos);
  }
}

TEST_CASE("a document listing more than max_seen_ids items is refused", "[poll_state]") {
  std::string body = R"({"items": [0)";
  for (std::size_t i = 1; i <= max_seen_ids; ++i)
    body += "," + std::to_string(i);
  body += "]}";
  auto err = step_error(body);
  CHECK(err.field == "itemsPointer");
  CHECK(err.message.find(std::to_string(max_seen_ids)) != std::string::npos);
}

TEST_CASE("unreadable checkpoints are errors naming checkpoint", "[poll_state]") {
  const auto valid_seen = std::string(16, 'a');
  for (std::string_view text : {
         "",
         "[]",
         "not json",
         R"({"v": 2, "source": "s", "baseline": true, "etag": "", "lastModified": "", "seen": ""})",
         R"({"source": "s", "baseline": true, "etag": "", "lastModified": "", "seen": ""})",
         R"({"v": 1, "baseline": true, "etag": "", "lastModified": "", "seen": ""})",
         R"({"v": 1, "source": "s", "baseline": "yes", "etag": "", "lastModified": "", "seen": ""})",
         R"({"v": 1, "source": "s", "baseline": true, "etag": 1, "lastModified": "", "seen": ""})",
         R"({"v": 1, "source": "s", "baseline": true, "etag": "", "lastModified": "", "seen": "abc"})",
         R"({"v": 1, "source": "s", "baseline": true, "etag": "", "lastModified": "", "seen": "ABCDEF0123456789"})",
         R"({"v": 1, "source": "s", "baseline": true, "etag": "", "lastModified": "", "seen": "zzzzzzzzzzzzzzzz"})",
       }) {
    INFO("checkpoint: " << text);
    auto parsed = parse_poll_checkpoint(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "checkpoint");
  }
}

TEST_CASE("an unreadable checkpoint restores a fresh state that sets a new baseline", "[poll_state]") {
  auto s = spec(items_params);
  auto state = restore_poll_state("{broken", s);
  CHECK_FALSE(state.baseline);
  CHECK(state.seen.size() == 0);
  CHECK(state.source == poll_source_fingerprint(s));
}
