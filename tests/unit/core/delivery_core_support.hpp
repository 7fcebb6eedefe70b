#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/delivery_core.hpp"

namespace feedrouter::test {

/// An arbitrary instant at which the delivery core tests begin.
inline const sys_ms core_epoch{std::chrono::milliseconds{1'767'225'600'000}};

/// The body of test event `n`: {"n":n}, or {"n":n,"pad":"xx..."} with `pad` characters of padding.
inline std::string body_of_event(std::int64_t n, std::size_t pad = 0) {
  if (pad == 0)
    return R"({"n":)" + std::to_string(n) + "}";
  return R"({"n":)" + std::to_string(n) + R"(,"pad":")" + std::string(pad, 'x') + "\"}";
}

/// Returns the numbers n of every {"n":n} in a fire body, in order: one for a single event, several for a batch.
inline std::vector<std::int64_t> events_in(const std::string& body) {
  std::vector<std::int64_t> result;
  const std::string marker = R"("n":)";
  for (auto at = body.find(marker); at != std::string::npos; at = body.find(marker, at + 1)) {
    auto start = at + marker.size();
    auto end = body.find_first_not_of("0123456789", start);
    result.push_back(std::stoll(body.substr(start, end - start)));
  }
  return result;
}

/// The settings of most tests: one event per fire, one fire in flight, the delivery defaults of the architecture.
inline delivery_settings default_delivery() {
  delivery_settings s;
  s.batch_size = 1;
  s.window = 1;
  s.max_buffered = 10;
  s.retries.first_delay = std::chrono::milliseconds{500};
  s.retries.factor = 2.0;
  s.retries.max_delay = std::chrono::milliseconds{60'000};
  s.retries.max_attempts = 10;
  s.retries.max_age = std::chrono::milliseconds{3'600'000};
  return s;
}

/// A jitter source value that makes full jitter yield half the ceiling.
inline constexpr std::uint64_t half_jitter = std::uint64_t{1} << 63;

/// Returns an outcome with `status` (0: a transport error) and the error text the firer would report.
inline fire_outcome answer(int status, std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
  fire_outcome o;
  o.status_code = status;
  if (status == 0)
    o.error = "connect: Connection refused";
  else if (status < 200 || status >= 300)
    o.error = "HTTP " + std::to_string(status);
  o.retry_after = retry_after;
  return o;
}

} // namespace feedrouter::test
