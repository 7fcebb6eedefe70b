#pragma once

// Private to net/: the Asio side of io_runtime. Only net/*.cpp include this header.

#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "net/io_runtime.hpp"

namespace feedrouter {

namespace asio = boost::asio;

/// The io_context every socket of the process lives on, the guard that keeps it running while idle, and its threads.
struct io_runtime::impl {
  using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;

  explicit impl(int concurrency_hint) : ioc(concurrency_hint), guard(asio::make_work_guard(ioc)) {
    // nop
  }

  asio::io_context ioc;
  std::optional<work_guard> guard; ///< reset by stop() so that run() may return
  std::vector<std::thread> threads;
  std::mutex stop_mutex; ///< serialises stop() calls from different threads
  bool stopped = false;  ///< guarded by stop_mutex
};

/// Returns the io_context of `io`.
inline asio::io_context& io_context_of(io_runtime& io) noexcept {
  return io.get().ioc;
}

} // namespace feedrouter
