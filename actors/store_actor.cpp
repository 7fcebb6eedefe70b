#include "actors/store_actor.hpp"

#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "core/log.hpp"

namespace feedrouter {

namespace {

struct store_state {
  store_ptr db;
  std::vector<store_op> ops;
  std::vector<caf::typed_response_promise<commit_atom>> waiting;
  /// Registration key -> index in `ops` of its put_status still waiting, so a newer status replaces it in place.
  std::unordered_map<std::string, std::size_t> pending_status;
  bool flush_scheduled = false;
  store_watch watch;
  /// The store refuses writes for good, and that was reported.
  bool refusing = false;

  static inline const char* name = "store";
};

using store_pointer = store_actor::stateful_pointer<store_state>;

void schedule_flush(store_pointer self) {
  if (self->state.flush_scheduled)
    return;
  self->state.flush_scheduled = true;
  // The flush message queues behind every write already in the mailbox, so all of them share one transaction.
  self->send(self, commit_atom::value);
}

/// Asks the store whether it refuses writes for good and, the first time it does, reports it: one error line and the
/// health flag. Returns whether it refuses writes.
bool check_store(store_pointer self) {
  auto& st = self->state;
  if (st.refusing)
    return true;
  auto problem = st.db->check();
  if (!problem)
    return false;
  st.refusing = true;
  log(log_level::error, *problem, "; until then /ready answers 503 and changes are refused");
  if (st.watch.health)
    st.watch.health->mark_unwritable();
  return true;
}

void flush(store_pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.ops.empty() && st.waiting.empty())
    return;
  auto failure = timed_commit(st.watch.stats.get(), [&] { return st.db->commit(st.ops); });
  // Once the store refuses writes, the one line check_store() wrote says why; every later failure says the same.
  if (failure && !check_store(self))
    log(log_level::error, "store commit of ", st.ops.size(), " changes failed: ", *failure);
  for (auto& rp : st.waiting) {
    if (failure)
      rp.deliver(caf::make_error(caf::sec::runtime_error, "store commit failed: " + *failure));
    else
      rp.deliver(commit_atom::value);
  }
  st.ops.clear();
  st.waiting.clear();
  st.pending_status.clear();
}

caf::typed_response_promise<commit_atom> enqueue(store_pointer self, std::vector<store_op> ops) {
  auto& st = self->state;
  for (auto& op : ops) {
    // A status queued before this write must not be moved past it: later statuses start a new entry.
    st.pending_status.erase(op.record.trigger.key());
    st.ops.push_back(std::move(op));
  }
  auto rp = self->make_response_promise<commit_atom>();
  st.waiting.push_back(rp);
  schedule_flush(self);
  return rp;
}

void schedule_watch(store_pointer self) {
  auto interval = self->state.watch.interval;
  if (interval.count() > 0)
    self->delayed_send(self, interval, watch_atom::value);
}

store_actor::behavior_type store_impl(store_pointer self, std::shared_ptr<store_ptr> db, store_watch watch) {
  self->state.db = std::move(*db);
  self->state.watch = std::move(watch);
  schedule_watch(self);
  return {
    [self](put_atom, registration_record& record) {
      store_op op;
      op.record = std::move(record);
      return enqueue(self, {std::move(op)});
    },
    [self](erase_atom, trigger_ref& trigger) {
      store_op op;
      op.op = store_op::kind::erase;
      op.record.trigger = std::move(trigger);
      return enqueue(self, {std::move(op)});
    },
    [self](status_atom, trigger_ref& trigger, registration_status& status) {
      auto& st = self->state;
      auto key = trigger.key();
      if (auto i = st.pending_status.find(key); i != st.pending_status.end()) {
        st.ops[i->second].record.status = std::move(status);
        return;
      }
      store_op op;
      op.op = store_op::kind::put_status;
      op.record.trigger = std::move(trigger);
      op.record.status = std::move(status);
      st.pending_status.emplace(std::move(key), st.ops.size());
      st.ops.push_back(std::move(op));
      schedule_flush(self);
    },
    [self](write_atom, std::vector<store_op>& ops) { return enqueue(self, std::move(ops)); },
    [self](load_atom, const trigger_ref& trigger, std::size_t limit) {
      // Reads see every write received before them.
      flush(self);
      auto letters = self->state.db->load_dead_letters(trigger, limit);
      check_store(self);
      return letters;
    },
    [self](pending_atom, const trigger_ref& trigger, std::uint64_t from_seq, std::size_t max_rows,
           std::size_t max_bytes) -> caf::result<pending_page> {
      // Reads see every write received before them.
      flush(self);
      auto page = self->state.db->load_pending(trigger, from_seq, max_rows, max_bytes);
      check_store(self);
      if (!page)
        return caf::make_error(caf::sec::runtime_error, std::string{"cannot read the pending events"});
      return std::move(*page);
    },
    [self](flush_atom) {
      auto rp = self->make_response_promise<commit_atom>();
      self->state.waiting.push_back(rp);
      schedule_flush(self);
      return rp;
    },
    [self](commit_atom) { flush(self); },
    [self](watch_atom) {
      if (!check_store(self))
        schedule_watch(self);
    },
  };
}

} // namespace

store_actor spawn_store_actor(caf::actor_system& sys, store_ptr db, store_thread where, store_watch watch) {
  // The behavior function's arguments must be copyable: hand the unique_ptr over through a shared_ptr.
  auto holder = std::make_shared<store_ptr>(std::move(db));
  if (where == store_thread::dedicated)
    return sys.spawn<caf::detached>(store_impl, std::move(holder), std::move(watch));
  return sys.spawn(store_impl, std::move(holder), std::move(watch));
}

} // namespace feedrouter
