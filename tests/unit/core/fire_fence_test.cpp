#include "core/fire_fence.hpp"

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

mono_time at(std::chrono::milliseconds t) {
  return mono_time{} + t;
}

} // namespace

TEST_CASE("a new fire fence lets no shard fire", "[fire_fence]") {
  fire_fence fence;
  CHECK_FALSE(fence.may_fire(0, at(0ms)));
  CHECK_FALSE(fence.holds(0));
  CHECK(fence.open_count() == 0);
  CHECK(fence.all_usable(at(5s)));
}

TEST_CASE("an open shard fires until its deadline and not from it on", "[fire_fence]") {
  fire_fence fence;
  fence.open_until(7, at(10s));
  CHECK(fence.may_fire(7, at(9999ms)));
  CHECK_FALSE(fence.may_fire(7, at(10s)));
  CHECK_FALSE(fence.may_fire(8, at(1s)));
  // Past its deadline it is still held (until the lease manager closes it), but no longer usable.
  CHECK(fence.holds(7));
  CHECK(fence.all_usable(at(9s)));
  CHECK_FALSE(fence.all_usable(at(11s)));
  fence.open_until(7, at(20s));
  CHECK(fence.may_fire(7, at(11s)));
  fence.close(7);
  CHECK_FALSE(fence.may_fire(7, at(11s)));
  CHECK_FALSE(fence.holds(7));
  CHECK(fence.open_count() == 0);
}

TEST_CASE("a shard outside the shard range never fires", "[fire_fence]") {
  fire_fence fence;
  fence.open_until(shard_count, at(10s));
  CHECK_FALSE(fence.may_fire(shard_count, at(1s)));
  CHECK(fence.open_count() == 0);
}
