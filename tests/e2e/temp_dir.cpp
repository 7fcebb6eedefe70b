#include "tests/e2e/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

namespace feedrouter::test {

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string{base != nullptr && *base != '\0' ? base : "/tmp"} + "/feedrouter-e2e-XXXXXX";
  std::vector<char> buffer{pattern.begin(), pattern.end()};
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  path_ = buffer.data();
}

temp_dir::~temp_dir() {
  // Cleanup is best effort: a leftover directory must not turn a passing test into a crash.
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

} // namespace feedrouter::test
