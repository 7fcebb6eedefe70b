#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/trigger_ref.hpp"
#include "net/io_runtime.hpp"
#include "tests/e2e/blocking_client.hpp"
#include "tests/e2e/feedrouter_process.hpp"
#include "tests/e2e/temp_dir.hpp"
#include "tests/support/fake_controller.hpp"

namespace feedrouter::test {

/// The authKey of the owner of most registrations in these tests.
constexpr std::string_view alice_key = "3f1c9a2e-7b4d-4e8f-9a61-2c5d8e0b7f13:alice-secret";

/// The authKey of another namespace's owner.
constexpr std::string_view bob_key = "c8e2d4f6-1a3b-4c5d-8e7f-9a0b1c2d3e4f:bob-secret";

/// One test's world: an I/O runtime, the fake OpenWhisk controller on a free port, a fresh directory for the store
/// and the logs, and a client for the lifecycle API. Processes started from it must go away before it does.
class e2e_fixture {
public:
  e2e_fixture();

  /// Makes the world with a fake controller that speaks https with `controller_tls`.
  explicit e2e_fixture(fake_controller::tls_files controller_tls);

  e2e_fixture(const e2e_fixture&) = delete;
  e2e_fixture& operator=(const e2e_fixture&) = delete;

  fake_controller& controller() noexcept {
    return controller_;
  }

  /// Returns "sqlite:PATH" of this test's store.
  std::string store_spec() const;

  /// Returns the PATH of this test's store file.
  std::string store_path() const;

  /// Returns the path of `name` in this test's directory.
  std::string file(const std::string& name) const {
    return dir_.file(name);
  }

  /// Returns a fresh file for one process's stderr.
  std::string next_stderr_path();

  /// Starts feedrouter against the fake controller and this test's store (unless `extra_args` name another with
  /// --store), with `extra_args` appended, and waits until it is ready. Tenants' endpoints may be on 127.0.0.1
  /// (`--allow-egress 127.0.0.1`), where the tests run their servers.
  feedrouter_process_ptr start_feedrouter(std::vector<std::string> extra_args = {});

  /// Starts feedrouter as start_feedrouter() does, but with the default egress policy: no tenant endpoint on
  /// loopback.
  feedrouter_process_ptr start_feedrouter_with_default_egress(std::vector<std::string> extra_args = {});

  /// Returns the fires the fake controller recorded for `trigger`, oldest first.
  std::vector<fake_controller::fire> fires_of(const trigger_ref& trigger) const;

  /// Blocks until the fake controller recorded at least `n` fires for `trigger` or `timeout` passed; returns whether
  /// it did. Woken by each fire, never by a timer.
  bool wait_for_fires_of(const trigger_ref& trigger, std::size_t n, std::chrono::milliseconds timeout) const;

private:
  io_runtime io_;
  fake_controller controller_;
  blocking_client client_;
  temp_dir dir_;
  int processes_started_ = 0;
};

} // namespace feedrouter::test
