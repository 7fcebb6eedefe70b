#pragma once

#include <cstddef>
#include <memory>

namespace feedrouter {

/// Owns the Asio io_context and the threads that run it; every socket of the process lives here.
///
/// Actors never do network I/O themselves: servers and clients built on this runtime hand their results to actors
/// as messages. The header includes no Asio so that other layers can hold a runtime.
class io_runtime {
public:
  struct impl;

  /// Starts `threads` threads running the io_context (with a work guard, so they idle until stopped).
  explicit io_runtime(std::size_t threads = 1);

  /// Stops the io_context and joins its threads (same as stop()).
  ~io_runtime();

  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  /// Releases the work guard, stops the io_context and joins the threads; idempotent.
  void stop();

  /// Returns the implementation, for net/ code only.
  impl& get() noexcept {
    return *impl_;
  }

private:
  std::unique_ptr<impl> impl_;
};

} // namespace feedrouter
