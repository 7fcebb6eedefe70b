#include "fake_store.hpp"

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

fake_store::fake_store(store_journal_ptr journal) : journal_(std::move(journal)) {
  // nop
}

std::vector<registration_record> fake_store::load_all() {
  return journal_->stored;
}

std::optional<std::string> fake_store::commit(const std::vector<store_op>& ops) {
  ++journal_->attempts;
  if (journal_->failure)
    return journal_->failure;
  journal_->commits.push_back(ops);
  return std::nullopt;
}

} // namespace feedrouter::test
