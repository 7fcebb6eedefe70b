// fake-github: the fake GitHub API as a process, for the feed-action tests.
//
//   fake-github [--token TOKEN]... [--repository owner/repo]...
//
// Listens on 127.0.0.1 and a free port and prints exactly one line, "listening on http://127.0.0.1:PORT", then serves
// until SIGINT or SIGTERM and exits 0. Bad arguments: one line on stderr, exit 2. Tests read hooks, send deliveries
// and take the API down through the admin routes under /_fake/, listed in fake_github.hpp.

#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>

#include "net/io_runtime.hpp"
#include "tests/support/fake_github.hpp"

namespace {

/// Exit code for bad arguments.
constexpr int usage_error = 2;

/// Exit code when the fake cannot start.
constexpr int start_error = 1;

constexpr std::string_view usage = "usage: fake-github [--token TOKEN]... [--repository owner/repo]...";

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tokens;
  std::vector<std::string> repositories;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << usage << std::endl;
      return EXIT_SUCCESS;
    }
    if ((arg != "--token" && arg != "--repository") || i + 1 == argc) {
      std::cerr << "fake-github: " << usage << std::endl;
      return usage_error;
    }
    (arg == "--token" ? tokens : repositories).emplace_back(argv[++i]);
  }
  // Blocked before any thread starts, so every I/O thread inherits the mask and only sigwait() sees the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    feedrouter::io_runtime io{1};
    feedrouter::fake_github github{io};
    for (const auto& token : tokens)
      github.add_token(token);
    for (const auto& repository : repositories)
      github.add_repository(repository);
    std::cout << "listening on " << github.url() << std::endl;
    int signal = 0;
    sigwait(&stop_signals, &signal);
  } catch (const std::exception& e) {
    std::cerr << "fake-github: " << e.what() << std::endl;
    return start_error;
  }
  return EXIT_SUCCESS;
}
