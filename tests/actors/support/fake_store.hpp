#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/time_format.hpp"
#include "core/trigger_ref.hpp"
#include "store/store.hpp"

namespace feedrouter::test {

/// What a fake_store did, shared with the test after the store itself moved into the store actor.
struct store_journal {
  /// The committed transactions, in order; a failed commit adds nothing.
  std::vector<std::vector<store_op>> commits;
  /// The simulated wall-clock time of each committed transaction (when `clock` is set), parallel to `commits`.
  std::vector<sys_ms> commit_times;
  /// Every call of commit(), failed ones included.
  std::size_t attempts = 0;
  /// While set, each commit fails with this text and applies nothing.
  std::optional<std::string> failure;
  /// While set, each read of pending events fails.
  bool pending_reads_fail = false;
  /// Reads of pending events made, failed ones included.
  std::size_t pending_reads = 0;
  /// What load_all() returns.
  std::vector<registration_record> stored;
  /// Tells the time of a commit; unset leaves commit_times empty.
  std::function<sys_ms()> clock;
  /// Shard -> epoch of the leases the instance holds, as commit_fenced() checks fencing tokens against them (a
  /// change with a token for another shard or epoch is left out); a change without a token is always applied.
  std::map<std::uint32_t, std::int64_t> leases;
  /// The triggers commit_fenced() left changes of out, in order.
  std::vector<trigger_ref> fenced;
  /// What load_shards(), load_registration(), load_owned() and count_registrations() were asked, in order, for tests
  /// of what a cluster reads.
  std::vector<std::vector<std::uint32_t>> shard_loads;

  // -- the stored events, as the committed operations left them ------------------

  /// Registration key -> seq -> pending event.
  std::map<std::string, std::map<std::uint64_t, stored_event>> pending;
  /// Registration key -> seq -> dead letter.
  std::map<std::string, std::map<std::uint64_t, dead_letter>> dead;

  /// Returns every committed operation in commit order.
  std::vector<store_op> ops() const;

  /// Returns the committed operations on `trigger` in commit order.
  std::vector<store_op> ops_for(const trigger_ref& trigger) const;

  /// Returns how many committed operations are of kind `kind`.
  std::size_t count(store_op::kind kind) const;

  /// Returns the seqs of the pending events of `trigger`, in seq order.
  std::vector<std::uint64_t> pending_seqs(const trigger_ref& trigger) const;

  /// Stores `events` as pending events of `record` (as a previous run left them) and sets record.pending to them as
  /// loading the registration reads them: their first seq and count.
  void leave_pending(registration_record& record, const std::vector<stored_event>& events);

  /// Returns the dead letters of `trigger`, in seq order.
  std::vector<dead_letter> dead_letters(const trigger_ref& trigger) const;
};

using store_journal_ptr = std::shared_ptr<store_journal>;

/// An in-memory store that records what it is asked to commit and applies the event and dead-letter operations to
/// the journal's model of the stored events. Registrations themselves are only recorded: put_event and
/// put_dead_letter are applied whether or not the registration was put before.
class fake_store : public store {
public:
  explicit fake_store(store_journal_ptr journal);

  // store
  std::vector<registration_record> load_all() override;
  std::vector<dead_letter> load_dead_letters(const trigger_ref& trigger, std::size_t limit) override;
  std::optional<pending_page> load_pending(const trigger_ref& trigger, std::uint64_t from_seq, std::size_t max_rows,
                                           std::size_t max_bytes) override;
  std::optional<std::string> commit(const std::vector<store_op>& ops) override;
  commit_result commit_fenced(const std::vector<store_op>& ops) override;
  std::vector<registration_record> load_shards(const std::vector<std::uint32_t>& shards) override;

private:
  store_journal_ptr journal_;
};

} // namespace feedrouter::test
