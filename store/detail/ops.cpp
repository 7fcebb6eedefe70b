#include "store/detail/ops.hpp"

namespace feedrouter::detail {

std::string_view op_name(store_op::kind x) {
  switch (x) {
    case store_op::kind::put_registration:
      return "put_registration";
    case store_op::kind::put_status:
      return "put_status";
    case store_op::kind::erase:
      return "erase";
    case store_op::kind::put_event:
      return "put_event";
    case store_op::kind::erase_event:
      return "erase_event";
    case store_op::kind::put_dead_letter:
      return "put_dead_letter";
    case store_op::kind::erase_dead_letter:
      return "erase_dead_letter";
    case store_op::kind::put_delivery:
      return "put_delivery";
  }
  return "unknown operation";
}

std::optional<std::uint64_t> op_seq(const store_op& op) {
  switch (op.op) {
    case store_op::kind::put_event:
    case store_op::kind::erase_event:
      return op.event.seq;
    case store_op::kind::put_dead_letter:
    case store_op::kind::erase_dead_letter:
      return op.letter.event.seq;
    case store_op::kind::put_delivery:
      return op.delivery.seq;
    case store_op::kind::put_registration:
    case store_op::kind::put_status:
    case store_op::kind::erase:
      break;
  }
  return std::nullopt;
}

std::string describe(const store_op& op) {
  auto result = std::string{op_name(op.op)} + " " + op.record.trigger.key();
  if (auto seq = op_seq(op))
    result += " seq " + std::to_string(*seq);
  return result;
}

std::optional<std::string> check_seq_range(const store_op& op) {
  if (auto seq = op_seq(op); seq && *seq > max_seq)
    return std::string{"seq out of range"};
  return std::nullopt;
}

} // namespace feedrouter::detail
