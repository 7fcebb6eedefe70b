#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/store_actor.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};
const trigger_ref t2{"guest", "t2"};

registration_status status_with_fires(std::int64_t fires) {
  registration_status status;
  status.fires = fires;
  return status;
}

/// What a store client saw: for each answer, how many transactions were committed when it arrived.
struct answers {
  std::vector<std::size_t> commits_seen;
  std::vector<std::string> errors;
};

using answers_ptr = std::shared_ptr<answers>;

/// Returns the handler pair that records an answer of the store in `log`.
auto record_answer(answers_ptr log, store_journal_ptr journal) {
  return std::make_pair([log, journal](commit_atom) { log->commits_seen.push_back(journal->commits.size()); },
                        [log](caf::error& err) { log->errors.push_back(caf::to_string(err)); });
}

/// Spawns a client of the store that runs `script` once; its messages reach the store in the order it sends them.
void spawn_store_client(actor_fixture& f, std::function<void(caf::event_based_actor*)> script) {
  f.sys.spawn([script](caf::event_based_actor* self) { script(self); });
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "status updates of one registration queued before a commit are coalesced into one "
                                "operation", "[store_actor]") {
  caf::anon_send(store, status_atom::value, t1, status_with_fires(1));
  caf::anon_send(store, status_atom::value, t2, status_with_fires(10));
  caf::anon_send(store, status_atom::value, t1, status_with_fires(2));
  caf::anon_send(store, status_atom::value, t1, status_with_fires(3));
  run();
  REQUIRE(journal->commits.size() == 1);
  const auto& ops = journal->commits[0];
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].op == store_op::kind::put_status);
  CHECK(ops[0].record.trigger == t1);
  CHECK(ops[0].record.status.fires == 3); // the newest status, in the place of the first
  CHECK(ops[1].record.trigger == t2);
  CHECK(ops[1].record.status.fires == 10);
  // A status arriving after the commit starts a new transaction.
  caf::anon_send(store, status_atom::value, t1, status_with_fires(4));
  run();
  REQUIRE(journal->commits.size() == 2);
  REQUIRE(journal->commits[1].size() == 1);
  CHECK(journal->commits[1][0].record.status.fires == 4);
}

TEST_CASE_METHOD(actor_fixture, "a status queued before a put keeps its place and a later one follows the put",
                 "[store_actor]") {
  auto record = make_record(t1, R"({"seconds": 1})", now());
  record.status.fires = 5;
  spawn_store_client(*this, [store = store, record](caf::event_based_actor* self) {
    self->send(store, status_atom::value, t1, status_with_fires(1));
    self->send(store, put_atom::value, record);
    self->send(store, status_atom::value, t1, status_with_fires(7));
  });
  run();
  REQUIRE(journal->commits.size() == 1);
  const auto& ops = journal->commits[0];
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].op == store_op::kind::put_status);
  CHECK(ops[0].record.status.fires == 1);
  CHECK(ops[1].op == store_op::kind::put_registration);
  CHECK(ops[1].record.status.fires == 5);
  CHECK(ops[2].op == store_op::kind::put_status);
  CHECK(ops[2].record.status.fires == 7);
}

TEST_CASE_METHOD(actor_fixture, "put and erase answer only once their transaction is committed", "[store_actor]") {
  auto log = std::make_shared<answers>();
  auto record = make_record(t1, R"({"seconds": 1})", now());
  spawn_store_client(*this, [store = store, record, log, journal = journal](caf::event_based_actor* self) {
    auto [on_commit, on_error] = record_answer(log, journal);
    self->request(store, caf::infinite, put_atom::value, record).then(on_commit, on_error);
    self->request(store, caf::infinite, erase_atom::value, t2).then(on_commit, on_error);
  });
  sched.run_once(); // the client sends both requests
  sched.run_once(); // the store takes them in and schedules its commit
  CHECK(log->commits_seen.empty());
  CHECK(journal->commits.empty());
  run();
  CHECK(log->errors.empty());
  CHECK(log->commits_seen == std::vector<std::size_t>{1, 1});
  REQUIRE(journal->commits.size() == 1);
  const auto& ops = journal->commits[0];
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].op == store_op::kind::put_registration);
  CHECK(ops[0].record.trigger == t1);
  CHECK(ops[0].record.auth_key == owner_key);
  CHECK(ops[1].op == store_op::kind::erase);
  CHECK(ops[1].record.trigger == t2);
}

TEST_CASE_METHOD(actor_fixture, "a CREATE's put erases the registration it replaces, events and dead letters with it, "
                                "in the same transaction", "[store_actor]") {
  auto log = std::make_shared<answers>();
  auto record = make_record(t1, R"({"seconds": 1})", now());
  spawn_store_client(*this, [store = store, record, log, journal = journal](caf::event_based_actor* self) {
    auto [on_commit, on_error] = record_answer(log, journal);
    self->request(store, caf::infinite, create_atom::value, record).then(on_commit, on_error);
  });
  run();
  CHECK(log->errors.empty());
  CHECK(log->commits_seen == std::vector<std::size_t>{1});
  REQUIRE(journal->commits.size() == 1);
  const auto& ops = journal->commits[0];
  REQUIRE(ops.size() == 2);
  // The erase goes first: the new registration's events start at seq 1 again, where the old one's would collide.
  CHECK(ops[0].op == store_op::kind::erase);
  CHECK(ops[0].record.trigger == t1);
  CHECK(ops[1].op == store_op::kind::put_registration);
  CHECK(ops[1].record.trigger == t1);
}

TEST_CASE_METHOD(actor_fixture, "flush answers once every write sent before it is committed", "[store_actor]") {
  auto log = std::make_shared<answers>();
  spawn_store_client(*this, [store = store, log, journal = journal](caf::event_based_actor* self) {
    auto [on_commit, on_error] = record_answer(log, journal);
    self->send(store, status_atom::value, t1, status_with_fires(1));
    self->request(store, caf::infinite, flush_atom::value).then(on_commit, on_error);
  });
  run();
  CHECK(log->commits_seen == std::vector<std::size_t>{1});
  REQUIRE(journal->commits.size() == 1);
  CHECK(journal->commits[0].size() == 1);
  // With nothing to write, flush still answers.
  CHECK_NOTHROW(call<commit_atom>(store, flush_atom::value));
}

TEST_CASE_METHOD(actor_fixture, "with a status delay, status updates wait for it and share one commit, and an answered "
                                "write takes them along at once", "[store_actor]") {
  constexpr auto delay = std::chrono::milliseconds{50};
  auto delayed_journal = std::make_shared<store_journal>();
  delayed_journal->clock = [this] { return now(); };
  store_watch watch;
  watch.status_delay = delay;
  auto delayed = spawn_store_actor(sys, std::make_unique<fake_store>(delayed_journal), store_thread::scheduler, watch);
  stop_at_teardown(caf::actor_cast<caf::actor>(delayed));
  caf::anon_send(delayed, status_atom::value, t1, status_with_fires(1));
  run();
  CHECK(delayed_journal->commits.empty());
  sched.advance_time(delay / 2);
  caf::anon_send(delayed, status_atom::value, t2, status_with_fires(10));
  caf::anon_send(delayed, status_atom::value, t1, status_with_fires(2));
  run();
  CHECK(delayed_journal->commits.empty());
  // The delay counts from the first status: both go in one transaction once it is over.
  sched.advance_time(delay / 2);
  run();
  REQUIRE(delayed_journal->commits.size() == 1);
  REQUIRE(delayed_journal->commits[0].size() == 2);
  CHECK(delayed_journal->commits[0][0].record.status.fires == 2);
  CHECK(delayed_journal->commits[0][1].record.status.fires == 10);
  // A write someone waits for does not wait for the delay, and the status queued before it goes along, in order.
  auto log = std::make_shared<answers>();
  auto record = make_record(t1, R"({"seconds": 1})", now());
  spawn_store_client(*this, [delayed, record, log, journal = delayed_journal](caf::event_based_actor* self) {
    auto [on_commit, on_error] = record_answer(log, journal);
    self->send(delayed, status_atom::value, t1, status_with_fires(3));
    self->request(delayed, caf::infinite, put_atom::value, record).then(on_commit, on_error);
  });
  run();
  CHECK(log->commits_seen == std::vector<std::size_t>{2});
  REQUIRE(delayed_journal->commits.size() == 2);
  REQUIRE(delayed_journal->commits[1].size() == 2);
  CHECK(delayed_journal->commits[1][0].record.status.fires == 3);
  CHECK(delayed_journal->commits[1][1].op == store_op::kind::put_registration);
  // The commit armed for that status finds nothing left: no empty transaction.
  sched.advance_time(delay);
  run();
  CHECK(delayed_journal->commits.size() == 2);
}
