#include "net/http_message.hpp"

#include <catch2/catch.hpp>

using feedrouter::find_field;
using feedrouter::http_fields;
using feedrouter::http_request;

TEST_CASE("find_field matches header names without regard to case", "[http_message]") {
  http_fields fields{{"Content-Type", "application/json"}, {"X-Hub-Signature-256", "sha256=ab"}};
  CHECK(find_field(fields, "content-type") == "application/json");
  CHECK(find_field(fields, "CONTENT-TYPE") == "application/json");
  CHECK(find_field(fields, "x-hub-signature-256") == "sha256=ab");
}

TEST_CASE("find_field returns the first of repeated fields and an empty view for missing ones", "[http_message]") {
  http_fields fields{{"Accept", "text/plain"}, {"accept", "application/json"}};
  CHECK(find_field(fields, "Accept") == "text/plain");
  CHECK(find_field(fields, "Authorization").empty());
  CHECK(find_field(fields, "Accep").empty());
  CHECK(find_field({}, "Accept").empty());
}

TEST_CASE("a request looks up its fields through find_field", "[http_message]") {
  http_request req;
  req.fields = {{"Authorization", "Basic abc"}};
  CHECK(req.field("authorization") == "Basic abc");
}
