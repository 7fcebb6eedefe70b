#include "core/poll_state.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"

using namespace feedrouter;

namespace {

poll_spec spec(std::string_view json) {
  auto members = parse_json_object(json, "params");
  REQUIRE(members);
  auto parsed = parse_poll_spec(*members);
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().field + ": " + parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

const char items_params[] = R"({"url": "http://127.0.0.1/feed", "intervalSeconds": 5, "itemsPointer": "/items",
                                "idPointer": "/id"})";

/// Returns a newest-first document listing items with the ids `ids`, as most feeds do.
std::string document(const std::vector<int>& ids) {
  json_writer out;
  out.begin_object().key("items").begin_array();
  for (auto id : ids)
    out.begin_object().key("id").value(id).key("title").value("item " + std::to_string(id)).end_object();
  out.end_array().end_object();
  return out.take();
}

poll_step step_of(const poll_state& state, const poll_spec& s, std::string_view body, std::size_t max_items = 100,
                  std::string etag = {}) {
  auto step = next_poll_step(state, s, poll_document{body, std::move(etag), {}}, max_items);
  INFO(body << ": " << (step ? std::string{} : step.error().field + ": " + step.error().message));
  REQUIRE(step);
  return *step;
}

/// Returns the ids of `items` as their "id" members.
std::vector<std::string> ids_of(const std::vector<std::string>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) {
    auto members = parse_json_object(item, "item");
    REQUIRE(members);
    ids.push_back(*find_member(*members, "id"));
  }
  return ids;
}

/// Returns the state after a baseline poll of `body`.
poll_state baselined(const poll_spec& s, std::string_view body) {
  auto state = restore_poll_state("", s);
  return apply_poll_step(state, step_of(state, s, body));
}

} // namespace

TEST_CASE("the first poll records a baseline and fires nothing", "[poll_state]") {
  auto s = spec(items_params);
  auto state = restore_poll_state("", s);
  CHECK_FALSE(state.baseline);
  auto step = step_of(state, s, document({3, 2, 1}), 100, "\"v1\"");
  CHECK(step.sets_baseline);
  CHECK(step.new_items.empty());
  CHECK(step.needs_commit());
  auto next = apply_poll_step(state, step);
  CHECK(next.baseline);
  CHECK(next.seen.size() == 3);
  CHECK(next.etag == "\"v1\"");
}

TEST_CASE("new items come oldest first, in reverse document order", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({3, 2, 1}));
  auto step = step_of(state, s, document({6, 5, 4, 3, 2, 1}));
  CHECK_FALSE(step.sets_baseline);
  CHECK(step.complete);
  CHECK(ids_of(step.new_items) == std::vector<std::string>{"4", "5", "6"});
  auto next = apply_poll_step(state, step);
  CHECK(next.seen.size() == 6);
  CHECK(step_of(next, s, document({6, 5, 4, 3, 2, 1})).new_items.empty());
}

TEST_CASE("an unchanged document needs no commit but its validators are taken over", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({2, 1}));
  auto step = step_of(state, s, document({2, 1}), 100, "\"v2\"");
  CHECK_FALSE(step.needs_commit());
  CHECK(apply_poll_step(state, step).etag == "\"v2\"");
}

TEST_CASE("items that left the document and come back do not fire again", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({3, 2, 1}));
  state = apply_poll_step(state, step_of(state, s, document({3})));
  CHECK(step_of(state, s, document({3, 2, 1})).new_items.empty());
}

TEST_CASE("two items with one id in one document fire once", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({1}));
  auto step = step_of(state, s, document({2, 2, 1}));
  CHECK(ids_of(step.new_items) == std::vector<std::string>{"2"});
}

TEST_CASE("a step takes at most max_items, the oldest, and keeps the validators until the last", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({1}));
  state.etag = "\"old\"";
  const auto doc = document({5, 4, 3, 2, 1});
  auto first = step_of(state, s, doc, 2, "\"new\"");
  CHECK_FALSE(first.complete);
  CHECK(ids_of(first.new_items) == std::vector<std::string>{"2", "3"});
  state = apply_poll_step(state, first);
  CHECK(state.etag == "\"old\"");
  auto last = step_of(state, s, doc, 2, "\"new\"");
  CHECK(last.complete);
  CHECK(ids_of(last.new_items) == std::vector<std::string>{"4", "5"});
  state = apply_poll_step(state, last);
  CHECK(state.etag == "\"new\"");
  CHECK_FALSE(step_of(state, s, doc, 2, "\"new\"").needs_commit());
}

TEST_CASE("the seen set keeps the newest ids and never forgets a listed one", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({0}));
  // Item 0, the oldest id, stays in the document while newer items fill the set and push it over the bound.
  std::vector<int> full;
  for (int id = static_cast<int>(max_seen_ids) - 1; id >= 0; --id)
    full.push_back(id);
  state = apply_poll_step(state, step_of(state, s, document(full), max_seen_ids));
  REQUIRE(state.seen.size() == max_seen_ids);
  const auto newest = static_cast<int>(max_seen_ids);
  auto step = step_of(state, s, document({newest, 0}));
  CHECK(ids_of(step.new_items) == std::vector<std::string>{std::to_string(newest)});
  state = apply_poll_step(state, step);
  CHECK(state.seen.size() == max_seen_ids);
  CHECK(state.seen.contains(seen_ids::fingerprint("0")));
  CHECK_FALSE(state.seen.contains(seen_ids::fingerprint("1")));
  CHECK(state.seen.contains(seen_ids::fingerprint("2")));
  CHECK(state.seen.oldest_first().back() == seen_ids::fingerprint(std::to_string(newest)));
}

TEST_CASE("without itemsPointer the whole document is one item, hashed when there is no idPointer", "[poll_state]") {
  auto s = spec(R"({"url": "http://127.0.0.1/status", "intervalSeconds": 5})");
  auto state = baselined(s, R"({"build": 1})");
  CHECK(step_of(state, s, "{ \"build\" : 1 }").new_items.empty());
  auto step = step_of(state, s, R"({"build": 2})");
  CHECK(step.new_items == std::vector<std::string>{R"({"build":2})"});
  auto text = step_of(state, s, "plain <b>text</b>");
  CHECK(text.new_items == std::vector<std::string>{R"("plain <b>text</b>")"});
}

TEST_CASE("an empty itemsPointer takes the document as the array", "[poll_state]") {
  auto s = spec(R"({"url": "http://127.0.0.1/", "intervalSeconds": 5, "itemsPointer": ""})");
  auto state = baselined(s, "[1, 2]");
  CHECK(step_of(state, s, "[3, 1, 2]").new_items == std::vector<std::string>{"3"});
}

TEST_CASE("a checkpoint reads back as the same state", "[poll_state]") {
  auto s = spec(items_params);
  auto state = baselined(s, document({3, 2, 1}));
  state.etag = "W/\"x\\\"y\"";
  state.last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
  auto text = to_checkpoint(state);
  auto back = parse_poll_checkpoint(text);
  INFO(text);
  REQUIRE(back);
  CHECK(back->source == state.source);
  CHECK(back->baseline);
  CHECK(back->etag == state.etag);
  CHECK(back->last_modified == state.last_modified);
  CHECK(back->seen == state.seen);
  auto restored = restore_poll_state(text, s);
  CHECK(restored.seen == state.seen);
  CHECK(to_checkpoint(restored) == text);
}

TEST_CASE("a checkpoint of another url or pointer starts a new baseline", "[poll_state]") {
  auto s = spec(items_params);
  auto text = to_checkpoint(baselined(s, document({1})));
  for (auto other : {R"({"url": "http://127.0.0.1/other", "intervalSeconds": 5, "itemsPointer": "/items",
                         "idPointer": "/id"})",
                     R"({"url": "http://127.0.0.1/feed", "intervalSeconds": 5, "itemsPointer": "/items"})",
                     R"({"url": "http://127.0.0.1/feed", "intervalSeconds": 5, "itemsPointer": "/items",
                         "idPointer": ""})"}) {
    INFO(other);
    auto restored = restore_poll_state(text, spec(other));
    CHECK_FALSE(restored.baseline);
    CHECK(restored.seen.size() == 0);
  }
  auto same = spec(R"({"url": "http://127.0.0.1/feed", "intervalSeconds": 60, "itemsPointer": "/items",
                       "idPointer": "/id", "headers": {"X-Token": "new"}})");
  CHECK(restore_poll_state(text, same).baseline);
}

TEST_CASE("an item's payload is the item with trigger_payload members it lacks", "[poll_state]") {
  CHECK(poll_event_body(R"({"id":1,"team":"mine"})", R"({"team":"a","env":"prod"})")
        == R"({"id":1,"team":"mine","env":"prod"})");
  CHECK(poll_event_body(R"({"id":1})", "{}") == R"({"id":1})");
  CHECK(poll_event_body(R"("text")", R"({"env":"prod","item":0})") == R"({"env":"prod","item":"text"})");
  CHECK(poll_event_body("[1,2]", "{}") == R"({"item":[1,2]})");
}
