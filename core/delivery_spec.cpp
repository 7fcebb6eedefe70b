#include "core/delivery_spec.hpp"

#include "core/param_reader.hpp"

namespace feedrouter {

namespace {

/// With batchSize above 1 and no batchWindowMs, a partial batch waits this long for more events.
constexpr std::chrono::milliseconds default_batch_window{1000};

} // namespace

outcome<delivery_spec> parse_delivery_spec(const json_members& params) {
  delivery_spec spec;
  auto size = read_int_param(params, batch_size_param);
  if (!size)
    return size.error();
  auto window = read_int_param(params, batch_window_ms_param);
  if (!window)
    return window.error();
  auto attempts = read_int_param(params, retry_attempts_param);
  if (!attempts)
    return attempts.error();
  auto age = read_int_param(params, retry_max_age_seconds_param);
  if (!age)
    return age.error();
  spec.batch_size = static_cast<std::size_t>(size->value_or(1));
  if (*window)
    spec.batch_window = std::chrono::milliseconds{**window};
  else if (spec.batch_size > 1)
    spec.batch_window = default_batch_window;
  if (*attempts)
    spec.max_attempts = static_cast<int>(**attempts);
  if (*age)
    spec.max_age = std::chrono::seconds{**age};
  return spec;
}

} // namespace feedrouter
