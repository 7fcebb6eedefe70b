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
