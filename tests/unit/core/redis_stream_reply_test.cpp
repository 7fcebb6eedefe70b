#include "core/redis_stream_reply.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

resp_value bulk(std::string text) {
  resp_value v;
  v.type = resp_value::kind::bulk;
  v.text = std::move(text);
  return v;
}

resp_value oversized(std::int64_t size) {
  resp_value v;
  v.type = resp_value::kind::bulk;
  v.oversized = true;
  v.integer = size;
  return v;
}

resp_value integer(std::int64_t n) {
  resp_value v;
  v.type = resp_value::kind::integer;
  v.integer = n;
  return v;
}

resp_value array(std::vector<resp_value> items) {
  resp_value v;
  v.type = resp_value::kind::array;
  v.items = std::move(items);
  return v;
}

resp_value nil() {
  return resp_value{};
}

redis_stream_spec jobs() {
  auto spec =
    parse_redis_stream_spec(params(R"({"url": "redis://r.example.com", "stream": "jobs"})"), loopback_allowed());
  REQUIRE(spec);
  return *spec;
}

} // namespace

TEST_CASE("the source's commands are Redis's", "[redis_stream_reply]") {
  using args = std::vector<std::string>;
  auto spec = jobs();
  CHECK(xread_command(spec, 10, 2000, {1700000000000, 3})
        == args{"XREAD", "COUNT", "10", "BLOCK", "2000", "STREAMS", "jobs", "1700000000000-3"});
  CHECK(xread_command(spec, 1, 0, stream_id_zero)
        == args{"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "jobs", "0-0"});
  CHECK(last_entry_command(spec) == args{"XREVRANGE", "jobs", "+", "-", "COUNT", "1"});
  CHECK(type_command(spec) == args{"TYPE", "jobs"});
}

TEST_CASE("an XREAD reply gives its entries in order", "[redis_stream_reply]") {
  // *1 *2 $4 jobs *2 [*2 $15 1796404172968-0 *4 kind email to a@example.com] [*2 $15 1796404172968-1 *0]
  auto reply = array({array({bulk("jobs"),
                             array({array({bulk("1796404172968-0"),
                                           array({bulk("kind"), bulk("email"), bulk("to"), bulk("a@example.com")})}),
                                    array({bulk("1796404172968-1"), array({})})})})});
  auto read = read_stream_entries(reply);
  REQUIRE(read.ok());
  REQUIRE(read.value.size() == 2);
  CHECK(read.value[0].id == stream_id{1796404172968, 0});
  REQUIRE(read.value[0].fields.size() == 2);
  CHECK(read.value[0].fields[1].name == "to");
  CHECK(read.value[0].fields[1].value == "a@example.com");
  CHECK(read.value[1].fields.empty());
}

TEST_CASE("a BLOCK that timed out and an empty entry list hold no entries", "[redis_stream_reply]") {
  auto timed_out = nil();
  auto read = read_stream_entries(timed_out);
  CHECK(read.ok());
  CHECK(read.value.empty());
  auto empty = array({array({bulk("jobs"), array({})})});
  read = read_stream_entries(empty);
  CHECK(read.ok());
  CHECK(read.value.empty());
}

TEST_CASE("XREAD replies of other shapes are malformed, not entries", "[redis_stream_reply]") {
  std::vector<resp_value> bad;
  bad.push_back(bulk("OK"));
  bad.push_back(array({}));
  bad.push_back(array({bulk("jobs")}));
  bad.push_back(array({array({bulk("jobs"), bulk("x")})}));
  bad.push_back(array({array({bulk("jobs"), array({array({bulk("not-an-id"), array({})})})})}));
  bad.push_back(array({array({bulk("jobs"), array({array({bulk("1-0"), array({bulk("odd")})})})})}));
  bad.push_back(array({array({bulk("jobs"), array({array({bulk("1-0"), array({integer(1), bulk("v")})})})})}));
  bad.push_back(array({array({bulk("jobs"), array({array({bulk("1-0")})})})}));
  bad.push_back(array({array({bulk("jobs"), array({array({bulk("1-0"), nil()})})})}));
  for (auto& reply : bad) {
    auto read = read_stream_entries(reply);
    CHECK_FALSE(read.ok());
  }
}

TEST_CASE("a value too large to keep is an entry's oversized field", "[redis_stream_reply]") {
  auto fields = array({bulk("small"), bulk("x"), bulk("big"), oversized(9'000'000)});
  auto reply = array({array({bulk("jobs"), array({array({bulk("5-0"), fields})})})});
  auto read = read_stream_entries(reply);
  REQUIRE(read.ok());
  REQUIRE(read.value.size() == 1);
  CHECK(read.value[0].oversized());
  CHECK(read.value[0].fields[1].size == 9'000'000);
  auto body = stream_entry_body("jobs", read.value[0], "{}");
  CHECK(body == R"({"stream":"jobs","id":"5-0","fields":{"small":"x","big":null},"oversizedFields":["big"]})");
}

TEST_CASE("an XREVRANGE reply gives the stream's last ID, or zero for an empty stream", "[redis_stream_reply]") {
  auto last = read_last_id(array({array({bulk("7-3"), array({bulk("k"), bulk("v")})})}));
  REQUIRE(last.ok());
  CHECK(last.value == stream_id{7, 3});
  auto empty = read_last_id(array({}));
  REQUIRE(empty.ok());
  CHECK(empty.value == stream_id_zero);
  CHECK_FALSE(read_last_id(nil()).ok());
  CHECK_FALSE(read_last_id(array({bulk("7-3")})).ok());
  CHECK_FALSE(read_last_id(array({array({bulk("x"), array({})})})).ok());
  CHECK_FALSE(read_last_id(array({array({bulk("1-0"), array({})}), array({bulk("2-0"), array({})})})).ok());
}

TEST_CASE("Redis's error replies are classified by what they mean for the registration", "[redis_stream_reply]") {
  CHECK(classify_redis_error("WRONGPASS invalid username-password pair or user is disabled.")
        == redis_refusal::credentials);
  CHECK(classify_redis_error("NOAUTH Authentication required.") == redis_refusal::credentials);
  CHECK(classify_redis_error("ERR AUTH <password> called without any password configured for the default user. Are "
                             "you sure your configuration is correct?")
        == redis_refusal::credentials);
  CHECK(classify_redis_error("NOPERM this user has no permissions to run the 'xread' command")
        == redis_refusal::permission);
  CHECK(classify_redis_error("WRONGTYPE Operation against a key holding the wrong kind of value")
        == redis_refusal::wrong_type);
  for (auto transient : {"UNBLOCKED the stream key no longer exists", "LOADING Redis is loading the dataset in memory",
                         "ERR unknown command", ""})
    CHECK(classify_redis_error(transient) == redis_refusal::transient);
  CHECK(refusal_field(redis_refusal::credentials) == "url");
  CHECK(refusal_field(redis_refusal::no_stream) == "stream");
  CHECK(refusal_field(redis_refusal::transient).empty());
  // The tenant reads the provider's words, never the server's.
  CHECK(refusal_text(redis_refusal::credentials).find("WRONGPASS") == std::string::npos);
}

TEST_CASE("an entry's fire body holds the stream, the ID and the fields, with trigger_payload beside them",
          "[redis_stream_reply]") {
  stream_entry entry;
  entry.id = {1700000000000, 1};
  entry.fields = {{"kind", "email", false, 5}, {"to", "a@example.com", false, 13}};
  CHECK(stream_entry_body("jobs", entry, "{}")
        == R"({"stream":"jobs","id":"1700000000000-1","fields":{"kind":"email","to":"a@example.com"}})");
  CHECK(stream_entry_body("jobs", entry, R"({"stream":"not this","team":"ops"})")
        == R"({"stream":"jobs","id":"1700000000000-1","fields":{"kind":"email","to":"a@example.com"},"team":"ops"})");
}

TEST_CASE("a field value that is not UTF-8 is fired as base64 and named in binaryFields", "[redis_stream_reply]") {
  stream_entry entry;
  entry.id = {2, 0};
  entry.fields = {{"blob", std::string{"\xff\x00" "bin", 5}, false, 5}, {"text", "caf\xc3\xa9", false, 5}};
  auto body = stream_entry_body("s", entry, "{}");
  CHECK(body == R"({"stream":"s","id":"2-0","fields":{"blob":"/wBiaW4=","text":"café"},"binaryFields":["blob"]})");
  CHECK(json_is_object(body));
}

TEST_CASE("a connection logs in with AUTH and SELECT only when the url asks for them", "[redis_stream_reply]") {
  using commands = std::vector<std::vector<std::string>>;
  redis_server server;
  CHECK(login_commands(server).empty());
  server.password = "pw";
  CHECK(login_commands(server) == commands{{"AUTH", "pw"}});
  server.user = "reader";
  server.db = 3;
  CHECK(login_commands(server) == commands{{"AUTH", "reader", "pw"}, {"SELECT", "3"}});
}

TEST_CASE("a TYPE reply says whether the key is a stream, missing or something else", "[redis_stream_reply]") {
  resp_value simple;
  simple.type = resp_value::kind::simple;
  simple.text = "stream";
  CHECK(read_key_type(simple).value == stream_key::stream);
  simple.text = "none";
  CHECK(read_key_type(simple).value == stream_key::missing);
  simple.text = "string";
  CHECK(read_key_type(simple).value == stream_key::other);
  CHECK_FALSE(read_key_type(integer(1)).ok());
}

TEST_CASE("entries cut by the reply's byte budget are read again, an entry too large alone is handed over",
          "[redis_stream_reply]") {
  constexpr std::size_t max_bulk = 100;
  auto entry = [](std::uint64_t ms, bool oversized, std::int64_t size) {
    stream_entry e;
    e.id = {ms, 0};
    e.fields = {{"f", oversized ? "" : "v", oversized, size}};
    return e;
  };
  CHECK(entries_to_hand_over({entry(1, false, 1), entry(2, false, 1)}, max_bulk) == 2);
  // The second entry's value fits a bulk string but not what the reply had left.
  CHECK(entries_to_hand_over({entry(1, false, 1), entry(2, true, 50), entry(3, true, 50)}, max_bulk) == 1);
  // Too large on its own: fired with the field marked, wherever it is.
  CHECK(entries_to_hand_over({entry(1, false, 1), entry(2, true, 500)}, max_bulk) == 2);
  // The first entry is handed over in any case, or the feed would read it forever.
  CHECK(entries_to_hand_over({entry(1, true, 50)}, max_bulk) == 1);
  CHECK(entries_to_hand_over({}, max_bulk) == 0);
}
