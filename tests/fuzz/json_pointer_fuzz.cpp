// Fuzzes the poll feed's JSON pointer code: parsing a tenant's pointer, then resolving it in a tenant's document.
//
// Input: the pointer text, a NUL byte, then the document. Without a NUL byte the whole input is both.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/json_pointer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto split = input.find('\0');
  auto pointer_text = input.substr(0, split);
  auto document = split == std::string_view::npos ? input : input.substr(split + 1);
  auto pointer = feedrouter::parse_json_pointer(pointer_text, "itemsPointer");
  if (!pointer)
    return 0;
  // What to_string writes, parse_json_pointer must read back as the same pointer.
  auto again = feedrouter::parse_json_pointer(feedrouter::to_string(*pointer), "itemsPointer");
  if (!again || again->tokens != pointer->tokens)
    __builtin_trap();
  (void)feedrouter::resolve(*pointer, document);
  if (auto items = feedrouter::resolve_array(*pointer, document))
    for (const auto& item : *items)
      (void)feedrouter::item_id(item, std::optional<feedrouter::json_pointer>{*pointer});
  return 0;
}
