#include "fake_store.hpp"

#include <algorithm>

#include "core/shard.hpp"

namespace feedrouter::test {

std::vector<store_op> store_journal::ops() const {
  std::vector<store_op> result;
  for (const auto& batch : commits)
    result.insert(result.end(), batch.begin(), batch.end());
  return result;
}

std::vector<store_op> store_journal::ops_for(const trigger_ref& trigger) const {
  std::vector<store_op> result;
  for (const auto& op : ops())
    if (op.record.trigger == trigger)
      result.push_back(op);
  return result;
}

std::size_t store_journal::count(store_op::kind kind) const {
  std::size_t result = 0;
  for (const auto& op : ops())
    if (op.op == kind)
      ++result;
  return result;
}

std::vector<std::uint64_t> store_journal::pending_seqs(const trigger_ref& trigger) const {
  std::vector<std::uint64_t> result;
  if (auto i = pending.find(trigger.key()); i != pending.end())
    for (const auto& [seq, event] : i->second)
      result.push_back(seq);
  return result;
}

void store_journal::leave_pending(registration_record& record, const std::vector<stored_event>& events) {
  auto& stored = pending[record.trigger.key()];
  for (const auto& event : events)
    stored[event.seq] = event;
  record.pending = stored.empty() ? pending_span{} : pending_span{stored.begin()->first, stored.size()};
}

std::vector<dead_letter> store_journal::dead_letters(const trigger_ref& trigger) const {
  std::vector<dead_letter> result;
  if (auto i = dead.find(trigger.key()); i != dead.end())
    for (const auto& [seq, letter] : i->second)
      result.push_back(letter);
  return result;
}

fake_store::fake_store(store_journal_ptr journal) : journal_(std::move(journal)) {
  // nop
}

std::vector<registration_record> fake_store::load_all() {
  return journal_->stored;
}

std::vector<dead_letter> fake_store::load_dead_letters(const trigger_ref& trigger, std::size_t limit) {
  auto all = journal_->dead_letters(trigger);
  if (all.size() > limit)
    all.resize(limit);
  return all;
}

std::optional<pending_page> fake_store::load_pending(const trigger_ref& trigger, std::uint64_t from_seq,
                                                     std::size_t max_rows, std::size_t max_bytes) {
  ++journal_->pending_reads;
  if (journal_->pending_reads_fail)
    return std::nullopt;
  pending_page page;
  auto events = journal_->pending.find(trigger.key());
  if (events == journal_->pending.end())
    return page;
  std::size_t bytes = 0;
  for (auto i = events->second.lower_bound(from_seq); i != events->second.end() && page.events.size() < max_rows;
       ++i) {
    if (bytes + i->second.body.size() > max_bytes) {
      page.next_bytes = i->second.body.size();
      break;
    }
    bytes += i->second.body.size();
    page.events.push_back(i->second);
  }
  return page;
}

std::optional<std::string> fake_store::commit(const std::vector<store_op>& ops) {
  ++journal_->attempts;
  if (journal_->failure)
    return journal_->failure;
  for (const auto& op : ops) {
    auto key = op.record.trigger.key();
    switch (op.op) {
      case store_op::kind::put_registration:
      case store_op::kind::put_status:
        break;
      case store_op::kind::erase:
        journal_->pending.erase(key);
        journal_->dead.erase(key);
        break;
      case store_op::kind::put_event:
        journal_->pending[key][op.event.seq] = op.event;
        break;
      case store_op::kind::erase_event:
        if (auto i = journal_->pending.find(key); i != journal_->pending.end())
          i->second.erase(op.event.seq);
        break;
      case store_op::kind::put_dead_letter:
        journal_->dead[key][op.letter.event.seq] = op.letter;
        break;
      case store_op::kind::erase_dead_letter:
        if (auto i = journal_->dead.find(key); i != journal_->dead.end())
          i->second.erase(op.letter.event.seq);
        break;
      case store_op::kind::put_delivery:
        break; // recorded in `commits`, which the tests read
    }
  }
  journal_->commits.push_back(ops);
  if (journal_->clock)
    journal_->commit_times.push_back(journal_->clock());
  return std::nullopt;
}

commit_result fake_store::commit_fenced(const std::vector<store_op>& ops) {
  commit_result result;
  std::vector<store_op> applied;
  for (const auto& op : ops) {
    if (op.fence) {
      auto lease = journal_->leases.find(op.fence->shard);
      auto stale = lease == journal_->leases.end() || lease->second != op.fence->epoch
                   || op.fence->shard != shard_of(op.record.trigger);
      if (stale) {
        if (std::find(result.fenced.begin(), result.fenced.end(), op.record.trigger) == result.fenced.end())
          result.fenced.push_back(op.record.trigger);
        continue;
      }
    }
    applied.push_back(op);
  }
  result.error = commit(applied);
  if (result.error)
    result.fenced.clear();
  journal_->fenced.insert(journal_->fenced.end(), result.fenced.begin(), result.fenced.end());
  return result;
}

std::vector<registration_record> fake_store::load_shards(const std::vector<std::uint32_t>& shards) {
  journal_->shard_loads.push_back(shards);
  return store::load_shards(shards);
}

} // namespace feedrouter::test
