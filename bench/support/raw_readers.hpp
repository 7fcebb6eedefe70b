// What the broker tools of bench/ share (kafka-tool, mqtt-tool, redis-tool): messages stamped with their send time,
// a paced send loop, and raw readers whose arrivals are summed up in one JSON line.
//
// Times are CLOCK_REALTIME in microseconds, comparable with the sink's receivedAt.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

/// Microseconds since the epoch (wall clock).
inline std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

/// The JSON value of message `n`: {"n":n,"sentUs":<now>,"pad":"xxx"} padded to `size` bytes.
inline std::string stamped_value(long n, long size) {
  std::string value = "{\"n\":" + std::to_string(n) + ",\"sentUs\":" + std::to_string(now_us()) + ",\"pad\":\"";
  auto fill = std::max<long>(0, size - static_cast<long>(value.size()) - 2);
  value += std::string(static_cast<std::size_t>(fill), 'x') + "\"}";
  return value;
}

/// Returns the send time a stamped value carries, or -1.
inline std::int64_t sent_us_of(std::string_view text) {
  static constexpr std::string_view marker = "\"sentUs\":";
  auto at = text.find(marker);
  if (at == std::string_view::npos)
    return -1;
  return std::strtoll(std::string{text.substr(at + marker.size(), 20)}.c_str(), nullptr, 10);
}

/// Sleeps until message `i` of a run at `rate` messages per second that began at `start` is due; a rate of 0 (as fast
/// as the broker takes them) does not sleep.
inline void pace(std::chrono::steady_clock::time_point start, long i, double rate) {
  if (rate <= 0)
    return;
  std::this_thread::sleep_until(start
                                + std::chrono::microseconds(static_cast<std::int64_t>(1e6 * static_cast<double>(i)
                                                                                      / rate)));
}

/// What one raw reader saw: how many messages, the first and last arrival, and each stamped message's send -> read
/// latency. Written by the reader's own thread only; read once it finished.
struct reading {
  std::atomic<std::size_t> received{0};
  std::int64_t first_us = -1;
  std::int64_t last_us = -1;
  std::vector<std::int64_t> latencies;

  /// Records one message that arrived at `arrived_us`, stamped `sent_us` (-1: not stamped).
  void add(std::int64_t arrived_us, std::int64_t sent_us) {
    if (first_us < 0)
      first_us = arrived_us;
    last_us = arrived_us;
    if (sent_us > 0)
      latencies.push_back(arrived_us - sent_us);
    ++received;
  }
};

/// A raw reader as the tools' `wait` command sees it.
class raw_reader {
public:
  virtual ~raw_reader() = default;

  /// Asks the reader to stop, without waiting for it: a reader blocked in a read notices within its read's
  /// time-out, so the readers are all asked first and then finished.
  virtual void stop_soon() = 0;

  /// Stops reading; `seen()` is final once it returns.
  virtual void finish() = 0;

  const reading& seen() const {
    return seen_;
  }

protected:
  reading seen_;
};

inline std::int64_t percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty())
    return -1;
  auto index = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

/// Waits until every reader has read `count` messages or `timeout_s` passed, stops them all, and returns the `wait`
/// command's answer: {"consumers", "received", "first_us", "last_us", "latency_us": {"p50", "p90", "p99", "max"}}.
template <class Reader>
std::string wait_and_sum_up(std::vector<std::unique_ptr<Reader>>& readers, std::size_t count, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  auto done = [&] {
    return std::all_of(readers.begin(), readers.end(), [&](const auto& r) { return r->seen().received >= count; });
  };
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::size_t received = 0;
  std::int64_t first = -1;
  std::int64_t last = -1;
  std::vector<std::int64_t> latencies;
  for (auto& r : readers)
    r->stop_soon();
  for (auto& r : readers) {
    r->finish();
    const auto& seen = r->seen();
    received += seen.received;
    if (seen.first_us >= 0 && (first < 0 || seen.first_us < first))
      first = seen.first_us;
    last = std::max(last, seen.last_us);
    latencies.insert(latencies.end(), seen.latencies.begin(), seen.latencies.end());
  }
  auto consumers = readers.size();
  readers.clear();
  std::sort(latencies.begin(), latencies.end());
  std::ostringstream out;
  out << "{\"consumers\": " << consumers << ", \"received\": " << received << ", \"first_us\": " << first
      << ", \"last_us\": " << last << ", \"latency_us\": {\"p50\": " << percentile(latencies, 0.5)
      << ", \"p90\": " << percentile(latencies, 0.9) << ", \"p99\": " << percentile(latencies, 0.99)
      << ", \"max\": " << (latencies.empty() ? -1 : latencies.back()) << "}}";
  return out.str();
}

/// The `produce` command's answer.
inline std::string produced_json(long count, std::int64_t first_us, std::int64_t last_us) {
  std::ostringstream out;
  out << "{\"produced\": " << count << ", \"first_us\": " << first_us << ", \"last_us\": " << last_us
      << ", \"seconds\": " << static_cast<double>(last_us - first_us) / 1e6 << "}";
  return out.str();
}

/// An answer that reports a failed command.
inline std::string json_error(const std::string& text) {
  std::string escaped;
  for (char c : text)
    escaped += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string{c};
  return "{\"error\": \"" + escaped + "\"}";
}

} // namespace bench
