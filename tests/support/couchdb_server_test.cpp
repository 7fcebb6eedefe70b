#include "tests/support/couchdb_server.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/temp_dir.hpp"

namespace feedrouter::test {

namespace {

using Catch::Matchers::Contains;

/// Documents per _bulk_docs request in the burst the e2e tests send.
constexpr int burst_size = 1000;

/// A started server with its data in a fresh directory, and one database.
struct couchdb_fixture {
  couchdb_fixture() {
    server.start();
    server.create_db(db);
  }

  temp_dir dir;
  couchdb_server server{dir.file("couch")};
  std::string db = "events";
};

std::vector<std::string> numbered_docs(int count) {
  std::vector<std::string> docs;
  docs.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    docs.push_back(R"({"_id":"burst-)" + std::to_string(i) + R"(","n":)" + std::to_string(i) + "}");
  return docs;
}

} // namespace

TEST_CASE_METHOD(couchdb_fixture, "couchdb_server serves on a loopback port it picked", "[couchdb_server]") {
  CHECK(server.running());
  REQUIRE(server.port() != 0);
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(server.port()));
  auto welcome = server.request("GET", "/");
  CHECK(welcome.status == 200);
  CHECK_THAT(welcome.body, Contains("\"version\""));
}

TEST_CASE_METHOD(couchdb_fixture, "couchdb_server writes documents and reports the update sequence",
                 "[couchdb_server]") {
  CHECK(server.last_seq(db) == "0");
  auto rev = server.put_doc(db, "a", R"({"n":1})");
  CHECK(rev.rfind("1-", 0) == 0);
  auto id = server.post_doc(db, R"({"n":2})");
  CHECK_FALSE(id.empty());
  CHECK(server.last_seq(db) == "2");
  server.bulk_docs(db, numbered_docs(burst_size));
  CHECK(server.last_seq(db) == std::to_string(2 + burst_size));
  server.delete_doc(db, "a", rev);
  CHECK(server.last_seq(db) == std::to_string(3 + burst_size));
  CHECK(server.request("GET", "/events/a").status == 404);
  auto posted = server.request("GET", "/events/" + id);
  CHECK(posted.status == 200);
  CHECK_THAT(posted.body, Contains(R"("n":2)"));
}

TEST_CASE_METHOD(couchdb_fixture, "couchdb_server keeps its data and port across a restart", "[couchdb_server]") {
  server.put_doc(db, "a", R"({"n":1})");
  server.bulk_docs(db, numbered_docs(10));
  auto port = server.port();
  auto seq = server.last_seq(db);
  server.stop();
  CHECK_FALSE(server.running());
  CHECK_THROWS(server.request("GET", "/"));
  server.start();
  CHECK(server.port() == port);
  CHECK(server.last_seq(db) == seq);
  auto doc = server.request("GET", "/events/a");
  CHECK(doc.status == 200);
  CHECK_THAT(doc.body, Contains(R"("n":1)"));
}

TEST_CASE_METHOD(couchdb_fixture, "couchdb_server streams a continuous changes feed", "[couchdb_server]") {
  server.put_doc(db, "a", R"({"n":1})");
  SECTION("from the start, the first line is the first change") {
    auto feed = server.open_stream("/events/_changes?feed=continuous&since=0&heartbeat=1000");
    CHECK(feed.status == 200);
    CHECK_THAT(feed.body, Contains(R"("id":"a")"));
  }
  SECTION("from now, the first line is a heartbeat") {
    auto feed = server.open_stream("/events/_changes?feed=continuous&since=now&heartbeat=1000");
    CHECK(feed.status == 200);
    CHECK(feed.body.empty());
  }
}

TEST_CASE_METHOD(couchdb_fixture, "couchdb_server applies a design document filter to changes",
                 "[couchdb_server]") {
  server.put_design_filter(db, "feed", "by_kind", "function(doc, req) { return doc.kind === req.query.kind; }");
  server.put_doc(db, "a1", R"({"kind":"a"})");
  server.put_doc(db, "b1", R"({"kind":"b"})");
  auto changes = server.request("GET", "/events/_changes?filter=feed/by_kind&kind=b");
  CHECK(changes.status == 200);
  CHECK_THAT(changes.body, Contains(R"("id":"b1")"));
  CHECK_THAT(changes.body, !Contains(R"("id":"a1")"));
}

TEST_CASE_METHOD(couchdb_fixture, "couchdb_server refuses a members-only database with 401", "[couchdb_server]") {
  server.put_doc(db, "a", R"({"n":1})");
  server.add_admin("admin", "secret");
  server.put_security(db, R"({"admins":{"names":[],"roles":[]},"members":{"names":["alice"],"roles":[]}})");
  CHECK(server.request("GET", "/events").status == 200);
  // Only the non-streaming requests: pouchdb-server 4.2.0 crashes when it refuses a feed=continuous request for
  // lack of membership (rather than for wrong credentials).
  auto check_refused = [&] {
    CHECK(server.request("GET", "/events").status == 401);
    CHECK(server.request("GET", "/events/_changes?since=0").status == 401);
    CHECK(server.request("GET", "/events/_changes?feed=longpoll&since=0").status == 401);
  };
  SECTION("to anonymous requests") {
    server.authenticate_as("", "");
    check_refused();
  }
  SECTION("to a wrong password, on a continuous feed too") {
    server.authenticate_as("admin", "wrong");
    check_refused();
    auto feed = server.open_stream("/events/_changes?feed=continuous&since=0&heartbeat=1000");
    CHECK(feed.status == 401);
    CHECK_THAT(feed.body, Contains("unauthorized"));
    CHECK(server.running());
  }
  SECTION("after a restart, which keeps the admin") {
    server.authenticate_as("admin", "wrong");
    server.stop();
    server.start();
    check_refused();
    server.authenticate_as("", "");
    check_refused();
    server.authenticate_as("admin", "secret");
    CHECK(server.request("GET", "/events").status == 200);
  }
  CHECK(server.running());
}

} // namespace feedrouter::test
