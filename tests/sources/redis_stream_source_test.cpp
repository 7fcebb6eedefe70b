#include "actors/sources/redis_stream.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/json.hpp"
#include "core/redis_stream_spec.hpp"
#include "source_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

constexpr char jobs[] = R"({"url": "redis://127.0.0.1:6379", "stream": "jobs"})";
constexpr char jobs_with_login[] = R"({"url": "redis://reader:pw@127.0.0.1:6379/2", "stream": "jobs"})";

std::string jobs_at(std::string_view params_json, std::string_view id) {
  auto members = parse_json_object(params_json, "params");
  auto spec = parse_redis_stream_spec(*members, egress_policy{{*parse_egress_rule("127.0.0.1", "rule")}, {}});
  return to_redis_checkpoint(*spec, *parse_stream_id(id));
}

using command = std::vector<std::string>;

command xread(std::size_t count, std::string_view after) {
  return {"XREAD", "COUNT", std::to_string(count), "BLOCK", "2000", "STREAMS", "jobs", std::string{after}};
}

/// The ID the checkpoint of an event names.
std::string id_of(const std::string& checkpoint) {
  auto members = parse_json_object(checkpoint, "checkpoint");
  return json_as_string(*find_member(*members, "id")).value_or("");
}

} // namespace

TEST_CASE_METHOD(source_fixture, "without a position the source has the stream's last ID stored before it reads",
                 "[redis_stream_source]") {
  spawn_redis_stream(jobs);
  REQUIRE(redis->log->connects.size() == 1);
  redis->accept();
  run();
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{{"XREVRANGE", "jobs", "+", "-", "COUNT", "1"}});
  redis->reply({last_entry_reply("5-0")});
  run();
  REQUIRE(log->checkpoints.size() == 1);
  CHECK(log->committed.front().empty());
  CHECK(id_of(log->checkpoint()) == "5-0");
  // Without credit nothing is read: the entries wait in Redis.
  CHECK(redis->log->exchanges.empty());
  grant(3);
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(3, "5-0")});
}

TEST_CASE_METHOD(source_fixture, "start 0 stores the position before every entry without asking the server",
                 "[redis_stream_source]") {
  spawn_redis_stream(R"({"url": "redis://127.0.0.1", "stream": "jobs", "start": "0"})");
  redis->accept();
  run();
  CHECK(redis->log->sent.empty());
  REQUIRE(log->checkpoints.size() == 1);
  CHECK(id_of(log->checkpoint()) == "0-0");
  grant(1);
  CHECK(redis->log->sent == std::vector<command>{xread(1, "0-0")});
}

TEST_CASE_METHOD(source_fixture, "entries are handed over in order, each with its own position, within credit",
                 "[redis_stream_source]") {
  spawn_redis_stream(jobs_with_login, jobs_at(jobs_with_login, "7-0"), R"({"team":"a"})");
  redis->accept();
  run();
  // It logs in first; its position came with the registration.
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands
        == std::vector<command>{{"AUTH", "reader", "pw"}, {"SELECT", "2"}});
  redis->reply({ok_reply(), ok_reply()});
  run();
  CHECK(log->checkpoints.empty());
  grant(700);
  REQUIRE(redis->log->exchanges.size() == 1);
  // One read asks for what credit allows, at most 500 entries.
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(500, "7-0")});
  redis->reply({entries_reply("jobs", {"8-0", "8-1", "9-0"})});
  run();
  REQUIRE(log->events.size() == 3);
  CHECK(id_of(log->events[0].second) == "8-0");
  CHECK(id_of(log->events[2].second) == "9-0");
  CHECK(log->events[0].first == R"({"stream":"jobs","id":"8-0","fields":{"n":"8-0"},"team":"a"})");
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(500, "9-0")});
  // A BLOCK that ends without entries reads again from the same position.
  redis->reply({null_reply()});
  run();
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(500, "9-0")});
}

TEST_CASE_METHOD(source_fixture, "a broken connection shows in the status and is made again after a back-off",
                 "[redis_stream_source]") {
  spawn_redis_stream(jobs, jobs_at(jobs, "1-0"));
  redis->accept();
  run();
  grant(10);
  redis->fail(redis_failure{redis_failure::kind::unreachable, "read: Connection reset by peer"});
  run();
  REQUIRE(log->statuses.size() == 1);
  CHECK(log->statuses.back().find("cannot reach the Redis server") != std::string::npos);
  CHECK(redis->log->closes == 1);
  CHECK(redis->log->connects_asked == 1);
  // The first back-off is at most 1 s (full jitter).
  advance(1s);
  REQUIRE(redis->log->connects_asked == 2);
  redis->refuse(redis_failure{redis_failure::kind::unreachable, "connect: Connection refused"});
  run();
  CHECK(log->statuses.size() == 2);
  advance(2s);
  REQUIRE(redis->log->connects_asked == 3);
  redis->accept();
  run();
  // It reads on from where it was; the first answer ends the failure.
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(10, "1-0")});
  redis->reply({entries_reply("jobs", {"2-0"})});
  run();
  CHECK(log->statuses.back().empty());
  CHECK(log->events.size() == 1);
}

TEST_CASE_METHOD(source_fixture, "refused credentials or a key of another type disable the registration",
                 "[redis_stream_source]") {
  SECTION("WRONGPASS at login names url") {
    spawn_redis_stream(jobs_with_login, jobs_at(jobs_with_login, "1-0"));
    redis->accept();
    run();
    redis->reply({error_reply("WRONGPASS invalid username-password pair or user is disabled."), ok_reply()});
    run();
    REQUIRE(log->disables.size() == 1);
    CHECK(log->disables.front().second.rfind("url: ", 0) == 0);
    CHECK(log->disables.front().second.find("WRONGPASS") == std::string::npos);
  }
  SECTION("WRONGTYPE on a read names stream") {
    spawn_redis_stream(jobs, jobs_at(jobs, "1-0"));
    redis->accept();
    run();
    grant(1);
    redis->reply({error_reply("WRONGTYPE Operation against a key holding the wrong kind of value")});
    run();
    REQUIRE(log->disables.size() == 1);
    CHECK(log->disables.front().second.rfind("stream: ", 0) == 0);
  }
  SECTION("the egress policy names url") {
    spawn_redis_stream(jobs, jobs_at(jobs, "1-0"));
    redis->refuse(redis_failure{redis_failure::kind::not_allowed, "not allowed"});
    run();
    REQUIRE(log->disables.size() == 1);
    CHECK(log->disables.front().second.rfind("url: ", 0) == 0);
  }
  // Nothing more is tried until the registration is resumed.
  advance(60s);
  CHECK(redis->log->exchanges.empty());
  CHECK(redis->log->connects.empty());
}

TEST_CASE_METHOD(source_fixture, "after a reply beyond the client's bounds the source reads one entry at a time",
                 "[redis_stream_source]") {
  spawn_redis_stream(jobs, jobs_at(jobs, "1-0"));
  redis->accept();
  run();
  grant(50);
  redis->fail(redis_failure{redis_failure::kind::protocol, "an array of 70000 elements (at most 65536)"});
  run();
  CHECK(log->statuses.back().find("larger than this provider accepts") != std::string::npos);
  advance(1s);
  redis->accept();
  run();
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(1, "1-0")});
  redis->reply({entries_reply("jobs", {"2-0"})});
  run();
  REQUIRE(redis->log->exchanges.size() == 1);
  CHECK(redis->log->exchanges.front().commands == std::vector<command>{xread(49, "2-0")});
}

TEST_CASE_METHOD(source_fixture, "stopping the source closes its connection", "[redis_stream_source]") {
  auto parent = spawn_redis_stream(jobs, jobs_at(jobs, "1-0"));
  redis->accept();
  run();
  grant(1);
  CHECK(redis->log->closes == 0);
  stop(parent);
  CHECK(redis->log->closes == 1);
}
