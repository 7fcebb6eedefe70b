#include "core/shard.hpp"

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("fnv1a64 gives the published FNV-1a test vectors", "[shard]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("a registration's shard is the hash of ns/name modulo the shard count", "[shard]") {
  // Fixed values: a stored shard must mean the same registration in every build, so these never change.
  CHECK(shard_of({"guest", "tick"}) == 73);
  CHECK(shard_of({"alice", "t0"}) == 60);
  CHECK(shard_of({"grüße", "x"}) == 23);
  CHECK(shard_of({"guest", "tick"}) == fnv1a64("guest/tick") % shard_count);
}

TEST_CASE("registrations spread over every shard", "[shard]") {
  std::vector<int> per_shard(shard_count, 0);
  constexpr int registrations = 100 * static_cast<int>(shard_count);
  for (int i = 0; i < registrations; ++i)
    ++per_shard.at(shard_of({"ns" + std::to_string(i % 7), "t" + std::to_string(i)}));
  // 100 per shard on average; a hash that ignores part of its input would leave shards empty or crowded.
  for (auto count : per_shard) {
    CHECK(count > 50);
    CHECK(count < 150);
  }
}

TEST_CASE("a hook id is routed to the shard of its registration, and its hook shard never changes", "[shard]") {
  // Fixed value: a hook URL handed out must reach the same shard in every build.
  const std::string zeros(2 * hook_id_bytes, '0');
  CHECK(hook_shard(zeros) == fnv1a64("hook/" + zeros) % shard_count);
  for (const trigger_ref& trigger : {trigger_ref{"guest", "tick"}, trigger_ref{"alice", "t0"}, trigger_ref{"b", "c"}}) {
    auto id = make_hook_id(trigger);
    CHECK(id.size() == 2 * hook_id_bytes);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(hook_shard(id) == shard_of(trigger));
  }
}

TEST_CASE("hook ids of one registration differ from each other", "[shard]") {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.insert(make_hook_id({"guest", "tick"}));
  CHECK(ids.size() == 20);
}
