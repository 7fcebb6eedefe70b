#include "tests/support/mosquitto_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "net/detail/mqtt_codec.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/process.hpp"

namespace feedrouter::test {

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* passwd_tool = "/usr/bin/mosquitto_passwd";

/// The system user mosquitto switches to when started as root.
constexpr const char* broker_user = "mosquitto";

/// `max_queued_messages`: the broker's default of 1000 drops what an offline client has not received beyond it.
constexpr std::size_t max_queued_messages = 1'000'000;

/// Pause between two connection attempts during start(). The broker has no readiness event that a test can wait for
/// without reading its log, so this bounds a retry, not a guess of how long start-up takes (a few milliseconds).
constexpr auto ready_retry_interval = 10ms;

/// QoS 1 messages the publisher has sent and not had acknowledged, at most: packet ids stay unique among them.
constexpr std::size_t publish_window = 1000;

constexpr std::size_t read_chunk = 16 * 1024;

/// How much of the broker's log an error message carries.
constexpr std::size_t log_tail_bytes = 4096;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

bool is_root() {
  return ::geteuid() == 0;
}

/// Makes `path` (and what is under it) belong to the broker's user when the tests run as root.
void give_to_broker(const std::string& path) {
  if (!is_root())
    return;
  const auto* user = ::getpwnam(broker_user);
  if (user == nullptr)
    throw std::runtime_error(std::string{"no user '"} + broker_user + "': install the mosquitto package");
  for (const auto& entry : std::filesystem::recursive_directory_iterator{path})
    if (::lchown(entry.path().c_str(), user->pw_uid, user->pw_gid) != 0)
      throw_errno("chown " + entry.path().string());
  if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0)
    throw_errno("chown " + path);
}

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

std::string tail(std::string text) {
  if (text.size() > log_tail_bytes)
    text.erase(0, text.size() - log_tail_bytes);
  return text;
}

int remaining_ms(steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now()).count();
  if (left <= 0)
    return 0;
  return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

/// Owns one socket.
class unique_socket {
public:
  explicit unique_socket(int fd) : fd_(fd) {
    if (fd_ < 0)
      throw_errno("socket");
  }

  ~unique_socket() {
    ::close(fd_);
  }

  unique_socket(const unique_socket&) = delete;
  unique_socket& operator=(const unique_socket&) = delete;

  int get() const noexcept {
    return fd_;
  }

private:
  int fd_;
};

/// Connects to 127.0.0.1:`port`; returns -1 (errno set) when nothing listens.
int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    auto saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

/// A publishing client on a non-blocking socket: writes while the broker reads, and counts the broker's answers as
/// they come.
class publisher {
public:
  publisher(std::uint16_t port, const std::string& client_id,
            const std::optional<std::pair<std::string, std::string>>& user)
    : socket_(connect_loopback(port)),
      decoder_(read_chunk),
      deadline_(steady_clock::now() + mosquitto_server::publish_timeout) {
    int one = 1;
    ::setsockopt(socket_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(socket_.get(), F_SETFL, ::fcntl(socket_.get(), F_GETFL) | O_NONBLOCK);
    mqtt_connect_fields fields;
    fields.client_id = client_id;
    fields.clean_session = true;
    if (user) {
      fields.username = user->first;
      fields.password = user->second;
    }
    out_ = encode_mqtt_connect(fields);
    while (!connack_)
      step();
    if (*connack_ != 0)
      throw std::runtime_error("mosquitto_server: the publisher was refused with CONNACK " + std::to_string(*connack_));
  }

  void publish(const std::vector<mqtt_publication>& messages) {
    std::size_t next = 0;
    std::uint16_t id = 0;
    while (next < messages.size() || unacknowledged_ > 0) {
      while (next < messages.size() && unacknowledged_ < publish_window && out_.size() < read_chunk) {
        const auto& m = messages[next++];
        if (m.qos > 0) {
          id = static_cast<std::uint16_t>(id % 65535 + 1);
          ++unacknowledged_;
        }
        out_ += encode_mqtt_publish(m.topic, m.payload, static_cast<std::uint8_t>(m.qos), m.retain, false, id);
      }
      step();
    }
    // The broker answers in order: once this PINGRESP is here, every QoS 0 message before it was taken too.
    out_ += encode_mqtt_pingreq();
    while (pingresps_ == 0)
      step();
    out_ += encode_mqtt_disconnect();
    while (!out_.empty())
      step();
  }

private:
  /// Writes what it can and reads what came, waiting for either at most until the deadline.
  void step() {
    pollfd pfd{socket_.get(), static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    auto ready = ::poll(&pfd, 1, remaining_ms(deadline_));
    if (ready < 0 && errno != EINTR)
      throw_errno("poll");
    if (ready == 0)
      throw std::runtime_error("mosquitto_server: publishing took longer than "
                               + std::to_string(mosquitto_server::publish_timeout.count()) + " s");
    if ((pfd.revents & POLLOUT) != 0) {
      auto n = ::send(socket_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        throw_errno("send to the broker");
      if (n > 0)
        out_.erase(0, static_cast<std::size_t>(n));
    }
    if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
      receive();
  }

  void receive() {
    char buffer[read_chunk];
    auto n = ::recv(socket_.get(), buffer, sizeof buffer, 0);
    if (n == 0)
      throw std::runtime_error("mosquitto_server: the broker closed the publisher's connection");
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      throw_errno("recv from the broker");
    if (n > 0)
      decoder_.feed(std::string_view{buffer, static_cast<std::size_t>(n)});
    for (auto next = decoder_.next(); next.what != mqtt_decoded::kind::need_more; next = decoder_.next()) {
      if (next.what == mqtt_decoded::kind::malformed)
        throw std::runtime_error("mosquitto_server: the publisher read a malformed packet: " + next.error);
      // The broker sends nothing else to a client without subscriptions.
      switch (next.packet.type) {
        case mqtt_packet_type::connack:
          connack_ = next.packet.return_code;
          break;
        case mqtt_packet_type::puback:
          if (unacknowledged_ > 0)
            --unacknowledged_;
          break;
        case mqtt_packet_type::pingresp:
          ++pingresps_;
          break;
        default:
          throw std::runtime_error("mosquitto_server: the publisher got an unexpected "
                                   + std::string{mqtt_packet_name(next.packet.type)});
      }
    }
  }

  unique_socket socket_;
  mqtt_decoder decoder_;
  steady_clock::time_point deadline_;
  std::string out_;
  std::optional<int> connack_;
  std::size_t unacknowledged_ = 0;
  std::size_t pingresps_ = 0;
};

} // namespace

// -- mosquitto_server ---------------------------------------------------------------

mosquitto_server::mosquitto_server() : mosquitto_server(options{}) {
  // nop
}

mosquitto_server::mosquitto_server(options opts) : opts_(std::move(opts)) {
  if (!std::filesystem::exists(binary))
    throw std::runtime_error(std::string{binary} + " is missing: install the mosquitto package (scripts/dev does)");
  std::string pattern = "/tmp/feedrouter-mqtt-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw_errno("mkdtemp " + pattern);
  dir_ = pattern;
  try {
    std::filesystem::create_directories(dir_ + "/data");
    port_ = pick_free_port();
    write_config();
    give_to_broker(dir_);
    start();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

mosquitto_server::~mosquitto_server() {
  try {
    stop();
  } catch (const std::exception&) {
    // A broker that will not stop is killed by child_process's destructor; the test has its result already.
  }
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void mosquitto_server::write_config() const {
  std::ofstream conf{dir_ + "/mosquitto.conf"};
  conf << "listener " << port_ << " 127.0.0.1\n";
  conf << "allow_anonymous " << (opts_.anonymous ? "true" : "false") << '\n';
  if (!opts_.users.empty())
    conf << "password_file " << dir_ << "/passwd\n";
  if (opts_.tls)
    conf << "certfile " << opts_.tls->first << "\nkeyfile " << opts_.tls->second << '\n';
  conf << "persistence true\npersistence_location " << dir_ << "/data/\n";
  if (opts_.save_every_change)
    conf << "autosave_interval 1\nautosave_on_changes true\n";
  conf << "max_queued_messages " << max_queued_messages << '\n';
  conf << "max_inflight_messages " << opts_.max_inflight << '\n';
  conf << "log_dest file " << dir_ << "/mosquitto.log\n";
  conf << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  conf.close();
  if (!conf)
    throw std::runtime_error("mosquitto_server: cannot write " + dir_ + "/mosquitto.conf");
  bool first = true;
  for (const auto& [name, password] : opts_.users) {
    process_options tool;
    tool.program = passwd_tool;
    tool.args = {"-b", dir_ + "/passwd", name, password};
    if (first)
      tool.args.insert(tool.args.begin(), "-c");
    first = false;
    tool.stderr_path = dir_ + "/mosquitto_passwd.stderr";
    child_process child{tool};
    auto status = child.wait(std::chrono::duration_cast<milliseconds>(start_timeout));
    if (!status || !status->exited() || status->code != 0)
      throw std::runtime_error("mosquitto_server: mosquitto_passwd failed: " + child.stderr_text());
  }
}

void mosquitto_server::set_users(std::vector<std::pair<std::string, std::string>> users) {
  if (running())
    throw std::logic_error("mosquitto_server::set_users: stop the broker first");
  opts_.users = std::move(users);
  write_config();
  give_to_broker(dir_);
}

void mosquitto_server::start() {
  if (running())
    throw std::logic_error("mosquitto_server::start: the broker already runs");
  process_options opts;
  opts.program = binary;
  opts.args = {"-c", dir_ + "/mosquitto.conf"};
  opts.stderr_path = dir_ + "/mosquitto.stderr";
  process_ = std::make_unique<child_process>(opts);
  await_ready();
}

void mosquitto_server::await_ready() {
  auto deadline = steady_clock::now() + start_timeout;
  for (;;) {
    if (!process_->running()) {
      auto status = process_->wait(0ms);
      throw std::runtime_error("mosquitto on port " + std::to_string(port_) + " ended during start-up (exit code "
                               + std::to_string(status ? status->code : -1) + "); its stderr: "
                               + process_->stderr_text() + "; its log: " + tail(log_text()));
    }
    int fd = connect_loopback(port_);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    if (steady_clock::now() >= deadline) {
      stop();
      throw std::runtime_error("mosquitto did not listen on port " + std::to_string(port_) + " within "
                               + std::to_string(start_timeout.count()) + " s; its log: " + tail(log_text()));
    }
    std::this_thread::sleep_for(ready_retry_interval);
  }
}

void mosquitto_server::stop() {
  if (!process_)
    return;
  if (process_->running()) {
    process_->send_signal(SIGTERM);
    if (!process_->wait(stop_timeout)) {
      process_->send_signal(SIGKILL);
      process_->wait(stop_timeout);
    }
  }
  process_.reset();
}

void mosquitto_server::kill() {
  if (!process_)
    return;
  process_->send_signal(SIGKILL);
  process_->wait(stop_timeout);
  process_.reset();
}

bool mosquitto_server::running() const {
  return process_ && process_->running();
}

std::string mosquitto_server::url() const {
  return std::string{opts_.tls ? "mqtts" : "mqtt"} + "://127.0.0.1:" + std::to_string(port_);
}

std::string mosquitto_server::log_text() const {
  return read_all(dir_ + "/mosquitto.log");
}

void mosquitto_server::publish(const std::vector<mqtt_publication>& messages) {
  std::optional<std::pair<std::string, std::string>> user;
  if (!opts_.anonymous && !opts_.users.empty())
    user = opts_.users.front();
  publisher client{port_, "test-publisher-" + std::to_string(++publishers_), user};
  client.publish(messages);
}

void mosquitto_server::publish(std::string topic, std::string payload, int qos, bool retain) {
  publish({mqtt_publication{std::move(topic), std::move(payload), qos, retain}});
}

} // namespace feedrouter::test
