#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "core/registration.hpp"
#include "core/retry_policy.hpp"
#include "core/time_format.hpp"

// Shows times in failure messages with their milliseconds, which Catch's own time_point printer leaves out.
namespace Catch {

template <>
struct StringMaker<feedrouter::sys_ms> {
  static std::string convert(const feedrouter::sys_ms& t) {
    return feedrouter::format_iso8601(t);
  }
};

template <>
struct StringMaker<std::optional<feedrouter::sys_ms>> {
  static std::string convert(const std::optional<feedrouter::sys_ms>& t) {
    return t ? feedrouter::format_iso8601(*t) : std::string{"nullopt"};
  }
};

template <>
struct StringMaker<std::optional<std::string>> {
  static std::string convert(const std::optional<std::string>& x) {
    return x ? StringMaker<std::string>::convert(*x) : std::string{"nullopt"};
  }
};

template <>
struct StringMaker<std::optional<std::int64_t>> {
  static std::string convert(const std::optional<std::int64_t>& x) {
    return x ? std::to_string(*x) : std::string{"nullopt"};
  }
};

template <>
struct StringMaker<feedrouter::registration_state> {
  static std::string convert(feedrouter::registration_state x) {
    return std::string{feedrouter::to_string(x)};
  }
};

template <>
struct StringMaker<feedrouter::reason_kind> {
  static std::string convert(feedrouter::reason_kind x) {
    auto text = feedrouter::to_string(x);
    return text.empty() ? std::string{"none"} : std::string{text};
  }
};

template <>
struct StringMaker<feedrouter::fire_verdict> {
  static std::string convert(feedrouter::fire_verdict x) {
    switch (x) {
      case feedrouter::fire_verdict::fired:
        return "fired";
      case feedrouter::fire_verdict::retry:
        return "retry";
      case feedrouter::fire_verdict::disable:
        return "disable";
      case feedrouter::fire_verdict::too_large:
        return "too_large";
      case feedrouter::fire_verdict::dead:
        return "dead";
    }
    return "fire_verdict(" + std::to_string(static_cast<int>(x)) + ")";
  }
};

} // namespace Catch
