#include "core/time_format.hpp"

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("parse_iso8601 refuses dates before 1970, also when an offset moves them there", "[time_format]") {
  for (auto text : {"1969-12-31", "1969-12-31T23:59:59.999Z", "0000-01-01T00:00:00Z", "1900-01-01",
                    "1970-01-01T00:30:00+01:00", "1970-01-01T00:00:00+00:01"}) {
    INFO("input: '" << text << "'");
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("parse_iso8601 refuses dates after 9999, also when an offset moves them there", "[time_format]") {
  for (auto text : {"9999-12-31T23:59:59.999-00:01", "9999-12-31T23:30:00-01:00", "9999-12-31T20:00:00-05:00",
                    "10000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "99999-12-31"}) {
    INFO("input: '" << text << "'");
    CHECK_FALSE(parse_iso8601(text));
  }
}
