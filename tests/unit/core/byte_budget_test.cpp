#include "core/byte_budget.hpp"

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

/// A budget of `total` bytes with a share of `share`, a guaranteed minimum of `guaranteed` and a reserve of `reserve`.
std::shared_ptr<byte_budget> budget_of(std::size_t total, std::size_t share, std::size_t guaranteed = 0,
                                       std::size_t reserve = 0) {
  return std::make_shared<byte_budget>(byte_budget::limits{total, share, guaranteed, reserve});
}

/// An account that counts how often it was woken.
struct woken_account {
  woken_account(std::shared_ptr<byte_budget> budget) : account(std::move(budget), [this] { ++wakes; }) {
    // nop
  }

  int wakes = 0;
  byte_account account;
};

} // namespace

TEST_CASE("the limits of a budget give one registration an eighth, keep an eighth in reserve and guarantee 64 KiB",
          "[byte_budget]") {
  auto lim = byte_budget::limits_for(64 * 1024 * 1024);
  CHECK(lim.total == 64 * 1024 * 1024);
  CHECK(lim.share == 8 * 1024 * 1024);
  CHECK(lim.reserve == 8 * 1024 * 1024);
  CHECK(lim.guaranteed == 64 * 1024);
  // A budget too small for the minimum keeps it within the reserve.
  auto small = byte_budget::limits_for(100 * 1024);
  CHECK(small.guaranteed == small.reserve);
}

TEST_CASE("an account without a budget takes anything and counts what it holds", "[byte_budget]") {
  byte_account account;
  CHECK_FALSE(account.limited());
  CHECK(account.take(1'000'000'000, byte_account::wait::no));
  CHECK(account.held() == 1'000'000'000);
  account.give_back(1'000'000'000);
  CHECK(account.held() == 0);
}

TEST_CASE("takes succeed while the budget has room and fail beyond it", "[byte_budget]") {
  auto budget = budget_of(1000, 1000);
  byte_account a{budget, [] {}};
  CHECK(a.take(600, byte_account::wait::no));
  CHECK_FALSE(a.take(500, byte_account::wait::no));
  CHECK(a.take(400, byte_account::wait::no));
  CHECK(budget->held() == 1000);
  CHECK(a.available() == 0);
}

TEST_CASE("one registration holds at most its share, but always one event", "[byte_budget]") {
  auto budget = budget_of(1000, 250);
  byte_account a{budget, [] {}};
  // A single body larger than the share still fits when the registration holds nothing else.
  CHECK(a.take(400, byte_account::wait::no));
  CHECK_FALSE(a.take(1, byte_account::wait::yes));
  // Refused for its share, it does not wait in line: it waits for its own bytes.
  CHECK_FALSE(a.in_line());
  a.give_back(400);
  CHECK(a.take(200, byte_account::wait::no));
  CHECK_FALSE(a.take(100, byte_account::wait::no));
  byte_account b{budget, [] {}};
  CHECK(b.take(250, byte_account::wait::no));
}

TEST_CASE("registrations that find the budget spent wait in line and are woken first come, first served",
          "[byte_budget]") {
  auto budget = budget_of(1000, 1000);
  woken_account hog{budget};
  woken_account first{budget};
  woken_account second{budget};
  REQUIRE(hog.account.take(1000, byte_account::wait::no));
  CHECK_FALSE(first.account.take(300, byte_account::wait::yes));
  CHECK_FALSE(second.account.take(200, byte_account::wait::yes));
  CHECK(budget->waiting() == 2);
  hog.account.give_back(500);
  // Only the first in line is told; the second may not take before it, although what it asks for fits.
  CHECK(first.wakes == 1);
  CHECK(second.wakes == 0);
  CHECK_FALSE(second.account.take(200, byte_account::wait::yes));
  CHECK(first.account.take(300, byte_account::wait::yes));
  // The first took its bytes and left the line: the second fits and is told.
  CHECK(second.wakes == 1);
  CHECK(second.account.take(200, byte_account::wait::yes));
  CHECK(budget->waiting() == 0);
  CHECK(budget->held() == 1000);
}

TEST_CASE("a registration within its guaranteed minimum takes from the reserve without waiting in line",
          "[byte_budget]") {
  auto budget = budget_of(1000, 1000, 100, 100);
  byte_account hog{budget, [] {}};
  byte_account waiting{budget, [] {}};
  byte_account small{budget, [] {}};
  // The shared pool is the budget without the reserve.
  REQUIRE(hog.take(900, byte_account::wait::no));
  CHECK_FALSE(hog.take(1, byte_account::wait::no));
  CHECK_FALSE(waiting.take(250, byte_account::wait::yes));
  CHECK(small.take(50, byte_account::wait::no));
  CHECK(budget->held() == 950);
  // Beyond its minimum it is in the shared pool, and waits behind the first in line.
  CHECK_FALSE(small.take(60, byte_account::wait::no));
  hog.give_back(900);
  CHECK_FALSE(small.take(200, byte_account::wait::no));
  CHECK(waiting.take(250, byte_account::wait::yes));
  CHECK(small.take(50, byte_account::wait::no));
  // What it gives back goes to the reserve first.
  small.give_back(100);
  byte_account other_small{budget, [] {}};
  CHECK(other_small.take(100, byte_account::wait::no));
}

TEST_CASE("a woken registration that leaves the line passes the turn to the next", "[byte_budget]") {
  auto budget = budget_of(100, 100);
  woken_account hog{budget};
  woken_account first{budget};
  woken_account second{budget};
  REQUIRE(hog.account.take(100, byte_account::wait::no));
  first.account.take(50, byte_account::wait::yes);
  second.account.take(50, byte_account::wait::yes);
  hog.account.give_back(100);
  CHECK(first.wakes == 1);
  first.account.leave_line();
  CHECK(second.wakes == 1);
  CHECK(second.account.take(50, byte_account::wait::yes));
}

TEST_CASE("a body larger than the whole budget fits once nothing else is held", "[byte_budget]") {
  auto budget = budget_of(100, 100);
  woken_account other{budget};
  woken_account large{budget};
  REQUIRE(other.account.take(10, byte_account::wait::no));
  CHECK_FALSE(large.account.take(500, byte_account::wait::yes));
  other.account.give_back(10);
  CHECK(large.wakes == 1);
  CHECK(large.account.take(500, byte_account::wait::yes));
}

TEST_CASE("an account gives back what it holds and leaves the line when it goes", "[byte_budget]") {
  auto budget = budget_of(100, 100);
  woken_account next{budget};
  {
    byte_account gone{budget, [] {}};
    REQUIRE(gone.take(100, byte_account::wait::no));
    CHECK_FALSE(next.account.take(60, byte_account::wait::yes));
    byte_account waiting_too{budget, [] {}};
    CHECK_FALSE(waiting_too.take(10, byte_account::wait::yes));
    CHECK(budget->waiting() == 2);
  }
  CHECK(budget->held() == 0);
  CHECK(budget->waiting() == 1);
  CHECK(next.wakes == 1);
}

TEST_CASE("bytes that cannot wait are counted even beyond the budget", "[byte_budget]") {
  auto budget = budget_of(100, 100);
  byte_account a{budget, [] {}};
  a.force(150);
  CHECK(budget->held() == 150);
  CHECK(a.available() == 0);
  a.give_back(150);
  CHECK(budget->held() == 0);
}
