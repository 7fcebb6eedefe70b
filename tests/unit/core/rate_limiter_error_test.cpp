#include "core/rate_limiter.hpp"

#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("a rate outside the accepted range is refused at construction", "[rate_limiter]") {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(rate_limiter(0.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(-1.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(nan, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(inf, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(rate_limiter::min_rate_per_second / 2, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(rate_limiter::max_rate_per_second * 2, 1.0), std::invalid_argument);
  CHECK_NOTHROW(rate_limiter(rate_limiter::min_rate_per_second, 1.0));
  CHECK_NOTHROW(rate_limiter(rate_limiter::max_rate_per_second, 1.0));
}

TEST_CASE("a burst outside the accepted range is refused at construction", "[rate_limiter]") {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(rate_limiter(1.0, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(1.0, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(1.0, -3.0), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(1.0, nan), std::invalid_argument);
  CHECK_THROWS_AS(rate_limiter(1.0, rate_limiter::max_burst * 2), std::invalid_argument);
  CHECK_NOTHROW(rate_limiter(1.0, rate_limiter::max_burst));
}
