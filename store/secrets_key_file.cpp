#include "store/secrets_key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <openssl/crypto.h>

#include "core/crypto.hpp"
#include "store/owner_only_file.hpp"
#include "store/store.hpp"

namespace feedrouter {

namespace {

/// Largest key file read: a key file holds one short line; anything longer is not one.
constexpr std::size_t max_key_file_size = 1024;

/// Mode of a key file this program writes.
constexpr mode_t key_file_mode = S_IRUSR | S_IWUSR;

/// Random bytes in the name of a temporary key file.
constexpr std::size_t temp_name_bytes = 8;

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw store_open_error("secrets key file '" + path + "': " + what);
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

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// Syncs the directory of `path`, so that a name created or renamed in it survives a crash.
void sync_directory_of(const std::string& path) {
  fd_closer dir{::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.get() < 0 || ::fsync(dir.get()) != 0)
    fail(path, "cannot sync its directory: " + errno_text(errno));
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    auto written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      fail(path, "cannot write: " + errno_text(errno));
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

} // namespace

std::string default_key_file(std::string_view store_path) {
  return std::string{store_path} + ".key";
}

std::string pending_key_file(std::string_view key_file) {
  return std::string{key_file} + ".new";
}

std::string retired_key_file(std::string_view key_file, std::string_view key_id) {
  return std::string{key_file} + '.' + std::string{key_id} + ".old";
}

bool key_file_exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

secrets_key read_key_file(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = read_owner_only_file(path, max_key_file_size);
  } catch (const owner_only_file_error& e) {
    fail(path, e.what());
  }
  auto key = text ? secrets_key::parse(*text) : std::nullopt;
  if (text)
    OPENSSL_cleanse(text->data(), text->size());
  if (!key)
    fail(path, "does not hold a key (expected one line 'feedrouter-secrets-v1:' followed by 32 bytes in base64)");
  return std::move(*key);
}

void create_key_file(const std::string& path, const secrets_key& key) {
  auto temp = path + ".tmp-" + random_hex(temp_name_bytes);
  {
    fd_closer fd{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, key_file_mode)};
    if (fd.get() < 0)
      fail(path, "cannot create '" + temp + "': " + errno_text(errno));
    auto text = key.to_text();
    try {
      // The mode given to open() is reduced by the umask; this one is not.
      if (::fchmod(fd.get(), key_file_mode) != 0)
        fail(path, "cannot set its mode: " + errno_text(errno));
      write_all(fd.get(), text, path);
      if (::fsync(fd.get()) != 0)
        fail(path, "cannot sync: " + errno_text(errno));
    } catch (...) {
      OPENSSL_cleanse(text.data(), text.size());
      ::unlink(temp.c_str());
      throw;
    }
    OPENSSL_cleanse(text.data(), text.size());
  }
  // link() fails when `path` exists: a key is never replaced here, even by a process racing this one.
  auto linked = ::link(temp.c_str(), path.c_str());
  auto err = errno;
  ::unlink(temp.c_str());
  if (linked != 0)
    fail(path, err == EEXIST ? std::string{"exists already"} : "cannot create: " + errno_text(err));
  sync_directory_of(path);
}

void link_key_file(const std::string& target, const std::string& path) {
  if (::link(target.c_str(), path.c_str()) != 0)
    fail(path, "cannot link it to '" + target + "': " + errno_text(errno));
  sync_directory_of(path);
}

void replace_key_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    fail(to, "cannot move '" + from + "' over it: " + errno_text(errno));
  sync_directory_of(to);
}

} // namespace feedrouter
