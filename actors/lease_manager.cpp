#include "actors/lease_manager.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/child_error.hpp"
#include "core/fire_rate_shares.hpp"
#include "core/lease_keeper.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

/// How long after another instance's lease runs out (as the server counted it at the last look) the next look runs:
/// past the server's own expiry, so that the acquisition finds the lease expired.
constexpr milliseconds expiry_margin{50};

/// How long the listener waits for a notification before it simply waits again.
constexpr milliseconds listen_wait{60'000};

/// How long the listener waits before it opens a lost session again, doubled up to max_listen_backoff.
constexpr milliseconds min_listen_backoff{250};
constexpr milliseconds max_listen_backoff{5'000};

/// The lease manager with its timers and its listener's news, which are no part of its public protocol.
using lease_manager_private = lease_manager_actor::extend<
  /// The renewal interval's timer (the round it was armed by).
  caf::reacts_to<tick_atom, std::uint64_t>,
  /// The earliest lease deadline fell due.
  caf::reacts_to<expire_atom>>;

/// Waits for the lease store's notifications on a thread of its own and tells the lease manager of each.
class notification_thread {
public:
  notification_thread(lease_listener_ptr listener, lease_manager_private target)
    : listener_(std::move(listener)), target_(std::move(target)), thread_([this] { run(); }) {
    // nop
  }

  ~notification_thread() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stop_ = true;
    }
    cv_.notify_all();
    listener_->interrupt();
    thread_.join();
  }

  notification_thread(const notification_thread&) = delete;
  notification_thread& operator=(const notification_thread&) = delete;

private:
  bool stopping() {
    std::lock_guard<std::mutex> guard{mutex_};
    return stop_;
  }

  void run() {
    auto backoff = min_listen_backoff;
    while (!stopping()) {
      switch (listener_->wait(listen_wait)) {
        case lease_listener::wake::notified:
          backoff = min_listen_backoff;
          caf::anon_send(target_, notified_atom::value);
          break;
        case lease_listener::wake::timeout:
        case lease_listener::wake::interrupted:
          break;
        case lease_listener::wake::failed: {
          // The heartbeat still balances without notifications, only later; the lease manager reports the store.
          log(log_level::debug, "cluster: the notification session failed: ", listener_->last_error());
          std::unique_lock<std::mutex> lock{mutex_};
          cv_.wait_for(lock, backoff, [this] { return stop_; });
          backoff = std::min(backoff * 2, max_listen_backoff);
          break;
        }
      }
    }
  }

  lease_listener_ptr listener_;
  lease_manager_private target_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_; ///< last: it starts running in the constructor
};

struct lease_manager_state {
  lease_store_ptr store;
  /// Decides; this actor carries the decisions out.
  std::optional<lease_keeper> keeper;
  shard_runner_actor runner;
  std::shared_ptr<fire_fence> fence;
  std::shared_ptr<cluster_view> view;
  std::shared_ptr<cluster_metrics> stats;
  std::shared_ptr<rate_limiter> namespace_limiter;
  std::unique_ptr<notification_thread> listener;
  /// The round that armed the pending tick; a round run early (a notification) arms a new one.
  std::uint64_t round = 0;
  bool announced = false;
  /// The last round reached the store; a change is logged once.
  bool reachable = true;
  std::optional<caf::typed_response_promise<std::size_t>> leave_promise;
  /// Leases released since leaving began.
  std::size_t left = 0;
  /// Left the cluster: its row is gone from the instances table, and no later round may put it back (a heartbeat
  /// would make the others count this instance as live, and hold back their shares, for a whole TTL).
  bool departed = false;

  static inline const char* name = "lease_manager";
};

using manager_pointer = lease_manager_private::stateful_pointer<lease_manager_state>;

/// Notes whether the store was reached; logs a change once.
void note_reachable(manager_pointer self, bool reached, const std::string& error) {
  auto& st = self->state;
  st.view->set_leases_reachable(reached);
  if (reached == st.reachable)
    return;
  st.reachable = reached;
  if (reached)
    log(log_level::info, "cluster: the store is reachable again for leases");
  else
    log(log_level::warn, "cluster: cannot reach the store for leases (", error,
        "); /ready answers 503 and each shard stops at its lease's deadline unless renewed before");
}

/// Arms the timer of the earliest deadline.
void arm_expiry(manager_pointer self) {
  if (auto deadline = self->state.keeper->next_deadline()) {
    auto due_in = std::chrono::duration_cast<milliseconds>(*deadline - self->clock().now());
    self->delayed_send(self, std::max(milliseconds{0}, due_in), expire_atom::value);
  }
}

void publish_held(manager_pointer self) {
  self->state.stats->set_shards_held(static_cast<std::int64_t>(self->state.keeper->held()));
}

/// Opens the fire fence of each of `leases` until its deadline.
void open_fences(manager_pointer self, const std::vector<usable_lease>& leases) {
  for (const auto& usable : leases)
    self->state.fence->open_until(usable.lease.shard, usable.deadline);
}

/// Stops the shards of `leases` at once: their fire fence first, then their registrations.
void lose(manager_pointer self, const std::vector<shard_lease_ref>& leases, const char* why) {
  if (leases.empty())
    return;
  auto& st = self->state;
  for (const auto& lease : leases)
    st.fence->close(lease.shard);
  st.stats->record_losses(leases.size());
  self->send(st.runner, lost_atom::value, leases);
  publish_held(self);
  log(log_level::warn, "cluster: lost the leases of ", leases.size(), " shard(s) (", why,
      "); their registrations stop here");
}

void expire(manager_pointer self) {
  lose(self, self->state.keeper->expire(), "not renewed before their deadline");
}

/// Tells the store that `leases`, whose shards do not run here, are free.
void release_now(manager_pointer self, const std::vector<shard_lease_ref>& leases) {
  if (leases.empty())
    return;
  if (auto err = self->state.store->release(leases))
    log(log_level::warn, "cluster: cannot release ", leases.size(), " lease(s); they expire by themselves: ", *err);
}

void finish_leave(manager_pointer self) {
  auto& st = self->state;
  if (!st.leave_promise || !st.keeper->left())
    return;
  if (auto err = st.store->leave())
    log(log_level::warn, "cluster: cannot remove this instance from the instances table: ", *err);
  st.departed = true;
  st.leave_promise->deliver(st.left);
  st.leave_promise.reset();
}

/// The shard runner stopped the shards of `leases` and flushed their writes: they are released now.
void finish_release(manager_pointer self, const std::vector<shard_lease_ref>& leases) {
  auto& st = self->state;
  auto released = st.keeper->finish_release(leases);
  for (const auto& lease : released)
    st.fence->close(lease.shard);
  release_now(self, released);
  st.left += released.size();
  publish_held(self);
  if (!released.empty() && !st.keeper->leaving())
    log(log_level::info, "cluster: gave ", released.size(), " shard(s) away to balance; ", st.keeper->holding(),
        " held");
  finish_leave(self);
}

/// Gives `leases` (marked as being released) away gracefully: stop, flush, then release.
void give_away(manager_pointer self, const std::vector<shard_lease_ref>& leases) {
  if (leases.empty())
    return;
  self->request(self->state.runner, caf::infinite, release_atom::value, leases)
    .then([self, leases](std::size_t) { finish_release(self, leases); },
          [self, leases](caf::error& err) {
            log(log_level::warn, "cluster: stopping shards to give away failed: ", describe_child_error(err));
            finish_release(self, leases);
          });
}

void acquire(manager_pointer self, std::size_t n) {
  auto& st = self->state;
  auto ticket = st.keeper->start_acquisition(n);
  auto taken = st.store->acquire(n);
  if (!taken) {
    log(log_level::warn, "cluster: cannot acquire shard leases: ", taken.error);
    return;
  }
  if (taken.value->empty())
    return;
  auto effects = st.keeper->finish_acquisition(ticket, *taken.value);
  open_fences(self, effects.gained);
  st.stats->record_takeovers(effects.takeovers);
  publish_held(self);
  std::vector<shard_lease_ref> leases;
  for (const auto& usable : effects.gained)
    leases.push_back(usable.lease);
  self->send(st.runner, gained_atom::value, leases);
  log(log_level::info, "cluster: acquired ", leases.size(), " shard(s)",
      effects.takeovers > 0
        ? " (" + std::to_string(effects.takeovers) + " taken over from instances that stopped renewing)"
        : "",
      "; ", st.keeper->holding(), " held");
}

/// Acquires up to the fair share, or gives away what is above it, on the picture of the leases just read; returns
/// when another instance's lease runs out before the next heartbeat, if one does.
std::optional<milliseconds> balance(manager_pointer self, const lease_picture& picture) {
  auto plan = self->state.keeper->balance(picture);
  release_now(self, plan.orphans);
  if (plan.acquire > 0)
    acquire(self, plan.acquire);
  give_away(self, plan.give_away);
  return plan.expiry_elsewhere;
}

/// Gives this instance the part of each namespace's fire rate that its part of the namespace's registrations is; keeps
/// the parts it had when the store cannot count them now.
void share_fire_rates(manager_pointer self) {
  auto& st = self->state;
  if (!st.namespace_limiter)
    return;
  auto splits = st.store->namespace_splits(st.keeper->leases());
  if (!splits) {
    log(log_level::debug, "cluster: cannot count the namespaces' registrations for their fire rates: ", splits.error);
    return;
  }
  st.namespace_limiter->set_shares(fire_rate_shares(*splits.value));
}

void publish_owners(manager_pointer self, const lease_picture& picture, mono_time read_at) {
  std::map<std::string, std::string> urls;
  for (const auto& instance : picture.instances)
    urls[instance.id] = instance.url;
  std::vector<cluster_view::holding> holdings;
  holdings.reserve(picture.shards.size());
  for (const auto& shard : picture.shards)
    holdings.push_back({shard.shard, {shard.owner, urls[shard.owner]}, shard.remaining});
  self->state.view->set_owners(holdings, read_at);
}

/// One round: heartbeat, renewal, a look at every lease, balance; then the next round a renewal interval later.
void run_round(manager_pointer self) {
  auto& st = self->state;
  // A notification or a tick still queued when this instance left, its own "left" among them.
  if (st.departed)
    return;
  auto started = self->clock().now();
  std::string error;
  if (auto err = st.store->heartbeat()) {
    error = *err;
  } else if (!st.announced && !st.keeper->leaving()) {
    st.announced = !st.store->announce();
  }
  auto ticket = st.keeper->start_renewal();
  auto renewal = st.store->renew(ticket.leases);
  if (renewal) {
    auto effects = st.keeper->finish_renewal(ticket, *renewal.value);
    st.stats->record_renewals(renewal.value->size());
    open_fences(self, effects.renewed);
    lose(self, effects.lost, "another instance holds them, or they expired");
    release_now(self, effects.orphaned);
  } else {
    error = renewal.error;
  }
  expire(self);
  auto read_at = self->clock().now();
  auto picture = st.store->picture();
  auto next_round = st.keeper->timing().renew_interval();
  if (picture) {
    publish_owners(self, *picture.value, read_at);
    if (auto expiry = balance(self, *picture.value))
      next_round = std::min(next_round, *expiry + expiry_margin);
    share_fire_rates(self);
  } else {
    error = picture.error;
  }
  note_reachable(self, error.empty(), error);
  publish_held(self);
  arm_expiry(self);
  auto elapsed = std::chrono::duration_cast<milliseconds>(self->clock().now() - started);
  self->delayed_send(self, std::max(milliseconds{0}, next_round - elapsed), tick_atom::value, ++st.round);
}

caf::result<std::size_t> leave(manager_pointer self) {
  auto& st = self->state;
  st.left = 0;
  auto rp = self->make_response_promise<std::size_t>();
  st.leave_promise = rp;
  give_away(self, st.keeper->leave());
  finish_leave(self);
  return rp;
}

caf::result<cluster_report> report(manager_pointer self) {
  auto& st = self->state;
  auto picture = st.store->picture();
  if (!picture)
    return caf::make_error(caf::sec::runtime_error, "cannot read the leases: " + picture.error);
  auto counts = st.store->registrations_by_owner();
  if (!counts)
    return caf::make_error(caf::sec::runtime_error, "cannot count the registrations: " + counts.error);
  cluster_report result;
  result.mode = "cluster";
  result.self_id = st.view->self_id();
  result.shard_count = shard_count;
  result.lease_ttl = st.keeper->timing().ttl;
  std::map<std::string, std::size_t> shards_of;
  for (const auto& shard : picture.value->shards) {
    if (shard.owner.empty() || shard.remaining.count() <= 0)
      ++result.unowned_shards;
    else
      ++shards_of[shard.owner];
  }
  for (const auto& instance : picture.value->instances) {
    cluster_member member;
    member.id = instance.id;
    member.url = instance.url;
    member.started = instance.started;
    member.heartbeat_age = instance.heartbeat_age;
    member.live = instance.heartbeat_age < st.keeper->timing().ttl;
    member.shards = shards_of[instance.id];
    member.registrations = (*counts.value)[instance.id];
    result.instances.push_back(std::move(member));
  }
  result.unowned_registrations = (*counts.value)[""];
  return result;
}

lease_manager_private::behavior_type lease_manager_impl(manager_pointer self,
                                                        std::shared_ptr<lease_manager_config> cfg) {
  auto& st = self->state;
  st.store = std::move(cfg->store);
  st.keeper.emplace(cfg->view->self_id(), cfg->timing, [self] { return self->clock().now(); });
  st.runner = cfg->runner;
  st.fence = cfg->fence;
  st.view = cfg->view;
  st.stats = cfg->stats;
  st.namespace_limiter = cfg->namespace_limiter;
  if (cfg->listener)
    st.listener = std::make_unique<notification_thread>(std::move(cfg->listener), self);
  // The first round runs once the actor is up, not in its constructor.
  self->send(self, tick_atom::value, st.round);
  return {
    [self](leave_atom) { return leave(self); },
    [self](cluster_atom) { return report(self); },
    [self](tick_atom, std::uint64_t round) {
      if (round == self->state.round)
        run_round(self);
    },
    [self](expire_atom) {
      expire(self);
      arm_expiry(self);
    },
    [self](notified_atom) { run_round(self); },
  };
}

} // namespace

lease_manager_actor spawn_lease_manager(caf::actor_system& sys, lease_manager_config cfg) {
  // The behavior function's arguments must be copyable: hand the unique_ptrs over through a shared_ptr.
  auto holder = std::make_shared<lease_manager_config>(std::move(cfg));
  return sys.spawn<caf::detached>(lease_manager_impl, std::move(holder));
}

} // namespace feedrouter
