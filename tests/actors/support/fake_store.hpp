#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/trigger_ref.hpp"
#include "store/store.hpp"

namespace feedrouter::test {

/// What a fake_store did, shared with the test after the store itself moved into the store actor.
struct store_journal {
  /// The committed transactions, in order; a failed commit adds nothing.
  std::vector<std::vector<store_op>> commits;
  /// Every call of commit(), failed ones included.
  std::size_t attempts = 0;
  /// While set, each commit fails with this text and applies nothing.
  std::optional<std::string> failure;
  /// What load_all() returns.
  std::vector<registration_record> stored;

  /// Returns every committed operation in commit order.
  std::vector<store_op> ops() const;

  /// Returns the committed operations on `trigger` in commit order.
  std::vector<store_op> ops_for(const trigger_ref& trigger) const;

  /// Returns how many committed operations are of kind `kind`.
  std::size_t count(store_op::kind kind) const;
};

using store_journal_ptr = std::shared_ptr<store_journal>;

/// An in-memory store that records what it is asked to commit.
class fake_store : public store {
public:
  explicit fake_store(store_journal_ptr journal);

  // store
  std::vector<registration_record> load_all() override;
  std::optional<std::string> commit(const std::vector<store_op>& ops) override;

private:
  store_journal_ptr journal_;
};

} // namespace feedrouter::test
