#include "app/admin_key.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

/// A file in a fresh directory under /tmp, removed with the directory when the test ends.
class key_file {
public:
  key_file() {
    std::string pattern = "/tmp/feedrouter-admin-key-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    path_ = dir_ + "/admin.key";
  }

  ~key_file() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  key_file(const key_file&) = delete;
  key_file& operator=(const key_file&) = delete;

  /// Writes `text` with permission bits `mode`.
  const std::string& write(const std::string& text, mode_t mode = 0600) {
    std::ofstream{path_, std::ios::binary | std::ios::trunc} << text;
    ::chmod(path_.c_str(), mode);
    return path_;
  }

  const std::string& path() const {
    return path_;
  }

private:
  std::string dir_;
  std::string path_;
};

} // namespace

TEST_CASE("the admin key is the file's one line, its newline left out", "[admin_key]") {
  key_file file;
  CHECK(read_admin_key_file(file.write("s3cr3t-key\n")) == "s3cr3t-key");
  CHECK(read_admin_key_file(file.write("s3cr3t-key \r\n\n", 0400)) == "s3cr3t-key");
}

TEST_CASE("an admin key file that group or others may access is refused, naming the file and the fix",
          "[admin_key]") {
  key_file file;
  for (mode_t mode : {0640, 0604, 0660, 0644, 0666}) {
    file.write("s3cr3t-key\n", mode);
    CHECK_THROWS_WITH(read_admin_key_file(file.path()),
                      Catch::StartsWith("admin key file '" + file.path() + "': may be accessed by group or others")
                        && Catch::Contains("chmod 600"));
  }
}

TEST_CASE("an admin key file without a key is refused", "[admin_key]") {
  key_file file;
  for (const auto& text : {std::string{}, std::string{"\n"}, std::string{"  \n"}, std::string{"two words\n"},
                           std::string{"line\nline\n"}, std::string(2000, 'k'), std::string{"k\x01y"}}) {
    file.write(text);
    CHECK_THROWS_WITH(read_admin_key_file(file.path()),
                      Catch::StartsWith("admin key file '" + file.path() + "': does not hold a key"));
  }
}

TEST_CASE("an admin key file that is missing or no file is refused", "[admin_key]") {
  key_file file;
  CHECK_THROWS_WITH(read_admin_key_file(file.path()), Catch::Contains("cannot open"));
  std::filesystem::create_directory(file.path());
  ::chmod(file.path().c_str(), 0700);
  CHECK_THROWS_WITH(read_admin_key_file(file.path()), Catch::Contains("is not a regular file"));
}

TEST_CASE("a request carries the admin key only as Bearer with exactly that key", "[admin_key]") {
  CHECK(carries_admin_key("Bearer k3y", "k3y"));
  CHECK(carries_admin_key("BEARER   k3y ", "k3y"));
  CHECK_FALSE(carries_admin_key("Bearer k3", "k3y"));
  CHECK_FALSE(carries_admin_key("Bearer k3yy", "k3y"));
  CHECK_FALSE(carries_admin_key("Bearerk3y", "k3y"));
  CHECK_FALSE(carries_admin_key("Basic k3y", "k3y"));
  CHECK_FALSE(carries_admin_key("", "k3y"));
  // No key configured: nothing carries it, not even an empty token.
  CHECK_FALSE(carries_admin_key("Bearer ", ""));
}
