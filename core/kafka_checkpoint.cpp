#include "core/kafka_checkpoint.hpp"

#include <charconv>

#include "core/json.hpp"

namespace feedrouter {

namespace {

std::optional<std::int32_t> read_partition(std::string_view digits) {
  std::int32_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || value < 0
      || static_cast<std::size_t>(value) >= kafka_max_partitions)
    return std::nullopt;
  return value;
}

} // namespace

std::string to_kafka_checkpoint(const kafka_spec& spec, const kafka_offsets& offsets) {
  json_writer out;
  out.begin_object().key("source").value(kafka_source(spec)).key("offsets").begin_object();
  for (const auto& [partition, offset] : offsets)
    out.key(std::to_string(partition)).value(offset);
  out.end_object().end_object();
  return out.take();
}

std::optional<kafka_offsets> restore_kafka_offsets(std::string_view checkpoint, const kafka_spec& spec) {
  if (checkpoint.empty())
    return std::nullopt;
  auto members = parse_json_object(checkpoint, "checkpoint");
  if (!members)
    return std::nullopt;
  const auto* source = find_member(*members, "source");
  const auto* raw_offsets = find_member(*members, "offsets");
  if (source == nullptr || raw_offsets == nullptr || json_as_string(*source) != kafka_source(spec))
    return std::nullopt;
  auto entries = parse_json_object(*raw_offsets, "offsets");
  if (!entries || entries->size() > kafka_max_partitions)
    return std::nullopt;
  kafka_offsets offsets;
  for (const auto& [name, raw] : *entries) {
    auto partition = read_partition(name);
    auto offset = json_as_int(raw);
    if (!partition || !offset || *offset < 0)
      return std::nullopt;
    offsets[*partition] = *offset;
  }
  return offsets;
}

} // namespace feedrouter
