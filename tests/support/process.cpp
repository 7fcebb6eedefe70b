#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>

namespace feedrouter::test {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

/// Exit code of a child whose exec failed; the parent reports the errno it sent instead.
constexpr int exec_failed_code = 127;

/// Bytes read from the stdout pipe per read().
constexpr std::size_t read_chunk = 4096;

/// Round length of the fallback exit wait, used only where pidfd_open is missing (there is no exit event then).
constexpr milliseconds exit_poll_interval{5};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Owns one file descriptor.
class unique_fd {
public:
  unique_fd() = default;

  explicit unique_fd(int fd) : fd_(fd) {
    // nop
  }

  ~unique_fd() {
    reset();
  }

  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const noexcept {
    return fd_;
  }

  int release() noexcept {
    auto fd = fd_;
    fd_ = -1;
    return fd;
  }

  void reset() noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

/// A pipe whose two ends are closed on exec.
struct pipe_ends {
  unique_fd read;
  unique_fd write;
};

pipe_ends make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0)
    throw_errno("pipe2");
  return {unique_fd{fds[0]}, unique_fd{fds[1]}};
}

/// Fills the pipe behind `write_fd` to its (shrunk) capacity; returns how many bytes that took.
std::size_t fill_pipe(int write_fd) {
  // The smallest capacity Linux allows is a page; the filler must not hold a line break.
  ::fcntl(write_fd, F_SETPIPE_SZ, 0);
  const int flags = ::fcntl(write_fd, F_GETFL);
  if (flags < 0 || ::fcntl(write_fd, F_SETFL, flags | O_NONBLOCK) != 0)
    throw_errno("fcntl stdout pipe");
  const std::array<char, read_chunk> filler = [] {
    std::array<char, read_chunk> bytes{};
    bytes.fill('.');
    return bytes;
  }();
  std::size_t total = 0;
  for (;;) {
    auto put = ::write(write_fd, filler.data(), filler.size());
    if (put > 0) {
      total += static_cast<std::size_t>(put);
      continue;
    }
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0 && errno == EAGAIN)
      break;
    throw_errno("fill stdout pipe");
  }
  // The child shares this open file description: its writes must block, not fail.
  if (::fcntl(write_fd, F_SETFL, flags) != 0)
    throw_errno("fcntl stdout pipe");
  return total;
}

/// Returns the milliseconds left until `deadline`, rounded up so that a poll never wakes just before it.
int remaining_ms(steady_clock::time_point deadline) {
  auto left = deadline - steady_clock::now();
  if (left <= steady_clock::duration::zero())
    return 0;
  auto ms = std::chrono::ceil<milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

/// Polls one descriptor for input; returns whether it became readable (or hung up) before `deadline`.
bool poll_readable(int fd, steady_clock::time_point deadline) {
  for (;;) {
    pollfd entry{fd, POLLIN, 0};
    auto ready = ::poll(&entry, 1, remaining_ms(deadline));
    if (ready > 0)
      return true;
    if (ready == 0)
      return false;
    if (errno != EINTR)
      throw_errno("poll");
  }
}

exit_status decode(int raw) {
  if (WIFSIGNALED(raw))
    return {-1, WTERMSIG(raw)};
  return {WEXITSTATUS(raw), 0};
}

/// Sends errno to the parent through `error_fd` and ends the forked child.
[[noreturn]] void fail_child(int error_fd) {
  int code = errno;
  [[maybe_unused]] auto written = ::write(error_fd, &code, sizeof code);
  ::_exit(exec_failed_code);
}

/// Runs in the forked child: only async-signal-safe calls until exec, since the parent may have other threads.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int stdout_fd, int stderr_fd, int error_fd) {
  // The test may block or ignore signals; the child starts as a freshly started program would.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &default_action, nullptr);
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(stdout_fd, STDOUT_FILENO) < 0
      || ::dup2(stderr_fd, STDERR_FILENO) < 0)
    fail_child(error_fd);
  // Keep the error pipe on a known descriptor (still closed on exec) and close everything else the test holds open,
  // e.g. the fake controller's listening socket, which Asio does not mark close-on-exec.
  constexpr int kept_fd = STDERR_FILENO + 1;
  if (error_fd != kept_fd) {
    if (::dup3(error_fd, kept_fd, O_CLOEXEC) < 0)
      fail_child(error_fd);
    error_fd = kept_fd;
  }
  if (::syscall(SYS_close_range, kept_fd + 1, ~0U, 0) != 0) {
    for (int fd = kept_fd + 1; fd < 1024; ++fd)
      ::close(fd);
  }
  ::execve(argv[0], argv, envp);
  fail_child(error_fd);
}

/// Returns the name of an environment entry "NAME=VALUE" (or of a bare "NAME").
std::string_view env_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

/// Returns this process's environment with `changes` applied (see process_options::env).
std::vector<std::string> child_environment(const std::vector<std::string>& changes) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    auto overridden = std::any_of(changes.begin(), changes.end(),
                                  [&](const std::string& change) { return env_name(change) == env_name(*entry); });
    if (!overridden)
      result.emplace_back(*entry);
  }
  for (const auto& change : changes)
    if (change.find('=') != std::string::npos)
      result.push_back(change);
  return result;
}

} // namespace

child_process::child_process(const process_options& opts) : stderr_path_(opts.stderr_path) {
  unique_fd stderr_file{::open(opts.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)};
  if (stderr_file.get() < 0)
    throw_errno("open stderr file");
  auto out = make_pipe();
  if (opts.hold_stdout)
    stdout_filler_ = fill_pipe(out.write.get());
  auto exec_error = make_pipe();
  // Everything the child needs is built before fork: it may not allocate afterwards.
  std::vector<std::string> strings;
  strings.reserve(opts.args.size() + 1);
  strings.push_back(opts.program);
  strings.insert(strings.end(), opts.args.begin(), opts.args.end());
  std::vector<char*> argv;
  for (auto& text : strings)
    argv.push_back(text.data());
  argv.push_back(nullptr);
  auto env_strings = child_environment(opts.env);
  std::vector<char*> envp;
  for (auto& entry : env_strings)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0)
    throw_errno("fork");
  if (pid_ == 0)
    exec_child(argv.data(), envp.data(), out.write.get(), stderr_file.get(), exec_error.write.get());
  out.write.reset();
  exec_error.write.reset();
  stdout_fd_ = out.read.release();
  // A pidfd taken before reaping always names our child; a pid could be recycled after it.
  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  // The error pipe is closed by a successful exec (EOF) or carries the errno of a failed one.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_error.read.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    // The child exits at once; reap it and give back what the destructor will not see.
    wait(milliseconds{10'000});
    ::close(stdout_fd_);
    if (pid_fd_ >= 0)
      ::close(pid_fd_);
    throw std::system_error(exec_errno, std::generic_category(), "exec " + opts.program);
  }
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int raw = 0;
    while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
      // retry
    }
  }
  if (stdout_fd_ >= 0)
    ::close(stdout_fd_);
  if (pid_fd_ >= 0)
    ::close(pid_fd_);
}

std::optional<std::string> child_process::read_line(milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  for (;;) {
    if (auto end = stdout_buffer_.find('\n'); end != std::string::npos) {
      auto line = stdout_buffer_.substr(0, end);
      stdout_buffer_.erase(0, end + 1);
      return line;
    }
    if (stdout_closed_ || !poll_readable(stdout_fd_, deadline))
      return std::nullopt;
    std::array<char, read_chunk> chunk{};
    auto got = ::read(stdout_fd_, chunk.data(), chunk.size());
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      throw_errno("read child stdout");
    }
    if (got == 0)
      stdout_closed_ = true;
    auto dropped = std::min(stdout_filler_, static_cast<std::size_t>(got));
    stdout_filler_ -= dropped;
    stdout_buffer_.append(chunk.data() + dropped, static_cast<std::size_t>(got) - dropped);
  }
}

void child_process::send_signal(int signal) {
  if (status_ || pid_ <= 0)
    return;
  if (::kill(pid_, signal) != 0 && errno != ESRCH)
    throw_errno("kill");
}

bool child_process::try_reap() {
  if (status_)
    return true;
  int raw = 0;
  pid_t done;
  do {
    done = ::waitpid(pid_, &raw, WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done < 0)
    throw_errno("waitpid");
  if (done == 0)
    return false;
  status_ = decode(raw);
  return true;
}

std::optional<exit_status> child_process::wait(milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  if (pid_fd_ >= 0) {
    // The pidfd becomes readable when the child exits.
    if (!try_reap() && poll_readable(pid_fd_, deadline))
      try_reap();
    return status_;
  }
  while (!try_reap()) {
    auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero())
      return std::nullopt;
    std::this_thread::sleep_for(std::min<steady_clock::duration>(left, exit_poll_interval));
  }
  return status_;
}

bool child_process::running() {
  return !try_reap();
}

std::vector<std::uint16_t> child_process::listening_ports() const {
  // Sockets show up as links "socket:[INODE]" among the child's descriptors ...
  std::vector<std::string> inodes;
  const auto fd_dir = "/proc/" + std::to_string(pid_) + "/fd/";
  for (int fd = 0; fd < 1024; ++fd) {
    std::array<char, 64> target{};
    auto length = ::readlink((fd_dir + std::to_string(fd)).c_str(), target.data(), target.size() - 1);
    std::string_view link{target.data(), length > 0 ? static_cast<std::size_t>(length) : 0};
    if (link.rfind("socket:[", 0) == 0 && link.back() == ']')
      inodes.emplace_back(link.substr(8, link.size() - 9));
  }
  // ... and in the child's view of /proc/net/tcp: "sl local_address rem_address st ... inode", LISTEN being 0A.
  std::ifstream table{"/proc/" + std::to_string(pid_) + "/net/tcp"};
  std::string line;
  std::getline(table, line); // the header
  std::vector<std::uint16_t> ports;
  while (std::getline(table, line)) {
    std::istringstream fields{line};
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    auto colon = local.find(':');
    if (state != "0A" || colon == std::string::npos
        || std::find(inodes.begin(), inodes.end(), inode) == inodes.end())
      continue;
    ports.push_back(static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16)));
  }
  return ports;
}

std::string child_process::stderr_text() const {
  std::ifstream in{stderr_path_};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace feedrouter::test
