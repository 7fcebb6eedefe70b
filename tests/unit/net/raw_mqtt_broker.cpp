#include "tests/unit/net/raw_mqtt_broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <stdexcept>
#include <system_error>

namespace feedrouter::test {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t read_chunk = 16 * 1024;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int remaining_ms(steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now()).count();
  if (left <= 0)
    return 0;
  return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

/// Waits until `fd` has `events` or the deadline passes; returns whether it has.
bool wait_for(int fd, short events, steady_clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    auto ready = ::poll(&pfd, 1, remaining_ms(deadline));
    if (ready > 0)
      return true;
    if (ready == 0)
      return false;
    if (errno != EINTR)
      throw_errno("poll");
  }
}

/// Cuts one packet from the front of `bytes`, or returns nullopt when it is not complete yet.
std::optional<raw_mqtt_packet> cut_packet(std::string& bytes) {
  if (bytes.size() < 2)
    return std::nullopt;
  std::size_t remaining = 0;
  std::size_t header = 1;
  for (std::size_t multiplier = 1;; multiplier *= 128) {
    if (header >= bytes.size())
      return std::nullopt;
    auto digit = static_cast<unsigned char>(bytes[header++]);
    remaining += (digit & 0x7f) * multiplier;
    if ((digit & 0x80) == 0)
      break;
  }
  if (bytes.size() < header + remaining)
    return std::nullopt;
  raw_mqtt_packet packet;
  packet.type = static_cast<unsigned char>(bytes[0]) >> 4;
  packet.flags = bytes[0] & 0x0f;
  packet.body = bytes.substr(header, remaining);
  bytes.erase(0, header + remaining);
  return packet;
}

} // namespace

raw_mqtt_broker::raw_mqtt_broker() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0)
    throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  socklen_t length = sizeof address;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(listener_, 8) != 0
      || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw_errno("listen on 127.0.0.1");
  port_ = ntohs(address.sin_port);
}

raw_mqtt_broker::~raw_mqtt_broker() {
  if (connection_ >= 0)
    ::close(connection_);
  ::close(listener_);
}

bool raw_mqtt_broker::accept(milliseconds timeout) {
  if (!wait_for(listener_, POLLIN, steady_clock::now() + timeout))
    return false;
  if (connection_ >= 0)
    ::close(connection_);
  connection_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (connection_ < 0)
    throw_errno("accept");
  received_.clear();
  return true;
}

std::optional<raw_mqtt_packet> raw_mqtt_broker::read_packet(milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  for (;;) {
    if (auto packet = cut_packet(received_))
      return packet;
    if (!wait_for(connection_, POLLIN, deadline))
      return std::nullopt;
    char buffer[read_chunk];
    auto n = ::recv(connection_, buffer, sizeof buffer, 0);
    if (n <= 0)
      return std::nullopt;
    received_.append(buffer, static_cast<std::size_t>(n));
  }
}

void raw_mqtt_broker::write(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(connection_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw_errno("send to the client");
    sent += static_cast<std::size_t>(n);
  }
}

std::size_t raw_mqtt_broker::write_until_full(const std::string& packet, std::size_t limit) {
  std::size_t packets = 0;
  std::size_t partial = 0; // bytes of the current packet already in the socket
  while (packets < limit) {
    auto n = ::send(connection_, packet.data() + partial, packet.size() - partial, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The client's buffers are full. A packet half in the socket is finished by flush_tail(), once it reads.
      if (partial > 0)
        tail_ = packet.substr(partial);
      return packets + (partial > 0 ? 1 : 0);
    }
    if (n < 0)
      throw_errno("send to the client");
    partial += static_cast<std::size_t>(n);
    if (partial == packet.size()) {
      ++packets;
      partial = 0;
    }
  }
  return packets;
}

void raw_mqtt_broker::close_connection() {
  ::close(connection_);
  connection_ = -1;
}

void raw_mqtt_broker::flush_tail() {
  write(tail_);
  tail_.clear();
}

bool raw_mqtt_broker::wait_for_close(milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  for (;;) {
    if (!wait_for(connection_, POLLIN, deadline))
      return false;
    char buffer[read_chunk];
    auto n = ::recv(connection_, buffer, sizeof buffer, 0);
    if (n <= 0)
      return true;
  }
}

} // namespace feedrouter::test
