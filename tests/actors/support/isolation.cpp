#include "isolation.hpp"

#include <csignal>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace feedrouter::test {

namespace {

constexpr int fatal_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};

[[noreturn]] void run_child(const std::function<std::string()>& scenario, int out) {
  // Catch's handlers would report the crash as a failure of the parent's test; let the signal kill the child instead.
  for (auto sig : fatal_signals)
    std::signal(sig, SIG_DFL);
  // Expected warnings and error logs of the code under test would only clutter the report.
  if (auto null = ::open("/dev/null", O_WRONLY); null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  std::string verdict;
  try {
    verdict = scenario();
  } catch (const std::exception& e) {
    verdict = std::string{"exception: "} + e.what();
  } catch (...) {
    verdict = "unknown exception";
  }
  for (std::size_t done = 0; done < verdict.size();) {
    auto n = ::write(out, verdict.data() + done, verdict.size() - done);
    if (n <= 0)
      break;
    done += static_cast<std::size_t>(n);
  }
  ::_exit(verdict.empty() ? 0 : 1);
}

} // namespace

isolated_outcome run_isolated(const std::function<std::string()>& scenario) {
  int fds[2];
  if (::pipe(fds) != 0)
    return {false, std::string{"pipe: "} + std::strerror(errno)};
  auto child = ::fork();
  if (child < 0)
    return {false, std::string{"fork: "} + std::strerror(errno)};
  if (child == 0) {
    ::close(fds[0]);
    run_child(scenario, fds[1]);
  }
  ::close(fds[1]);
  std::string verdict;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    verdict.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFSIGNALED(status))
    return {false, "the process was killed by signal " + std::to_string(WTERMSIG(status)) + " ("
                     + strsignal(WTERMSIG(status)) + ")"};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {true, "passed"};
  return {false, verdict.empty() ? "exited with " + std::to_string(WEXITSTATUS(status)) : verdict};
}

} // namespace feedrouter::test
