#include "core/openwhisk_params.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

std::string date_of(std::string_view raw) {
  auto t = read_openwhisk_date(raw);
  INFO(raw);
  REQUIRE(t);
  return format_iso8601(*t);
}

} // namespace

TEST_CASE("false-like values are what OpenWhisk's feeds take as not given", "[openwhisk_params]") {
  for (auto raw : {"false", "null", R"("")", "0", "0.0", "-0"})
    CHECK(is_js_falsy(raw));
  for (auto raw : {"true", "1", R"("0")", R"("false")", R"(" ")", "[]", "{}"})
    CHECK_FALSE(is_js_falsy(raw));
}

TEST_CASE("integers come in the forms OpenWhisk's minutes check takes", "[openwhisk_params]") {
  // Rows I2 to I8 of the parameter matrix; hexadecimal (I7) is refused on purpose.
  CHECK(read_openwhisk_int("5") == 5);
  CHECK(read_openwhisk_int(R"("5")") == 5);
  CHECK(read_openwhisk_int(R"(" 5 ")") == 5);
  CHECK(read_openwhisk_int(R"("5.0")") == 5);
  CHECK(read_openwhisk_int(R"("5.")") == 5);
  CHECK(read_openwhisk_int("5.0") == 5);
  CHECK(read_openwhisk_int("1e3") == 1000);
  CHECK(read_openwhisk_int(R"("+5")") == 5);
  CHECK(read_openwhisk_int(R"("-5")") == -5);
  for (auto raw : {R"("0x10")", R"("1e3")", "5.5", R"("five")", "true", R"("5.5")", R"("")", R"(" ")", R"("+")",
                   R"("99999999999999999999")", "[5]"})
    CHECK_FALSE(read_openwhisk_int(raw));
}

TEST_CASE("flags read true and false in any case", "[openwhisk_params]") {
  CHECK(read_openwhisk_flag("true") == true);
  CHECK(read_openwhisk_flag(R"("True")") == true);
  CHECK(read_openwhisk_flag(R"(" FALSE ")") == false);
  for (auto raw : {R"("yes")", "1", "null", R"("")"})
    CHECK_FALSE(read_openwhisk_flag(raw));
}

TEST_CASE("dates come in the forms OpenWhisk's alarms take that are real dates", "[openwhisk_params]") {
  // Rows O2, O8 to O11 and O15 of the parameter matrix.
  CHECK(date_of("1924992000000") == "2031-01-01T00:00:00.000Z");
  CHECK(date_of(R"("2030-12-25")") == "2030-12-25T00:00:00.000Z");
  CHECK(date_of(R"("2030-12-25T12:30:00")") == "2030-12-25T12:30:00.000Z");
  CHECK(date_of(R"("2030-12-25 12:30")") == "2030-12-25T12:30:00.000Z");
  CHECK(date_of(R"("2030-12-25T12:30:00.250")") == "2030-12-25T12:30:00.250Z");
  CHECK(date_of(R"("Wed, 25 Dec 2030 12:30:00 GMT")") == "2030-12-25T12:30:00.000Z");
  CHECK(date_of(R"("2030-12-25T12:30:00+0100")") == "2030-12-25T11:30:00.000Z");
  CHECK(date_of(R"("2030-12-25T12:30:00.000Z")") == "2030-12-25T12:30:00.000Z");
}

TEST_CASE("dates JavaScript bends or guesses are refused", "[openwhisk_params]") {
  // Rows O3, O4 and O12 to O14: a number in a string, words, the legacy parser's forms and impossible dates.
  for (auto raw : {R"("1924992000000")", R"("tomorrow")", R"("Dec 25, 2030 12:30:00 GMT")", R"("2030-02-30")",
                   R"("2030-12-25T24:00:00Z")", R"("Wed, 30 Feb 2030 12:30:00 GMT")", R"("2030-12-25T12:30:00 +01")",
                   "-1", "253402300800000", "1.5", "true", R"("")"})
    CHECK_FALSE(read_openwhisk_date(raw));
}

TEST_CASE("a value in a message is the string's text, cut short", "[openwhisk_params]") {
  CHECK(quoted_value(R"("tomorrow")") == "tomorrow");
  CHECK(quoted_value("12") == "12");
  CHECK(quoted_value(R"({"a":1})") == R"({"a":1})");
  CHECK(quoted_value("\"" + std::string(200, 'x') + "\"").size() < 80);
}
