#include "core/replay_window.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("a replay window takes each id once", "[replay_window]") {
  replay_window window;
  CHECK(window.admit("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  CHECK_FALSE(window.admit("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  CHECK(window.admit("72d3162e-cc78-11e3-81ab-4c9367dc0959"));
  CHECK(window.size() == 2);
}

TEST_CASE("a replay window forgets its oldest id when it is full, and never holds more than its capacity",
          "[replay_window]") {
  replay_window window{3};
  for (auto id : {"a", "b", "c"})
    REQUIRE(window.admit(id));
  CHECK(window.admit("d"));
  CHECK(window.size() == 3);
  CHECK_FALSE(window.contains("a"));
  CHECK(window.contains("b"));
  CHECK(window.contains("d"));
  // "a" is new again; "b" is now the oldest and goes.
  CHECK(window.admit("a"));
  CHECK_FALSE(window.contains("b"));
  for (int i = 0; i < 10'000; ++i)
    window.admit(std::to_string(i));
  CHECK(window.size() == 3);
}

TEST_CASE("a forgotten id is taken again, and its slot does not evict it later", "[replay_window]") {
  replay_window window{2};
  REQUIRE(window.admit("x"));
  window.forget("x");
  CHECK_FALSE(window.contains("x"));
  REQUIRE(window.admit("y"));
  REQUIRE(window.admit("x"));
  // The blank slot of the first "x" is the oldest: reusing it must not drop the second "x".
  REQUIRE(window.admit("z"));
  CHECK(window.contains("x"));
  CHECK(window.contains("z"));
  CHECK_FALSE(window.contains("y"));
}

TEST_CASE("a replay window does not remember an empty id", "[replay_window]") {
  replay_window window;
  CHECK(window.admit(""));
  CHECK(window.admit(""));
  CHECK(window.size() == 0);
}

TEST_CASE("the default window is bounded by its named capacity", "[replay_window]") {
  replay_window window;
  for (std::size_t i = 0; i < replay_window_capacity + 10; ++i)
    window.admit(std::to_string(i));
  CHECK(window.size() == replay_window_capacity);
  CHECK_FALSE(window.contains("0"));
  CHECK(window.contains(std::to_string(replay_window_capacity + 9)));
}
