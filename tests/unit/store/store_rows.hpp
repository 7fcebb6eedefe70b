#pragma once

// Store changes and stored rows as the SQLite store tests build them.

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace feedrouter::test {

using namespace std::chrono_literals;

inline store_op make_op(store_op::kind kind, trigger_ref trigger) {
  store_op op;
  op.op = kind;
  op.record.trigger = std::move(trigger);
  return op;
}

inline store_op put(registration_record rec) {
  store_op op;
  op.op = store_op::kind::put_registration;
  op.record = std::move(rec);
  return op;
}

inline store_op put_status(registration_record rec) {
  auto op = put(std::move(rec));
  op.op = store_op::kind::put_status;
  return op;
}

inline store_op erase(trigger_ref trigger) {
  return make_op(store_op::kind::erase, std::move(trigger));
}

inline store_op put_event(trigger_ref trigger, stored_event event) {
  auto op = make_op(store_op::kind::put_event, std::move(trigger));
  op.event = std::move(event);
  return op;
}

inline store_op put_delivery(trigger_ref trigger, std::uint64_t seq, std::string id) {
  auto op = make_op(store_op::kind::put_delivery, std::move(trigger));
  op.delivery = {seq, std::move(id)};
  return op;
}

/// Returns "seq:id" of each delivery, for comparing lists.
inline std::vector<std::string> deliveries_of(const registration_record& rec) {
  std::vector<std::string> result;
  for (const auto& delivery : rec.deliveries)
    result.push_back(std::to_string(delivery.seq) + ":" + delivery.id);
  return result;
}

inline store_op erase_event(trigger_ref trigger, std::uint64_t seq) {
  auto op = make_op(store_op::kind::erase_event, std::move(trigger));
  op.event.seq = seq;
  return op;
}

inline store_op put_dead_letter(trigger_ref trigger, dead_letter letter) {
  auto op = make_op(store_op::kind::put_dead_letter, std::move(trigger));
  op.letter = std::move(letter);
  return op;
}

inline store_op erase_dead_letter(trigger_ref trigger, std::uint64_t seq) {
  auto op = make_op(store_op::kind::erase_dead_letter, std::move(trigger));
  op.letter.event.seq = seq;
  return op;
}

inline stored_event make_event(std::uint64_t seq) {
  stored_event result;
  result.seq = seq;
  result.body = R"({"n":)" + std::to_string(seq) + R"(,"text":"grüße"})";
  // Distinct per event; the modulo keeps the largest seqs from overflowing the time.
  const auto offset = static_cast<std::int64_t>(seq % 1'000'000'000);
  result.accepted = sys_ms{std::chrono::milliseconds{1'700'000'000'000 + offset}};
  return result;
}

inline dead_letter make_letter(std::uint64_t seq) {
  dead_letter result;
  result.event = make_event(seq);
  result.failed = result.event.accepted + 60s;
  result.status_code = 503;
  result.error = "Service Unavailable after " + std::to_string(seq) + " tries";
  result.attempts = 12;
  return result;
}

inline std::vector<std::uint64_t> seqs_of(const std::vector<stored_event>& events) {
  std::vector<std::uint64_t> result;
  for (const auto& event : events)
    result.push_back(event.seq);
  return result;
}

/// Returns the span of pending events with seqs `seqs` (in order), as load_all() reports them.
inline pending_span span_of(const std::vector<std::uint64_t>& seqs) {
  return seqs.empty() ? pending_span{} : pending_span{seqs.front(), seqs.size()};
}

/// Returns every pending event of `trigger` in `db`, bodies included, as the delivery core reads them back.
inline std::vector<stored_event> pending_of(store& db, const trigger_ref& trigger) {
  auto page = db.load_pending(trigger, 0, std::numeric_limits<std::size_t>::max(),
                              std::numeric_limits<std::size_t>::max());
  if (!page)
    throw std::runtime_error("cannot read the pending events of " + trigger.key());
  return std::move(page->events);
}

inline std::vector<std::uint64_t> seqs_of(const std::vector<dead_letter>& letters) {
  std::vector<std::uint64_t> result;
  for (const auto& letter : letters)
    result.push_back(letter.event.seq);
  return result;
}

} // namespace feedrouter::test
