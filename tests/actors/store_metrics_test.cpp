#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/store_actor.hpp"
#include "metrics_sample.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};

} // namespace

TEST_CASE_METHOD(actor_fixture, "the store actor times every commit and counts the failed ones",
                 "[store_actor][metrics]") {
  auto counted = std::make_shared<metrics>();
  auto timed = spawn_store_actor(sys, std::make_unique<fake_store>(journal), store_thread::scheduler,
                                 {nullptr, std::chrono::milliseconds{0}, counted});
  CHECK_NOTHROW(call<commit_atom>(timed, put_atom::value, make_record(t1, R"({"seconds": 1})", now())));
  journal->failure = "disk full";
  CHECK_THROWS(call<commit_atom>(timed, flush_atom::value));
  CHECK(metric_sample(*counted, "feedrouter_store_commit_duration_seconds_count") == 2);
  CHECK(metric_sample(*counted, "feedrouter_store_commit_failures_total") == 1);
  caf::anon_send_exit(timed, caf::exit_reason::user_shutdown);
  run();
}
