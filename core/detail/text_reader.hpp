#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace feedrouter::detail {

/// Reads fixed-format text (dates) left to right; every read fails without consuming on a mismatch.
class text_reader {
public:
  explicit text_reader(std::string_view text) : text_(text) {
    // nop
  }

  bool at_end() const noexcept {
    return pos_ == text_.size();
  }

  /// Consumes `c` if it comes next.
  bool skip(char c) noexcept {
    if (at_end() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }

  /// Reads `word` if it comes next.
  bool literal(std::string_view word) noexcept {
    if (text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  /// Reads one decimal digit if one comes next.
  std::optional<int> digit() noexcept {
    if (at_end() || text_[pos_] < '0' || text_[pos_] > '9')
      return std::nullopt;
    return text_[pos_++] - '0';
  }

  /// Reads exactly `count` decimal digits as a number.
  std::optional<int> digits(std::size_t count) noexcept {
    if (text_.size() - pos_ < count)
      return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (c < '0' || c > '9')
        return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

  /// Reads `count` digits that must lie in [0, max].
  std::optional<int> bounded(std::size_t count, int max) noexcept {
    auto start = pos_;
    auto value = digits(count);
    if (!value || *value > max) {
      pos_ = start;
      return std::nullopt;
    }
    return value;
  }

  /// Reads one of `names` (case-sensitive) and returns its index.
  template <std::size_t N>
  std::optional<unsigned> name(const std::array<std::string_view, N>& names) noexcept {
    for (std::size_t i = 0; i < N; ++i)
      if (literal(names[i]))
        return static_cast<unsigned>(i);
    return std::nullopt;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

} // namespace feedrouter::detail
