// The readiness gate: from the moment the provider listens until its registrations run, /ready and the lifecycle API
// answer 503, while /health answers 200.
//
// Start-up is held without any timing: the provider writes its listening line to stdout after the server and the
// control API are up and before it asks the registry whether every stored registration runs (app/main.cpp). Its stdout
// pipe starts full, so that write blocks, and the provider stays in between until the test reads the line.

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/blocking_client.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// Bound on each wait below; reached only when something is broken.
constexpr auto startup_timeout = feedrouter_process::startup_timeout;

/// Registrations stored before the held start-up, so that the provider has work to do before it is ready.
constexpr int stored_registrations = 20;

} // namespace

TEST_CASE("until its registrations run the provider answers 503 on /ready and the API, and 200 on /health",
          "[e2e][ready]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "stored-0"};
  {
    auto first = fx.start_feedrouter();
    for (int i = 0; i < stored_registrations; ++i) {
      const trigger_ref stored{"alice", "stored-" + std::to_string(i)};
      fx.controller().add_trigger(stored, std::string{alice_key});
      auto body = alarm_body(yearly, R"({"n":)" + std::to_string(i) + "}");
      REQUIRE(first->call(api_request("PUT", trigger_path(stored), alice_key, std::move(body))).status == 201);
    }
    first->stop_cleanly();
  }

  auto opts = feedrouter_command({"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                  fx.store_spec()},
                                 fx.next_stderr_path());
  opts.hold_stdout = true;
  child_process held{opts};
  std::vector<std::uint16_t> ports;
  auto listening = poll_until([&] { return !(ports = held.listening_ports()).empty() || !held.running(); },
                              startup_timeout);
  INFO("feedrouter stderr:\n" << held.stderr_text());
  REQUIRE(listening);
  REQUIRE(ports.size() == 1);
  const auto base_url = "http://127.0.0.1:" + std::to_string(ports.front());
  io_runtime io{1};
  blocking_client client{io};
  auto call = [&](http_request req) {
    auto result = client.exchange(base_url, std::move(req));
    INFO("transport: " << result.error);
    REQUIRE(result.ok());
    return result.response;
  };

  // Held: listening, but the registrations have not been confirmed running.
  auto ready = call(api_request("GET", "/ready"));
  INFO("/ready while held: " << ready.body);
  CHECK(ready.status == 503);
  CHECK(json_at(ready.body, "/ready") != "true");
  auto read = call(api_request("GET", trigger_path(trigger), alice_key));
  CHECK(read.status == 503);
  auto create = call(api_request("PUT", trigger_path({"alice", "too-early"}), alice_key, alarm_body(yearly, "{}")));
  CHECK(create.status == 503);
  CHECK(call(api_request("GET", "/health")).status == 200);

  // Released: the provider goes on to readiness, and then serves the API.
  auto line = held.read_line(startup_timeout);
  REQUIRE(line);
  CHECK(*line == "feedrouter listening on " + base_url);
  REQUIRE(poll_until([&] { return call(api_request("GET", "/ready")).status == 200; }, startup_timeout));
  ready = call(api_request("GET", "/ready"));
  CHECK(json_at(ready.body, "/ready") == "true");
  CHECK(json_int_at(ready.body, "/registrations") == stored_registrations);
  auto after = call(api_request("GET", trigger_path(trigger), alice_key));
  INFO("READ once ready: " << after.body);
  CHECK(after.status == 200);
  CHECK(json_at(after.body, "/config/trigger_payload") == R"({"n":0})");
  CHECK(call(api_request("GET", trigger_path({"alice", "too-early"}), alice_key)).status == 404);

  held.send_signal(SIGTERM);
  auto status = held.wait(feedrouter_process::exit_timeout);
  REQUIRE(status);
  CHECK(status->exited());
  CHECK(status->code == 0);
}
