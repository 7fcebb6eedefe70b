#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/store_actor.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};
const trigger_ref t2{"guest", "t2"};

} // namespace

TEST_CASE_METHOD(actor_fixture, "a failing commit answers an error to every waiting requester", "[store_actor]") {
  journal->failure = "disk full";
  auto errors = std::make_shared<std::vector<std::string>>();
  auto answered = std::make_shared<int>(0);
  auto record = make_record(t1, R"({"seconds": 1})", now());
  sys.spawn([store = store, record, errors, answered](caf::event_based_actor* self) {
    auto on_commit = [answered](commit_atom) { ++*answered; };
    auto on_error = [errors](caf::error& err) { errors->push_back(describe_child_error(err)); };
    self->request(store, caf::infinite, put_atom::value, record).then(on_commit, on_error);
    self->send(store, status_atom::value, t2, registration_status{});
    self->request(store, caf::infinite, erase_atom::value, t2).then(on_commit, on_error);
    self->request(store, caf::infinite, flush_atom::value).then(on_commit, on_error);
  });
  run();
  CHECK(*answered == 0);
  CHECK(*errors == std::vector<std::string>(3, "store commit failed: disk full"));
  CHECK(journal->attempts == 1);
  CHECK(journal->commits.empty());
  // The store actor survives, and the next write is committed on its own: the failed ones were answered already.
  journal->failure.reset();
  auto next = make_record(t2, R"({"seconds": 2})", now());
  CHECK_NOTHROW(call<commit_atom>(store, put_atom::value, next));
  REQUIRE(journal->commits.size() == 1);
  REQUIRE(journal->commits[0].size() == 1);
  CHECK(journal->commits[0][0].record.trigger == t2);
}

TEST_CASE_METHOD(actor_fixture, "a failing commit of status updates alone answers nobody and stops nothing",
                 "[store_actor]") {
  journal->failure = "disk full";
  caf::anon_send(store, status_atom::value, t1, registration_status{});
  run();
  CHECK(journal->attempts == 1);
  journal->failure.reset();
  caf::anon_send(store, status_atom::value, t1, registration_status{});
  run();
  CHECK(journal->attempts == 2);
  CHECK(journal->commits.size() == 1);
}
