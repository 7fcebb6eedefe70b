#include "core/param_reader.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;
using namespace std::chrono_literals;

namespace {

constexpr int_param count_param{"count", -10, 1'000'000};

std::optional<std::int64_t> read_count(std::string_view value) {
  auto read = read_int_param(params(std::string{R"({"count": )"} + std::string{value} + "}"), count_param);
  INFO(value << ": " << (read ? std::string{} : read.error().message));
  REQUIRE(read);
  return *read;
}

std::optional<sys_ms> read_date(std::string_view value) {
  auto read = read_date_param(params(std::string{R"({"when": )"} + std::string{value} + "}"), "when");
  INFO(value << ": " << (read ? std::string{} : read.error().message));
  REQUIRE(read);
  return *read;
}

} // namespace

// -- integers -------------------------------------------------------------------

TEST_CASE("read_lenient_int reads JSON integers and integral numbers", "[param_reader]") {
  CHECK(read_lenient_int("5") == 5);
  CHECK(read_lenient_int("-1") == -1);
  CHECK(read_lenient_int("0") == 0);
  CHECK(read_lenient_int("5.0") == 5);
  CHECK(read_lenient_int("1000.0") == 1000);
  CHECK(read_lenient_int("1e3") == 1000);
  CHECK(read_lenient_int("-0.0") == 0);
  CHECK(read_lenient_int("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
  CHECK(read_lenient_int("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("read_lenient_int reads strings of decimal digits as a client may send a number", "[param_reader]") {
  CHECK(read_lenient_int(R"("5")") == 5);
  CHECK(read_lenient_int(R"("-1")") == -1);
  CHECK(read_lenient_int(R"("007")") == 7);
  CHECK(read_lenient_int(R"("9223372036854775807")") == std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("read_int_param reads an absent parameter as none and a present one within its range", "[param_reader]") {
  CHECK_FALSE(*read_int_param(params(R"({"other": 5})"), count_param));
  CHECK(read_count("-10") == -10);
  CHECK(read_count("-9") == -9);
  CHECK(read_count("999999") == 999'999);
  CHECK(read_count("1000000") == 1'000'000);
  CHECK(read_count(R"("1000000")") == 1'000'000);
  CHECK(read_count("1e6") == 1'000'000);
}

// -- dates ----------------------------------------------------------------------

TEST_CASE("read_date_param reads the ends of the time range in both forms", "[param_reader]") {
  CHECK(read_date("0") == earliest_time);
  CHECK(read_date(R"("1970-01-01T00:00:00Z")") == earliest_time);
  CHECK(read_date("253402300799999") == latest_time);
  CHECK(read_date("253402300799999.0") == latest_time);
  CHECK(read_date(R"("9999-12-31T23:59:59.999Z")") == latest_time);
  CHECK(read_date("1767225600000") == sys_ms{1'767'225'600'000ms});
  CHECK_FALSE(*read_date_param(params(R"({"other": 5})"), "when"));
}

// -- normalizing ------------------------------------------------------------------

TEST_CASE("normalize_int_params writes the named integers plainly and leaves the rest as given", "[param_reader]") {
  auto normalized = normalize_int_params(
    params(R"({"a": "5", "b": 1000.0, "c": 1e3, "d": -1, "e": "-1", "text": "5", "f": "2026-01-01", "g": " 5"})"),
    {"a", "b", "c", "d", "e", "f", "g"});
  CHECK(normalized
        == params(R"({"a": 5, "b": 1000, "c": 1000, "d": -1, "e": -1, "text": "5", "f": "2026-01-01", "g": " 5"})"));
}
