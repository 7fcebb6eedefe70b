#include "core/fire_rate_shares.hpp"

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("an instance takes the part of a namespace's fire rate that its part of the registrations is",
          "[fire_rate_shares][cluster]") {
  auto shares = fire_rate_shares({{"split", 1, 4}, {"most", 3, 4}, {"all", 5, 5}, {"none", 0, 7}});
  CHECK(shares.size() == 2);
  CHECK(shares.at("split") == 0.25);
  CHECK(shares.at("most") == 0.75);
  // Run whole here, or not at all: the whole rate.
  CHECK(shares.count("all") == 0);
  CHECK(shares.count("none") == 0);
}

TEST_CASE("the shares the instances of a cluster compute from one count add up to the whole rate",
          "[fire_rate_shares][cluster]") {
  // Three instances run 2, 3 and 5 of a namespace's 10 registrations.
  double sum = 0;
  for (std::size_t here : {2, 3, 5})
    sum += fire_rate_shares({{"ns", here, 10}}).at("ns");
  CHECK(sum == Approx(1.0));
}
