// The conformance suite's error cases: batches that fail as a whole, and rows this build does not know.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "store_backends.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

registration_record make_record(std::string name) {
  registration_record rec;
  rec.trigger = {"guest", std::move(name)};
  rec.feed = "alarm";
  rec.params_json = R"({"cron":"* * * * *"})";
  rec.auth_key = "uuid:key";
  rec.created = sys_ms{1'700'000'000'000ms};
  rec.status.date_changed = sys_ms{1'700'000'000'000ms};
  return rec;
}

std::vector<std::string> names_of(const std::vector<registration_record>& recs) {
  std::vector<std::string> result;
  for (const auto& rec : recs)
    result.push_back(rec.trigger.name);
  return result;
}

} // namespace

// -- commit -----------------------------------------------------------------------

TEMPLATE_TEST_CASE("a failing batch leaves nothing applied", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("a");
  auto b = make_record("b");
  REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
  auto a_status = a;
  a_status.status.state = registration_state::paused;
  a_status.status.fires = 3;
  auto bad = make_record("bad");
  bad.status.fires = -1; // refused by a CHECK constraint of the schema

  auto error = db->commit({put(make_record("c")), put_status(a_status), erase(b.trigger), put(bad)});
  REQUIRE(error);
  CHECK_THAT(*error, Contains("put_registration guest/bad") && Contains(TestType::check_violation));
  auto all = db->load_all();
  CHECK(names_of(all) == std::vector<std::string>{"a", "b"});
  CHECK(all[0].status.state == registration_state::active);
  CHECK(all[0].status.fires == 0);

  SECTION("and the store accepts the next batch") {
    REQUIRE(db->commit({put_status(a_status), erase(b.trigger)}) == std::nullopt);
    all = db->load_all();
    CHECK(names_of(all) == std::vector<std::string>{"a"});
    CHECK(all[0].status.fires == 3);
  }
  SECTION("and the failed batch stays unapplied after reopening") {
    db.reset();
    db = backend.open();
    CHECK(names_of(db->load_all()) == std::vector<std::string>{"a", "b"});
  }
}

TEMPLATE_TEST_CASE("a batch failing at its first operation reports it and applies nothing", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto nameless = make_record("");
  auto error = db->commit({put(nameless), put(make_record("a"))});
  REQUIRE(error);
  CHECK_THAT(*error, StartsWith("put_registration guest/: ") && Contains(TestType::check_violation));
  CHECK(db->load_all().empty());
}

TEMPLATE_TEST_CASE("a duplicate pending event fails the batch and applies nothing", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("a");
  auto b = make_record("b");
  REQUIRE(db->commit({put(a), put(b), put_event(a.trigger, make_event(1)), put_event(b.trigger, make_event(1)),
                      put_dead_letter(b.trigger, make_letter(2))})
          == std::nullopt);
  auto a_status = a;
  a_status.status.dead_letters = 1;
  a_status.status.checkpoint = "moved";

  // Every kind of operation before the failing one, the cascading erase among them.
  auto error = db->commit({put(make_record("c")), put_event(a.trigger, make_event(2)), erase_event(a.trigger, 1),
                           put_dead_letter(a.trigger, make_letter(1)), put_status(a_status), erase(b.trigger),
                           put_event(a.trigger, make_event(2))});
  REQUIRE(error);
  CHECK_THAT(*error, StartsWith("put_event guest/a seq 2: ") && Contains(TestType::unique_violation));

  auto check_unapplied = [&] {
    auto all = db->load_all();
    REQUIRE(names_of(all) == std::vector<std::string>{"a", "b"});
    CHECK(all[0].pending == span_of({1}));
    CHECK(all[0].last_seq == 1);
    CHECK(all[0].status.dead_letters == 0);
    CHECK(all[0].status.checkpoint.empty());
    CHECK(all[1].pending == span_of({1}));
    CHECK(all[1].last_seq == 2);
    CHECK(db->load_dead_letters(a.trigger, 10).empty());
    CHECK(seqs_of(db->load_dead_letters(b.trigger, 10)) == std::vector<std::uint64_t>{2});
  };
  check_unapplied();
  SECTION("and the failed batch stays unapplied after reopening") {
    db.reset();
    db = backend.open();
    check_unapplied();
  }
}

TEMPLATE_TEST_CASE("a duplicate dead letter fails the batch and applies nothing", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("a");
  REQUIRE(db->commit({put(a), put_dead_letter(a.trigger, make_letter(1))}) == std::nullopt);
  auto error = db->commit({put_event(a.trigger, make_event(2)), put_dead_letter(a.trigger, make_letter(1))});
  REQUIRE(error);
  CHECK_THAT(*error, StartsWith("put_dead_letter guest/a seq 1: ") && Contains(TestType::unique_violation));
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].pending.empty());
  CHECK(seqs_of(db->load_dead_letters(a.trigger, 10)) == std::vector<std::uint64_t>{1});
}

TEMPLATE_TEST_CASE("a seq beyond the stores' 64-bit signed integers fails the batch and applies nothing", "[store]",
                   STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("a");
  REQUIRE(db->commit({put(a)}) == std::nullopt);
  constexpr auto too_large = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
  auto op = GENERATE_COPY(put_event(a.trigger, make_event(too_large)), erase_event(a.trigger, too_large),
                          put_dead_letter(a.trigger, make_letter(too_large)), erase_dead_letter(a.trigger, too_large));
  auto error = db->commit({put_event(a.trigger, make_event(1)), op});
  REQUIRE(error);
  CHECK_THAT(*error, Contains("guest/a seq " + std::to_string(too_large) + ": seq out of range"));
  auto all = db->load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].pending.empty());
  CHECK(db->load_dead_letters(a.trigger, 10).empty());
}

TEMPLATE_TEST_CASE("a dead letter with negative attempts is refused", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto db = backend.open();
  auto a = make_record("a");
  REQUIRE(db->commit({put(a)}) == std::nullopt);
  auto letter = make_letter(1);
  letter.attempts = -1;
  auto error = db->commit({put_dead_letter(a.trigger, letter)});
  REQUIRE(error);
  CHECK_THAT(*error, Contains(TestType::check_violation));
  CHECK(db->load_dead_letters(a.trigger, 10).empty());
}

// -- load_all ---------------------------------------------------------------------

TEMPLATE_TEST_CASE("a stored row with an unknown state loads as disabled by the provider", "[store]", STORE_BACKENDS) {
  TestType backend;
  auto rec = make_record("tick");
  rec.status.fires = 5;
  rec.status.last_fired = sys_ms{1'700'000'060'000ms};
  {
    auto db = backend.open();
    REQUIRE(db->commit({put(rec), put(make_record("tock"))}) == std::nullopt);
  }
  backend.exec("UPDATE registrations SET state = 'hibernating' WHERE name = 'tick'");
  backend.exec("UPDATE registrations SET reason_kind = 'ALIENS' WHERE name = 'tock'");
  auto db = backend.open();
  auto all = db->load_all();
  REQUIRE(names_of(all) == std::vector<std::string>{"tick", "tock"});
  for (const auto& loaded : all) {
    INFO(loaded.trigger.name);
    CHECK(loaded.status.state == registration_state::disabled);
    CHECK(loaded.status.reason.kind == reason_kind::automatic);
    CHECK(loaded.status.reason.status_code == 0);
  }
  CHECK_THAT(all[0].status.reason.message, Contains("'hibernating'"));
  CHECK_THAT(all[1].status.reason.message, Contains("'ALIENS'"));
  // the rest of the row is kept
  CHECK(all[0].auth_key == rec.auth_key);
  CHECK(all[0].status.fires == 5);
  CHECK(all[0].status.last_fired == rec.status.last_fired);
}
