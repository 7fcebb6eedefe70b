#include "store/store_migration.hpp"

#include <iterator>
#include <limits>
#include <vector>

namespace feedrouter {

namespace {

/// Rows one read of a registration's pending events takes at most while copying them.
constexpr std::size_t copy_rows = 256;

/// Returns every pending event of `trigger` in `source`, bodies included, read a page at a time. Throws
/// store_open_error when a read fails, so that a copy never passes for complete without them.
std::vector<stored_event> read_all_pending(store& source, const trigger_ref& trigger, const std::string& name) {
  std::vector<stored_event> result;
  std::uint64_t from = 0;
  for (;;) {
    auto page = source.load_pending(trigger, from, copy_rows, std::numeric_limits<std::size_t>::max());
    if (!page)
      throw store_open_error("migrate: cannot read the pending events of " + trigger.key() + " from store '"
                             + name + "'");
    if (page->events.empty())
      return result;
    from = page->events.back().seq + 1;
    std::move(page->events.begin(), page->events.end(), std::back_inserter(result));
  }
}

} // namespace

store_migration migrate_store(const std::string& from, const std::string& to, const store_options& opts) {
  if (store_display_name(from) == store_display_name(to))
    throw store_open_error("migrate: --from and --to name the same store '" + store_display_name(from) + "'");
  auto source_opts = opts;
  source_opts.key_file = secrets_key_file_of(from, opts);
  source_opts.create = false;
  auto source = open_store(from, source_opts);
  auto records = source->load_all();
  if (auto unreadable = source->unreadable_secrets(); unreadable > 0)
    throw store_open_error("migrate: the secrets of " + std::to_string(unreadable) + " registrations of store '"
                           + store_display_name(from) + "' do not open with key " + source->key()->id()
                           + " (altered or damaged rows): delete them there first, or restore the store");
  store_migration result;
  std::vector<store_op> ops;
  auto op_on = [](store_op::kind kind, const trigger_ref& trigger) {
    store_op op;
    op.op = kind;
    op.record.trigger = trigger;
    return op;
  };
  for (auto& rec : records) {
    auto trigger = rec.trigger;
    auto pending = read_all_pending(*source, trigger, store_display_name(from));
    auto deliveries = std::move(rec.deliveries);
    auto letters = source->load_dead_letters(trigger, std::numeric_limits<std::size_t>::max());
    result.pending_events += pending.size();
    result.dead_letters += letters.size();
    result.checkpoints += rec.status.checkpoint.empty() ? 0 : 1;
    ++result.registrations;
    // Replaced whole: the erase takes the target's events and dead letters of this registration with it, and events
    // and letters are stored only while their registration exists.
    ops.push_back(op_on(store_op::kind::erase, trigger));
    auto put = op_on(store_op::kind::put_registration, trigger);
    put.record = std::move(rec);
    ops.push_back(std::move(put));
    for (auto& event : pending) {
      auto op = op_on(store_op::kind::put_event, trigger);
      op.event = std::move(event);
      ops.push_back(std::move(op));
    }
    for (auto& letter : letters) {
      auto op = op_on(store_op::kind::put_dead_letter, trigger);
      op.letter = std::move(letter);
      ops.push_back(std::move(op));
    }
    for (auto& delivery : deliveries) {
      auto op = op_on(store_op::kind::put_delivery, trigger);
      op.delivery = std::move(delivery);
      ops.push_back(std::move(op));
    }
  }
  // A read that failed (logged by the store) must not pass for a registration without dead letters.
  if (auto problem = source->check())
    throw store_open_error("migrate: " + *problem);
  source.reset();
  auto target_opts = opts;
  target_opts.key_file = source_opts.key_file;
  target_opts.create = true;
  auto target = open_store(to, target_opts);
  if (auto err = target->commit(ops))
    throw store_open_error("migrate: copying into store '" + store_display_name(to) + "' failed, nothing was copied: "
                           + *err);
  return result;
}

} // namespace feedrouter
