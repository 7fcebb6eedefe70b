#include "app/memory_budget.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace feedrouter {

namespace {

/// Returns the number in the file at `path` (a cgroup limit), or 0 when it is absent, "max" or not a number.
std::size_t read_limit(const char* path) {
  std::ifstream in{path};
  std::string text;
  if (!(in >> text) || text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  try {
    return static_cast<std::size_t>(std::stoull(text));
  } catch (const std::exception&) {
    return 0;
  }
}

} // namespace

std::size_t default_buffered_bytes(std::size_t memory) noexcept {
  return std::clamp(memory / default_budget_divisor, default_budget_floor, default_budget_cap);
}

std::size_t usable_memory() {
  std::size_t physical = 0;
  auto pages = sysconf(_SC_PHYS_PAGES);
  auto page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0)
    physical = static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size);
  // A container's limit is lower than the machine's memory; "unlimited" in v1 is a huge number, which min() ignores.
  for (const auto* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    auto limit = read_limit(path);
    if (limit > 0)
      physical = physical == 0 ? limit : std::min(physical, limit);
  }
  return physical;
}

} // namespace feedrouter
