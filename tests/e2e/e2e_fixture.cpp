#include "tests/e2e/e2e_fixture.hpp"

#include <algorithm>

namespace feedrouter::test {

namespace {

/// Threads of the test's I/O runtime: the fake controller answers fires while a test waits on the client.
constexpr std::size_t io_threads = 2;

} // namespace

e2e_fixture::e2e_fixture() : io_(io_threads), controller_(io_), client_(io_) {
  // nop
}

e2e_fixture::e2e_fixture(fake_controller::tls_files controller_tls)
  : io_(io_threads), controller_(io_, 0, std::move(controller_tls)), client_(io_) {
  // nop
}

std::string e2e_fixture::store_spec() const {
  return "sqlite:" + store_path();
}

std::string e2e_fixture::store_path() const {
  return dir_.file("feedrouter.db");
}

std::string e2e_fixture::next_stderr_path() {
  return dir_.file("stderr-" + std::to_string(++processes_started_) + ".log");
}

feedrouter_process_ptr e2e_fixture::start_feedrouter(std::vector<std::string> extra_args) {
  extra_args.insert(extra_args.begin(), {"--allow-egress", "127.0.0.1"});
  return start_feedrouter_with_default_egress(std::move(extra_args));
}

feedrouter_process_ptr e2e_fixture::start_feedrouter_with_default_egress(std::vector<std::string> extra_args) {
  std::vector<std::string> args{"--api-host", controller_.url()};
  if (std::find(extra_args.begin(), extra_args.end(), "--store") == extra_args.end())
    args.insert(args.end(), {"--store", store_spec()});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return std::make_unique<feedrouter_process>(client_, std::move(args), next_stderr_path());
}

std::vector<fake_controller::fire> e2e_fixture::fires_of(const trigger_ref& trigger) const {
  auto all = controller_.fires();
  std::vector<fake_controller::fire> result;
  for (auto& x : all)
    if (x.trigger == trigger)
      result.push_back(std::move(x));
  return result;
}

bool e2e_fixture::wait_for_fires_of(const trigger_ref& trigger, std::size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Read the total before counting this trigger's fires, so a fire landing in between wakes the next wait.
    auto seen = controller_.fire_count();
    if (fires_of(trigger).size() >= n)
      return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero() || !controller_.wait_for_fires(seen + 1, left))
      return fires_of(trigger).size() >= n;
  }
}

} // namespace feedrouter::test
