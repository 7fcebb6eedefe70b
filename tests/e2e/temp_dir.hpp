#pragma once

#include <string>

namespace feedrouter::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents when the object goes away.
class temp_dir {
public:
  /// Creates the directory; throws std::system_error when it cannot.
  temp_dir();
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Returns the directory's path.
  const std::string& path() const noexcept {
    return path_;
  }

  /// Returns the path of `name` inside the directory.
  std::string file(const std::string& name) const {
    return path_ + '/' + name;
  }

private:
  std::string path_;
};

} // namespace feedrouter::test
