#pragma once

#include <string>
#include <utility>
#include <variant>

namespace feedrouter {

/// Names the input field a validation error is about, with a message a user can act on.
struct field_error {
  std::string field;
  std::string message;
};

/// Holds either a value or the field_error that prevented it.
template <class T>
class outcome {
public:
  outcome(T value) : data_(std::move(value)) {
    // nop
  }

  outcome(field_error err) : data_(std::move(err)) {
    // nop
  }

  explicit operator bool() const noexcept {
    return std::holds_alternative<T>(data_);
  }

  T& value() {
    return std::get<T>(data_);
  }

  const T& value() const {
    return std::get<T>(data_);
  }

  T& operator*() {
    return value();
  }

  const T& operator*() const {
    return value();
  }

  T* operator->() {
    return &value();
  }

  const T* operator->() const {
    return &value();
  }

  const field_error& error() const {
    return std::get<field_error>(data_);
  }

private:
  std::variant<T, field_error> data_;
};

} // namespace feedrouter
