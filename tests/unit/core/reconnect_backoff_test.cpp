#include "core/reconnect_backoff.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;

TEST_CASE("a source's reconnect back-off doubles its ceiling from 1 s up to 30 s and never gives up",
          "[reconnect_backoff]") {
  reconnect_backoff backoff;
  auto ceiling = std::chrono::milliseconds{reconnect_backoff::first_delay};
  // Far more failures in a row than a retry limit would allow: a database may be down for a day.
  for (int failure = 1; failure <= 1000; ++failure) {
    auto delay = backoff.after_failure();
    INFO("failure " << failure);
    CHECK(delay >= 0ms);
    CHECK(delay <= ceiling);
    ceiling = std::min<std::chrono::milliseconds>(ceiling * 2, 30'000ms);
  }
}

TEST_CASE("a success resets a source's reconnect back-off to its first delay", "[reconnect_backoff]") {
  reconnect_backoff backoff;
  for (int failure = 0; failure < 10; ++failure)
    backoff.after_failure();
  backoff.reset();
  for (int round = 0; round < 100; ++round) {
    CHECK(backoff.after_failure() <= reconnect_backoff::first_delay);
    backoff.reset();
  }
}
