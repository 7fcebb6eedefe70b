#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/kafka_spec.hpp"

namespace feedrouter {

/// Where a registration's reading of its topic stands: for each partition, the offset of the next message to read.
/// Every message before it was fired or dead-lettered.
using kafka_offsets = std::map<std::int32_t, std::int64_t>;

/// Returns the checkpoint text of a registration that has read up to `offsets`:
/// {"source":"<kafka_source(spec)>","offsets":{"0":335,"1":12}}.
std::string to_kafka_checkpoint(const kafka_spec& spec, const kafka_offsets& offsets);

/// Returns the offsets to resume from: the checkpoint's, when it was taken on this spec's brokers and topic; nullopt
/// when the checkpoint is empty, unreadable, or from other brokers or another topic (after an UPDATE of either), and
/// the registration starts from spec.since. A checkpoint holds at most kafka_max_partitions partitions, each with a
/// number below that bound and a non-negative offset; one that does not is unreadable.
std::optional<kafka_offsets> restore_kafka_offsets(std::string_view checkpoint, const kafka_spec& spec);

} // namespace feedrouter
