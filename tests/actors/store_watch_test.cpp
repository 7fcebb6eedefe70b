#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/store_actor.hpp"
#include "printers.hpp"
#include "store/store_health.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};

/// What a watched_store is told to answer, and what it was asked; shared with the test.
struct watched_state {
  std::optional<std::string> problem; ///< what check() answers
  std::optional<std::string> failure; ///< what commit() answers
  int checks = 0;
  int commits = 0;
};

/// A store whose check() and commit() answer what the test says.
class watched_store : public store {
public:
  explicit watched_store(std::shared_ptr<watched_state> state) : state_(std::move(state)) {
    // nop
  }

  // store
  std::vector<registration_record> load_all() override {
    return {};
  }

  std::vector<dead_letter> load_dead_letters(const trigger_ref&, std::size_t) override {
    return {};
  }

  std::optional<pending_page> load_pending(const trigger_ref&, std::uint64_t, std::size_t, std::size_t) override {
    return pending_page{};
  }

  std::optional<std::string> commit(const std::vector<store_op>&) override {
    ++state_->commits;
    return state_->failure;
  }

  std::optional<std::string> check() override {
    ++state_->checks;
    return state_->problem;
  }

private:
  std::shared_ptr<watched_state> state_;
};

constexpr auto watch_interval = std::chrono::seconds{1};

/// The fixture plus a store actor over a watched_store.
struct watch_fixture : actor_fixture {
  explicit watch_fixture(std::chrono::milliseconds interval = watch_interval) {
    watched = spawn_store_actor(sys, std::make_unique<watched_store>(state), store_thread::scheduler,
                                {health, interval});
    stop_at_teardown(caf::actor_cast<caf::actor>(watched));
    run();
  }

  std::shared_ptr<watched_state> state = std::make_shared<watched_state>();
  std::shared_ptr<store_health> health = std::make_shared<store_health>();
  store_actor watched;
};

struct unwatched_fixture : watch_fixture {
  unwatched_fixture() : watch_fixture(std::chrono::milliseconds{0}) {
    // nop
  }
};

} // namespace

TEST_CASE_METHOD(watch_fixture, "the store actor asks its store every interval and marks the health once it refuses "
                                "writes, then stops asking", "[store_actor]") {
  advance(3 * watch_interval);
  CHECK(state->checks == 3);
  CHECK(health->writable());
  state->problem = "store 'x.db' refuses every write from now on: its file is gone";
  advance(watch_interval);
  CHECK(state->checks == 4);
  CHECK_FALSE(health->writable());
  advance(5 * watch_interval);
  CHECK(state->checks == 4);
}

TEST_CASE_METHOD(unwatched_fixture, "a failed commit asks the store at once whether it refuses writes for good",
                 "[store_actor]") {
  advance(3 * watch_interval);
  CHECK(state->checks == 0);
  state->failure = "the store refuses writes: its file is gone";
  state->problem = "store 'x.db' refuses every write from now on: its file is gone";
  auto answer = ask<commit_atom>(watched, put_atom::value, make_record(t1, R"({"seconds": 1})", now()));
  run();
  REQUIRE(answer->error);
  CHECK_FALSE(health->writable());
  CHECK(state->checks == 1);
  // Known from now on: later failures do not ask again.
  auto again = ask<commit_atom>(watched, erase_atom::value, t1);
  run();
  CHECK(again->error);
  CHECK(state->commits == 2);
  CHECK(state->checks == 1);
}

TEST_CASE_METHOD(unwatched_fixture, "a commit failing for a passing reason leaves the store writable",
                 "[store_actor]") {
  state->failure = "database or disk is full";
  auto answer = ask<commit_atom>(watched, put_atom::value, make_record(t1, R"({"seconds": 1})", now()));
  run();
  CHECK(answer->error);
  CHECK(state->checks == 1);
  CHECK(health->writable());
  state->failure.reset();
  auto next = ask<commit_atom>(watched, erase_atom::value, t1);
  run();
  CHECK(next->value);
  CHECK(health->writable());
}

TEST_CASE_METHOD(unwatched_fixture, "a failed read of dead letters asks the store whether it refuses writes",
                 "[store_actor]") {
  state->problem = "store 'x.db' refuses every write from now on: SQLite reported database disk image is malformed";
  auto answer = ask<std::vector<dead_letter>>(watched, load_atom::value, t1, std::size_t{10});
  run();
  CHECK(answer->value);
  CHECK_FALSE(health->writable());
}
