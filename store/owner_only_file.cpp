#include "store/owner_only_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include <openssl/crypto.h>

namespace feedrouter {

namespace {

/// Permission bits an owner-only file must not have: any access by group or others.
constexpr mode_t group_other_bits = S_IRWXG | S_IRWXO;

/// Bytes read at a time.
constexpr std::size_t chunk_size = 1024;

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

/// Returns permission bits as chmod writes them, e.g. "0644".
std::string mode_text(mode_t mode) {
  std::array<char, 8> out{};
  std::snprintf(out.data(), out.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return out.data();
}

/// Closes a file descriptor when the scope ends.
class fd_closer {
public:
  explicit fd_closer(int fd) : fd_(fd) {
    // nop
  }

  ~fd_closer() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  fd_closer(const fd_closer&) = delete;
  fd_closer& operator=(const fd_closer&) = delete;

  int get() const noexcept {
    return fd_;
  }

private:
  int fd_;
};

} // namespace

std::optional<std::string> read_owner_only_file(const std::string& path, std::size_t max_size) {
  fd_closer fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.get() < 0)
    throw owner_only_file_error("cannot open: " + errno_text(errno));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0)
    throw owner_only_file_error("cannot read: " + errno_text(errno));
  if (!S_ISREG(info.st_mode))
    throw owner_only_file_error("is not a regular file");
  if ((info.st_mode & group_other_bits) != 0)
    throw owner_only_file_error("may be accessed by group or others (mode " + mode_text(info.st_mode)
                                + "); allow its owner only: chmod 600 '" + path + "'");
  std::string text;
  std::array<char, chunk_size> chunk{};
  while (text.size() <= max_size) {
    auto got = ::read(fd.get(), chunk.data(), chunk.size());
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      OPENSSL_cleanse(text.data(), text.size());
      throw owner_only_file_error("cannot read: " + errno_text(errno));
    }
    if (got == 0)
      break;
    text.append(chunk.data(), static_cast<std::size_t>(got));
  }
  OPENSSL_cleanse(chunk.data(), chunk.size());
  if (text.size() > max_size) {
    OPENSSL_cleanse(text.data(), text.size());
    return std::nullopt;
  }
  return text;
}

} // namespace feedrouter
