#include "core/param_reader.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "params.hpp"

using namespace feedrouter;
using Catch::Matchers::Contains;
using feedrouter::test::params;

namespace {

constexpr int_param count_param{"count", -10, 1'000'000};

} // namespace

TEST_CASE("read_lenient_int refuses strings that are not plain decimal digits", "[param_reader]") {
  for (auto raw : {R"(" 5")", R"("5 ")", R"("\t5")", R"("5\n")", R"("0x5")", R"("+5")", R"("5.0")", R"("1e3")",
                   R"("")", R"("-")", R"("--5")", R"("5-")", R"("five")", R"("٥")", R"("9223372036854775808")",
                   R"("-9223372036854775809")", R"("99999999999999999999")"}) {
    INFO(raw);
    CHECK_FALSE(read_lenient_int(raw));
  }
}

TEST_CASE("read_lenient_int refuses numbers that are not integral or beyond 64 bits, and other types",
          "[param_reader]") {
  for (auto raw : {"5.5", "0.1", "-0.5", "1e300", "-1e300", "1e19", "9223372036854775808", "18446744073709551615",
                   "true", "null", "[5]", R"({"n": 5})", ""}) {
    INFO(raw);
    CHECK_FALSE(read_lenient_int(raw));
  }
}

TEST_CASE("read_int_param refuses a value just outside its range, naming the field and the range",
          "[param_reader]") {
  for (auto value : {"-11", "1000001", R"("1000001")", "1000001.0", "9223372036854775807", " 5", "5.5"}) {
    auto json = std::string{R"({"count": )"} + (value[0] == ' ' ? std::string{R"(" 5")"} : std::string{value}) + "}";
    INFO(json);
    auto read = read_int_param(params(json), count_param);
    REQUIRE_FALSE(read);
    CHECK(read.error().field == "count");
    CHECK_THAT(read.error().message, Contains("from -10 to 1000000"));
  }
}

TEST_CASE("read_date_param refuses dates outside the time range in both forms, naming the range", "[param_reader]") {
  for (auto value : {"-1", "253402300800000", "9223372036854775807", "-9223372036854775808", "8640000000000000",
                     "1e300", "1.5", R"("1767225600000")", R"("1969-12-31T23:59:59.999Z")",
                     R"("9999-12-31T23:59:59.999-00:01")", R"("10000-01-01T00:00:00Z")", "true", "null"}) {
    auto json = std::string{R"({"when": )"} + value + "}";
    INFO(json);
    auto read = read_date_param(params(json), "when");
    REQUIRE_FALSE(read);
    CHECK(read.error().field == "when");
    CHECK_THAT(read.error().message, Contains("1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z"));
  }
}
