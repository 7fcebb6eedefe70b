#include "net/io_runtime.hpp"

#include <algorithm>
#include <exception>
#include <iostream>

#include "net/detail/asio_context.hpp"

namespace feedrouter {

namespace {

/// Runs the io_context until it is stopped. A handler that throws must not take its I/O thread (and with it every
/// socket served by that thread) down, so the exception is reported and the loop goes on.
void run_io_thread(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      std::cerr << "feedrouter: exception escaped an I/O handler: " << e.what() << '\n';
    } catch (...) {
      std::cerr << "feedrouter: unknown exception escaped an I/O handler\n";
    }
  }
}

} // namespace

io_runtime::io_runtime(std::size_t threads) {
  // A runtime without threads would accept work it never runs.
  auto count = std::max<std::size_t>(threads, 1);
  // A hint of 1 lets Asio skip some locking when only one thread runs the scheduler.
  impl_ = std::make_unique<impl>(static_cast<int>(count));
  impl_->threads.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    impl_->threads.emplace_back(run_io_thread, std::ref(impl_->ioc));
}

io_runtime::~io_runtime() {
  stop();
  // Only a runtime destroyed from one of its own handlers gets here with a joinable thread: that thread returns from
  // run() as soon as the handler returns, and cannot join itself.
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.detach();
}

void io_runtime::stop() {
  std::lock_guard<std::mutex> guard{impl_->stop_mutex};
  if (!impl_->stopped) {
    impl_->stopped = true;
    impl_->guard.reset();
    impl_->ioc.stop();
  }
  // A later call from another thread joins what an earlier call from an I/O thread could not.
  auto self = std::this_thread::get_id();
  for (auto& t : impl_->threads)
    if (t.joinable() && t.get_id() != self)
      t.join();
}

} // namespace feedrouter
