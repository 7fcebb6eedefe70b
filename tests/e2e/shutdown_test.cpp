#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Starts and stops this many times: the crash this guards against depends on thread timing (about one stop in six
/// crashed when it was found), so one round would rarely show it.
constexpr int shutdown_rounds = 12;

} // namespace

// Guards the shutdown order in app/main.cpp: the io_context must outlive the actor system, because actors hold the
// HTTP client and its pooled sockets are closed when the last actor lets go of it.
TEST_CASE("SIGTERM after a verified CREATE exits with code 0", "[e2e]") {
  e2e_fixture fx;
  for (int round = 0; round < shutdown_rounds; ++round) {
    INFO("round " << round);
    const trigger_ref trigger{"alice", "round-" + std::to_string(round)};
    fx.controller().add_trigger(trigger, std::string{alice_key});
    auto fr = fx.start_feedrouter();
    // The authKey check leaves an idle pooled connection to the controller behind.
    REQUIRE(fr->call(api_request("PUT", trigger_path(trigger), alice_key, alarm_body(yearly, "{}"))).status == 201);
    auto status = fr->terminate();
    INFO("feedrouter stderr:\n" << fr->process().stderr_text());
    INFO("exit code " << status.code << ", signal " << status.signal);
    REQUIRE(status.exited());
    REQUIRE(status.code == 0);
  }
}
