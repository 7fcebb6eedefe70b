#include "net/http_message.hpp"

#include "core/text.hpp"

namespace feedrouter {

std::string_view find_field(const http_fields& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (iequals(key, name))
      return value;
  return {};
}

} // namespace feedrouter
