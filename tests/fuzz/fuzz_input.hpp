#pragma once

// What every fuzz target needs: the input cut into parts, and a way to report a broken invariant as a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace feedrouter::fuzz {

/// Stops the run when an invariant does not hold: libFuzzer saves the input that broke it, like a crash.
inline void require(bool holds, const char* invariant) {
  if (holds)
    return;
  std::fprintf(stderr, "invariant broken: %s\n", invariant);
  std::abort();
}

/// Reads a fuzz input front to back: single bytes for choices, NUL-separated parts for texts.
class fuzz_input {
public:
  fuzz_input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {
    // nop
  }

  /// Returns the next byte, or 0 once the input is used up.
  std::uint8_t byte() noexcept {
    if (rest_.empty())
      return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  /// Returns the text up to the next NUL byte (consumed) or to the end.
  std::string_view part() noexcept {
    auto end = rest_.find('\0');
    auto text = rest_.substr(0, end);
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
    return text;
  }

  /// Returns everything not read yet.
  std::string_view rest() noexcept {
    auto text = rest_;
    rest_ = {};
    return text;
  }

private:
  std::string_view rest_;
};

} // namespace feedrouter::fuzz
