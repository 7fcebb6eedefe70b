#include "core/redis_stream_spec.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "core/feed_config.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::loopback_allowed;
using feedrouter::test::params;

namespace {

constexpr std::string_view trigger_key = "alice/orders";

redis_stream_spec parsed(std::string_view json) {
  auto spec = parse_redis_stream_spec(params(json), loopback_allowed());
  INFO(json << ": " << (spec ? std::string{} : spec.error().field + ": " + spec.error().message));
  REQUIRE(spec);
  return *spec;
}

} // namespace

TEST_CASE("a redis-stream feed reads its server, stream and defaults", "[redis_stream_spec]") {
  auto spec = parsed(R"({"url": "redis://redis.example.com", "stream": "jobs"})");
  CHECK_FALSE(spec.server.tls);
  CHECK(spec.server.host == "redis.example.com");
  CHECK(spec.server.port == 6379);
  CHECK(spec.server.db == 0);
  CHECK(spec.server.user.empty());
  CHECK(spec.server.password.empty());
  CHECK(spec.stream == "jobs");
  CHECK(spec.start == "$");
  CHECK_FALSE(spec.create);
}

TEST_CASE("a redis-stream url carries TLS, credentials, port and database", "[redis_stream_spec]") {
  auto spec = parsed(R"({"url": "rediss://reader:p%40ss%3Aw0rd@Redis.Example.com:6380/3", "stream": "jobs"})");
  CHECK(spec.server.tls);
  CHECK(spec.server.host == "redis.example.com");
  CHECK(spec.server.port == 6380);
  CHECK(spec.server.db == 3);
  CHECK(spec.server.user == "reader");
  CHECK(spec.server.password == "p@ss:w0rd");
  CHECK(spec.server.text() == "rediss://redis.example.com:6380/3");

  auto password_only = parsed(R"({"url": "redis://:secret@[2606:4700::1111]:7000/", "stream": "jobs"})");
  CHECK(password_only.server.host == "2606:4700::1111");
  CHECK(password_only.server.port == 7000);
  CHECK(password_only.server.user.empty());
  CHECK(password_only.server.password == "secret");
  CHECK(password_only.server.text() == "redis://[2606:4700::1111]:7000/0");
}

TEST_CASE("a redis-stream password may come as its own parameter, and one inside url wins", "[redis_stream_spec]") {
  auto separate = parsed(R"({"url": "redis://reader@r.example.com", "password": "pw", "stream": "s"})");
  CHECK(separate.server.user == "reader");
  CHECK(separate.server.password == "pw");
  auto both = parsed(R"({"url": "redis://reader:new@r.example.com", "password": "old", "stream": "s"})");
  CHECK(both.server.password == "new");
}

TEST_CASE("a redis-stream start and create are taken as given", "[redis_stream_spec]") {
  auto spec = parsed(R"({"url": "redis://r.example.com", "stream": "s", "start": "0", "create": "true"})");
  CHECK(spec.start == "0");
  CHECK(spec.create);
  CHECK(parsed(R"({"url": "redis://r.example.com", "stream": "s", "start": 0})").start == "0");
}

TEST_CASE("redis-stream parameters are stored with the password out of url", "[redis_stream_spec]") {
  auto stored = normalize_redis_stream_params(
    params(R"({"url": "redis://reader:s3cr%40t@r.example.com:6380/2", "stream": "s", "start": 0, "create": "true"})"));
  CHECK(to_json_object(stored)
        == R"({"url":"redis://reader@r.example.com:6380/2","stream":"s","start":"0","create":true,)"
           R"("password":"s3cr@t"})");
  // What is stored validates to the same server.
  auto again = parse_redis_stream_spec(stored, loopback_allowed());
  REQUIRE(again);
  CHECK(again->server.user == "reader");
  CHECK(again->server.password == "s3cr@t");

  auto only_password = normalize_redis_stream_params(params(R"({"url": "redis://:pw@r.example.com", "stream": "s"})"));
  CHECK(to_json_object(only_password) == R"({"url":"redis://r.example.com","stream":"s","password":"pw"})");
  auto without = params(R"({"url": "redis://r.example.com", "stream": "s"})");
  CHECK(to_json_object(normalize_redis_stream_params(without)) == to_json_object(without));
}

TEST_CASE("a redis-stream registration is a feed config whose shown parameters hold no password",
          "[redis_stream_spec][feed_config]") {
  auto config = make_feed_config("redis-stream", params(R"({"url": "redis://:pw@127.0.0.1:6379", "stream": "s",
                                                            "batchSize": "10"})"),
                                 sys_ms{}, validation_time::request, trigger_key, loopback_allowed());
  REQUIRE(config);
  REQUIRE(config->redis_stream);
  CHECK(config->redis_stream->server.password == "pw");
  CHECK(config->delivery.batch_size == 10);
  auto stored = to_json_object(config->params);
  CHECK(stored.find("pw@") == std::string::npos);
  CHECK(stored.find(R"("url":"redis://127.0.0.1:6379")") != std::string::npos);
  CHECK(stored.find(R"("batchSize":10)") != std::string::npos);
}

TEST_CASE("stream IDs are read and ordered as Redis orders them", "[redis_stream_spec]") {
  auto a = parse_stream_id("1700000000000-0");
  auto b = parse_stream_id("1700000000000-12");
  auto c = parse_stream_id("1700000000001-0");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(*a < *b);
  CHECK(*b < *c);
  CHECK(*a <= *a);
  CHECK(b->text() == "1700000000000-12");
  CHECK(parse_stream_id("18446744073709551615-18446744073709551615"));
  for (auto bad : {"", "-", "1", "1-", "-1", "1-2-3", "a-1", "1-b", "18446744073709551616-0", " 1-0", "+1-0"})
    CHECK_FALSE(parse_stream_id(bad));
}

TEST_CASE("a redis-stream checkpoint names the server and stream but no credentials", "[redis_stream_spec]") {
  auto spec = parsed(R"({"url": "redis://u:pw@r.example.com:6380/1", "stream": "jobs"})");
  auto checkpoint = to_redis_checkpoint(spec, {1700000000000, 3});
  CHECK(checkpoint
        == R"({"server":"redis://r.example.com:6380/1","stream":"jobs","id":"1700000000000-3"})");
  CHECK(restore_redis_id(checkpoint, spec) == stream_id{1700000000000, 3});
  CHECK_FALSE(restore_redis_id("", spec));
  CHECK_FALSE(restore_redis_id("not json", spec));
  auto other_stream = parsed(R"({"url": "redis://u:pw@r.example.com:6380/1", "stream": "mail"})");
  CHECK_FALSE(restore_redis_id(checkpoint, other_stream));
  auto other_db = parsed(R"({"url": "redis://u:pw@r.example.com:6380/2", "stream": "jobs"})");
  CHECK_FALSE(restore_redis_id(checkpoint, other_db));
  // Other credentials read the same stream: the position holds.
  auto other_user = parsed(R"({"url": "redis://v:pw2@r.example.com:6380/1", "stream": "jobs"})");
  CHECK(restore_redis_id(checkpoint, other_user) == stream_id{1700000000000, 3});
}
