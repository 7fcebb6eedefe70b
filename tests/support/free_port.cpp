#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace feedrouter::test {

std::uint16_t pick_free_port() {
  auto fail = [](const char* what) { return std::system_error(errno, std::generic_category(), what); };
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    auto err = fail("bind 127.0.0.1:0");
    ::close(fd);
    throw err;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

} // namespace feedrouter::test
