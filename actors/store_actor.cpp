#include "actors/store_actor.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>
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

/// The category of store_errc errors.
constexpr caf::atom_value store_error_category = caf::atom("store");

/// A request waiting for the commit of its changes: ops[first, end) of the batch (none for a flush).
struct commit_waiter {
  caf::typed_response_promise<commit_atom> promise;
  std::size_t first = 0;
  std::size_t end = 0;
};

struct store_state {
  store_ptr db;
  std::vector<store_op> ops;
  std::vector<commit_waiter> waiting;
  /// Registration key -> index in `ops` of its put_status still waiting, so a newer status replaces it in place.
  std::unordered_map<std::string, std::size_t> pending_status;
  /// Registration key -> the fencing token of its changes in `ops`. A batch holds the changes of one registration
  /// under one token only, so that the store's report of a registration fenced names exactly those changes.
  std::unordered_map<std::string, std::optional<fencing_token>> fences;
  /// (Registration key, seq) -> index in `ops` of a put_event still waiting, so that its erase can cancel it.
  std::map<std::pair<std::string, std::uint64_t>, std::size_t> unwritten_events;
  /// Indexes in `ops` of put_events whose erase came before their commit: neither is written.
  std::vector<std::size_t> cancelled_puts;
  bool flush_scheduled = false;
  /// A commit after watch.event_delay is on its way for the lingering writes waiting.
  bool event_commit_armed = false;
  /// A commit after watch.status_delay is on its way for the status updates waiting.
  bool status_commit_armed = false;
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

/// Returns whether one of ops[first, end) is a change under a lease of a trigger in `fenced` (keys): one the store
/// left out.
bool touches(const std::vector<store_op>& ops, std::size_t first, std::size_t end,
             const std::unordered_set<std::string>& fenced) {
  for (auto i = first; i < end; ++i)
    if (ops[i].fence && fenced.count(ops[i].record.trigger.key()) > 0)
      return true;
  return false;
}

bool same_fence(const std::optional<fencing_token>& x, const std::optional<fencing_token>& y) {
  return x.has_value() == y.has_value() && (!x || (x->shard == y->shard && x->epoch == y->epoch));
}

void flush(store_pointer self);

/// Commits what is queued first when `op` would put a second fencing token of its registration into the batch (an old
/// trigger's late change beside a new one's, around a takeover); then notes its token.
void keep_fences_apart(store_pointer self, const store_op& op) {
  auto& fences = self->state.fences;
  auto key = op.record.trigger.key();
  auto known = fences.find(key);
  if (known != fences.end() && !same_fence(known->second, op.fence))
    flush(self);
  fences[std::move(key)] = op.fence;
}

/// Leaves out of the batch the put_events that an erase cancelled, moving the waiters' ranges with the ops they cover.
void drop_cancelled_puts(store_state& st) {
  if (st.cancelled_puts.empty())
    return;
  std::sort(st.cancelled_puts.begin(), st.cancelled_puts.end());
  // kept_before[i]: how many ops before i stay, i.e. where op i (or the first op after it that stays) moves to.
  std::vector<std::size_t> kept_before(st.ops.size() + 1);
  std::size_t kept = 0;
  auto cancelled = st.cancelled_puts.begin();
  for (std::size_t i = 0; i < st.ops.size(); ++i) {
    kept_before[i] = kept;
    if (cancelled != st.cancelled_puts.end() && *cancelled == i) {
      ++cancelled;
      continue;
    }
    if (kept != i)
      st.ops[kept] = std::move(st.ops[i]);
    ++kept;
  }
  kept_before[st.ops.size()] = kept;
  st.ops.resize(kept);
  for (auto& waiter : st.waiting) {
    waiter.first = kept_before[waiter.first];
    waiter.end = kept_before[waiter.end];
  }
}

void flush(store_pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  // A commit still armed finds what it was armed for committed; one armed from now on arms again.
  st.status_commit_armed = false;
  st.event_commit_armed = false;
  if (st.ops.empty() && st.waiting.empty())
    return;
  drop_cancelled_puts(st);
  // A store of one instance holds every lease: commit_fenced() is commit() there.
  commit_result result;
  auto failure = timed_commit(st.watch.stats.get(), [&] {
    result = st.db->commit_fenced(st.ops);
    return result.error;
  });
  // Once the store refuses writes, the one line check_store() wrote says why; every later failure says the same.
  if (failure && !check_store(self))
    log(log_level::error, "store commit of ", st.ops.size(), " changes failed: ", *failure);
  std::unordered_set<std::string> fenced;
  for (const auto& trigger : result.fenced)
    fenced.insert(trigger.key());
  if (!fenced.empty())
    log(log_level::info, "store: left out the changes of ", fenced.size(),
        " registration(s) whose shard lease moved to another instance (fenced)");
  for (auto& waiter : st.waiting) {
    if (failure)
      waiter.promise.deliver(caf::make_error(caf::sec::runtime_error, "store commit failed: " + *failure));
    else if (touches(st.ops, waiter.first, waiter.end, fenced))
      waiter.promise.deliver(make_error(store_errc::fenced, "the registration's shard runs on another instance now"));
    else
      waiter.promise.deliver(commit_atom::value);
  }
  st.ops.clear();
  st.waiting.clear();
  st.pending_status.clear();
  st.fences.clear();
  st.unwritten_events.clear();
  st.cancelled_puts.clear();
}

/// Returns whether `op` (a change of the registration `key`) erases an event whose put_event waits in this batch,
/// and then cancels that put: the event was done (fired) before it was written, so neither the row nor its deletion
/// reaches the store.
bool cancels_put(store_state& st, const std::string& key, const store_op& op) {
  if (op.op != store_op::kind::erase_event)
    return false;
  auto unwritten = st.unwritten_events.find({key, op.event.seq});
  if (unwritten == st.unwritten_events.end())
    return false;
  st.cancelled_puts.push_back(unwritten->second);
  st.unwritten_events.erase(unwritten);
  return true;
}

/// When a commit happens for a write.
enum class commit_timing {
  soon,   ///< once the mailbox holds no earlier write
  linger, ///< within watch.event_delay, or sooner with another write's commit
};

/// Arms the commit a lingering write may wait for, unless one comes sooner.
void schedule_lingering_flush(store_pointer self) {
  auto& st = self->state;
  if (st.watch.event_delay.count() == 0) {
    schedule_flush(self);
    return;
  }
  if (st.flush_scheduled || st.event_commit_armed)
    return;
  st.event_commit_armed = true;
  self->delayed_send(self, st.watch.event_delay, commit_atom::value);
}

caf::typed_response_promise<commit_atom> enqueue(store_pointer self, std::vector<store_op> ops,
                                                 commit_timing timing = commit_timing::soon) {
  auto& st = self->state;
  for (const auto& op : ops)
    keep_fences_apart(self, op);
  auto first = st.ops.size();
  for (auto& op : ops) {
    auto key = op.record.trigger.key();
    // A status queued before this write must not be moved past it: later statuses start a new entry.
    st.pending_status.erase(key);
    if (cancels_put(st, key, op))
      continue;
    if (op.op == store_op::kind::put_event)
      st.unwritten_events[{std::move(key), op.event.seq}] = st.ops.size();
    st.ops.push_back(std::move(op));
  }
  auto rp = self->make_response_promise<commit_atom>();
  st.waiting.push_back({rp, first, st.ops.size()});
  if (timing == commit_timing::linger)
    schedule_lingering_flush(self);
  else
    schedule_flush(self);
  return rp;
}

store_op put_op(registration_record record, std::optional<fencing_token> fence) {
  store_op op;
  op.record = std::move(record);
  op.fence = fence;
  return op;
}

store_op erase_op(trigger_ref trigger, std::optional<fencing_token> fence) {
  store_op op;
  op.op = store_op::kind::erase;
  op.record.trigger = std::move(trigger);
  op.fence = fence;
  return op;
}

/// Queues a status, replacing the one of the same registration still waiting (coalescing).
void put_status(store_pointer self, trigger_ref& trigger, registration_status& status,
                std::optional<fencing_token> fence) {
  auto& st = self->state;
  store_op op;
  op.op = store_op::kind::put_status;
  op.record.trigger = std::move(trigger);
  op.fence = fence;
  keep_fences_apart(self, op);
  auto key = op.record.trigger.key();
  if (auto i = st.pending_status.find(key); i != st.pending_status.end()) {
    st.ops[i->second].record.status = std::move(status);
    return;
  }
  op.record.status = std::move(status);
  st.pending_status.emplace(std::move(key), st.ops.size());
  st.ops.push_back(std::move(op));
  if (st.watch.status_delay.count() == 0) {
    schedule_flush(self);
  } else if (!st.flush_scheduled && !st.status_commit_armed) {
    // Statuses arrive one per fire (1667/s with 100 000 minute alarms): committed together, a few dozen in one
    // transaction, instead of a transaction and a wake-up of this thread each.
    st.status_commit_armed = true;
    self->delayed_send(self, st.watch.status_delay, commit_atom::value);
  }
}

/// Runs a read of the store after committing what is queued (reads see every write received before them); answers
/// its error when the store cannot be read.
template <class Read>
auto read_after_flush(store_pointer self, Read read) -> caf::result<decltype(read(*self->state.db))> {
  flush(self);
  try {
    return read(*self->state.db);
  } catch (const store_open_error& e) {
    check_store(self);
    return caf::make_error(caf::sec::runtime_error, std::string{e.what()});
  }
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
    [self](put_atom, registration_record& record) { return enqueue(self, {put_op(std::move(record), {})}); },
    [self](put_atom, registration_record& record, fencing_token fence) {
      return enqueue(self, {put_op(std::move(record), fence)});
    },
    [self](create_atom, registration_record& record) {
      auto erase = erase_op(record.trigger, {});
      return enqueue(self, {std::move(erase), put_op(std::move(record), {})});
    },
    [self](create_atom, registration_record& record, fencing_token fence) {
      auto erase = erase_op(record.trigger, fence);
      return enqueue(self, {std::move(erase), put_op(std::move(record), fence)});
    },
    [self](erase_atom, trigger_ref& trigger) { return enqueue(self, {erase_op(std::move(trigger), {})}); },
    [self](erase_atom, trigger_ref& trigger, fencing_token fence) {
      return enqueue(self, {erase_op(std::move(trigger), fence)});
    },
    [self](status_atom, trigger_ref& trigger, registration_status& status) {
      put_status(self, trigger, status, std::nullopt);
    },
    [self](status_atom, trigger_ref& trigger, registration_status& status, fencing_token fence) {
      put_status(self, trigger, status, fence);
    },
    [self](write_atom, std::vector<store_op>& ops) { return enqueue(self, std::move(ops)); },
    [self](write_atom, std::vector<store_op>& ops, linger_atom) {
      return enqueue(self, std::move(ops), commit_timing::linger);
    },
    [self](load_atom, const trigger_ref& trigger, std::size_t limit) {
      // Reads see every write received before them.
      flush(self);
      auto letters = self->state.db->load_dead_letters(trigger, limit);
      check_store(self);
      return letters;
    },
    [self](load_shards_atom, const std::vector<std::uint32_t>& shards) {
      return read_after_flush(self, [&](store& db) { return db.load_shards(shards); });
    },
    [self](lookup_atom, const trigger_ref& trigger) {
      return read_after_flush(self, [&](store& db) { return db.load_registration(trigger); });
    },
    [self](owned_atom, const std::string& auth_hash, const std::string& ns) {
      return read_after_flush(self, [&](store& db) { return db.load_owned(auth_hash, ns); });
    },
    [self](count_atom, const std::string& ns) {
      return read_after_flush(self, [&](store& db) { return db.count_registrations(ns); });
    },
    [self](page_atom, const std::string& ns, const std::optional<trigger_ref>& after, std::size_t limit) {
      return read_after_flush(self, [&](store& db) { return db.load_page(ns, after, limit); });
    },
    [self](tally_atom, const std::string& after, std::size_t limit) {
      return read_after_flush(self, [&](store& db) { return db.count_namespaces(after, limit); });
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
      auto end = self->state.ops.size();
      self->state.waiting.push_back({rp, end, end});
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

caf::error make_error(store_errc x, std::string message) {
  return caf::error{static_cast<std::uint8_t>(x), store_error_category, caf::make_message(std::move(message))};
}

bool is_fenced(const caf::error& err) {
  return err.category() == store_error_category && err.code() == static_cast<std::uint8_t>(store_errc::fenced);
}

store_actor spawn_store_actor(caf::actor_system& sys, store_ptr db, store_thread where, store_watch watch) {
  // The behavior function's arguments must be copyable: hand the unique_ptr over through a shared_ptr.
  auto holder = std::make_shared<store_ptr>(std::move(db));
  if (where == store_thread::dedicated)
    return sys.spawn<caf::detached>(store_impl, std::move(holder), std::move(watch));
  return sys.spawn(store_impl, std::move(holder), std::move(watch));
}

} // namespace feedrouter
