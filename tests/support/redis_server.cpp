#include "tests/support/redis_server.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/detail/resp_codec.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/process.hpp"

namespace feedrouter::test {

namespace {

constexpr const char* redis_binary = "/usr/bin/redis-server";
/// How long the server may take to answer PING after it was started.
constexpr auto start_timeout = std::chrono::seconds{20};
/// The pause between two PINGs while the server starts: it has no readiness signal a test could wait on.
constexpr auto start_poll = std::chrono::milliseconds{20};

/// A blocking connection to the test's server.
class blocking_connection {
public:
  explicit blocking_connection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0)
      throw std::runtime_error{"socket: " + std::string{std::strerror(errno)}};
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      auto error = std::string{std::strerror(errno)};
      ::close(fd_);
      throw std::runtime_error{"connect to redis-server: " + error};
    }
  }

  ~blocking_connection() {
    ::close(fd_);
  }

  blocking_connection(const blocking_connection&) = delete;
  blocking_connection& operator=(const blocking_connection&) = delete;

  /// Sends `commands` in one write and returns their replies.
  std::vector<resp_value> exchange(const std::vector<std::vector<std::string>>& commands) {
    std::string out;
    for (const auto& command : commands)
      append_command(out, command);
    for (std::size_t sent = 0; sent < out.size();) {
      auto n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        throw std::runtime_error{"send to redis-server: " + std::string{std::strerror(errno)}};
      sent += static_cast<std::size_t>(n);
    }
    std::vector<resp_value> replies;
    std::array<char, 64 * 1024> buffer{};
    while (replies.size() < commands.size()) {
      auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0)
        throw std::runtime_error{"recv from redis-server: connection closed"};
      std::string_view data{buffer.data(), static_cast<std::size_t>(n)};
      while (!data.empty()) {
        data.remove_prefix(reader_.feed(data));
        if (reader_.error() != resp_read_error::none)
          throw std::runtime_error{"redis-server reply: " + reader_.error_text()};
        if (reader_.has_reply())
          replies.push_back(reader_.take_reply());
      }
    }
    return replies;
  }

private:
  int fd_;
  resp_reader reader_;
};

std::string make_directory() {
  auto base = std::filesystem::temp_directory_path() / "feedrouter-redis-XXXXXX";
  std::string path = base.string();
  if (::mkdtemp(path.data()) == nullptr)
    throw std::runtime_error{"mkdtemp: " + std::string{std::strerror(errno)}};
  return path;
}

} // namespace

redis_test_server::redis_test_server() : redis_test_server(options{}) {
  // nop
}

redis_test_server::redis_test_server(options opts)
  : opts_(std::move(opts)), dir_(make_directory()), port_(pick_free_port()) {
  std::ofstream config{dir_ + "/redis.conf"};
  config << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_ << "\nsave \"\"\nappendonly yes\n"
         << "daemonize no\nlogfile " << dir_ << "/redis.log\n";
  if (!opts_.password.empty())
    config << "requirepass " << opts_.password << '\n';
  if (!opts_.tls_cert_file.empty()) {
    tls_port_ = pick_free_port();
    config << "tls-port " << tls_port_ << "\ntls-cert-file " << opts_.tls_cert_file << "\ntls-key-file "
           << opts_.tls_key_file << "\ntls-auth-clients no\n";
  }
  config.close();
  start();
}

redis_test_server::~redis_test_server() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void redis_test_server::start() {
  if (process_ && process_->running())
    return;
  process_options opts;
  opts.program = redis_binary;
  opts.args = {dir_ + "/redis.conf"};
  opts.stderr_path = dir_ + "/stderr.log";
  process_ = std::make_unique<child_process>(opts);
  auto deadline = std::chrono::steady_clock::now() + start_timeout;
  for (;;) {
    try {
      auto pong = command({"PING"});
      // With a password PING answers NOAUTH: the server is up either way.
      if (pong.is_string() || pong.is_error())
        return;
    } catch (const std::runtime_error&) {
      if (std::chrono::steady_clock::now() > deadline || !process_->running())
        throw std::runtime_error{"redis-server did not start on port " + std::to_string(port_)};
    }
    std::this_thread::sleep_for(start_poll);
  }
}

void redis_test_server::stop() {
  if (!process_ || !process_->running())
    return;
  try {
    std::vector<std::vector<std::string>> commands;
    if (!opts_.password.empty())
      commands.push_back({"AUTH", opts_.password});
    commands.push_back({"SHUTDOWN"});
    blocking_connection connection{port_};
    connection.exchange(commands);
  } catch (const std::runtime_error&) {
    // SHUTDOWN closes the connection without a reply.
  }
  if (!process_->wait(start_timeout))
    throw std::runtime_error{"redis-server did not stop"};
  process_.reset();
}

std::string redis_test_server::url() const {
  std::string result = tls_port_ != 0 ? "rediss://" : "redis://";
  if (!opts_.password.empty())
    result += ":" + opts_.password + "@";
  return result + "127.0.0.1:" + std::to_string(tls_port_ != 0 ? tls_port_ : port_);
}

resp_value redis_test_server::command(const std::vector<std::string>& args) const {
  return std::move(commands({args}).back());
}

std::vector<resp_value> redis_test_server::commands(std::vector<std::vector<std::string>> commands) const {
  blocking_connection connection{port_};
  if (!opts_.password.empty())
    commands.insert(commands.begin(), {"AUTH", opts_.password});
  auto replies = connection.exchange(commands);
  if (!opts_.password.empty())
    replies.erase(replies.begin());
  return replies;
}

std::vector<std::string> redis_test_server::add(
  const std::string& stream, int count,
  const std::function<std::vector<std::pair<std::string, std::string>>(int)>& fields) const {
  blocking_connection connection{port_};
  std::vector<std::vector<std::string>> commands;
  if (!opts_.password.empty())
    commands.push_back({"AUTH", opts_.password});
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> command{"XADD", stream, "*"};
    for (auto& [name, value] : fields(i)) {
      command.push_back(std::move(name));
      command.push_back(std::move(value));
    }
    commands.push_back(std::move(command));
  }
  auto replies = connection.exchange(commands);
  std::vector<std::string> ids;
  for (std::size_t i = opts_.password.empty() ? 0 : 1; i < replies.size(); ++i) {
    if (replies[i].type != resp_value::kind::bulk)
      throw std::runtime_error{"XADD failed: " + replies[i].text};
    ids.push_back(std::move(replies[i].text));
  }
  return ids;
}

} // namespace feedrouter::test
