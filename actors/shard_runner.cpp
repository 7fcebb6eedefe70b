#include "actors/shard_runner.hpp"

#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/child_error.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"

namespace feedrouter {

namespace {

struct shard_runner_state {
  shard_runner_config cfg;
  /// Shard -> epoch of the leases whose registrations are being loaded or started.
  std::map<std::uint32_t, std::int64_t> starting;
  /// Shard -> epoch of the leases whose registrations run.
  std::map<std::uint32_t, std::int64_t> running;

  static inline const char* name = "shard_runner";
};

using runner_pointer = shard_runner_actor::stateful_pointer<shard_runner_state>;

void publish(runner_pointer self) {
  std::vector<std::uint32_t> shards;
  for (const auto& [shard, epoch] : self->state.starting)
    shards.push_back(shard);
  self->state.cfg.view->set_shards_starting(shards);
}

/// Returns whether `lease` is still the one its shard is being started under: it was not lost, released or acquired
/// again meanwhile.
bool still_starting(runner_pointer self, const shard_lease_ref& lease) {
  auto i = self->state.starting.find(lease.shard);
  return i != self->state.starting.end() && i->second == lease.epoch;
}

std::vector<shard_lease_ref> still_starting(runner_pointer self, const std::vector<shard_lease_ref>& leases) {
  std::vector<shard_lease_ref> result;
  for (const auto& lease : leases)
    if (still_starting(self, lease))
      result.push_back(lease);
  return result;
}

/// Forgets `leases` wherever they are (starting or running) and returns their shards.
std::vector<std::uint32_t> forget(runner_pointer self, const std::vector<shard_lease_ref>& leases) {
  auto& st = self->state;
  std::vector<std::uint32_t> shards;
  for (const auto& lease : leases) {
    for (auto* table : {&st.starting, &st.running}) {
      auto i = table->find(lease.shard);
      if (i != table->end() && i->second == lease.epoch)
        table->erase(i);
    }
    shards.push_back(lease.shard);
  }
  publish(self);
  return shards;
}

void start(runner_pointer self, std::vector<shard_lease_ref> leases, std::vector<registration_record> records) {
  auto& st = self->state;
  auto count = records.size();
  self->request(st.cfg.registry, caf::infinite, start_shards_atom::value, shard_start{leases, std::move(records)})
    .then(
      [self, leases, count](std::size_t started) {
        auto& st = self->state;
        std::size_t shards = 0;
        for (const auto& lease : leases) {
          if (!still_starting(self, lease))
            continue;
          st.starting.erase(lease.shard);
          st.running[lease.shard] = lease.epoch;
          ++shards;
        }
        publish(self);
        log(log_level::info, "cluster: running ", shards, " more shard(s) with ", started, " of ", count,
            " registration(s) loaded; ", st.running.size(), " shard(s) run here");
      },
      [](caf::error& err) {
        log(log_level::error, "cluster: the registry did not start shards: ", describe_child_error(err));
      });
}

void load(runner_pointer self, std::vector<shard_lease_ref> leases) {
  auto& st = self->state;
  std::vector<std::uint32_t> shards;
  for (const auto& lease : leases)
    shards.push_back(lease.shard);
  self->request(st.cfg.store, st.cfg.request_timeout, load_shards_atom::value, std::move(shards))
    .then(
      [self, leases](std::vector<registration_record>& records) {
        auto valid = still_starting(self, leases);
        if (!valid.empty())
          start(self, std::move(valid), std::move(records));
      },
      [self, leases](caf::error& err) {
        auto valid = still_starting(self, leases);
        if (valid.empty())
          return;
        log(log_level::warn, "cluster: cannot load ", valid.size(), " shard(s) acquired, trying again: ",
            describe_child_error(err));
        self->delayed_send(self, self->state.cfg.retry_delay, gained_atom::value, std::move(valid));
      });
}

shard_runner_actor::behavior_type shard_runner_impl(runner_pointer self, shard_runner_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](gained_atom, std::vector<shard_lease_ref>& leases) {
      for (const auto& lease : leases)
        self->state.starting[lease.shard] = lease.epoch;
      publish(self);
      load(self, std::move(leases));
    },
    [self](lost_atom, const std::vector<shard_lease_ref>& leases) {
      auto shards = forget(self, leases);
      self->request(self->state.cfg.registry, caf::infinite, stop_shards_atom::value, std::move(shards))
        .then(
          [count = leases.size()](std::size_t stopped) {
            log(log_level::warn, "cluster: stopped ", stopped, " registration(s) of ", count,
                " shard(s) whose lease was lost");
          },
          [](caf::error&) {});
    },
    [self](release_atom, const std::vector<shard_lease_ref>& leases) -> caf::result<std::size_t> {
      auto shards = forget(self, leases);
      auto rp = self->make_response_promise<std::size_t>();
      auto& st = self->state;
      self->request(st.cfg.registry, caf::infinite, stop_shards_atom::value, std::move(shards))
        .then(
          [self, rp](std::size_t stopped) mutable {
            // The triggers are gone: what they sent the store is queued there, ahead of this flush.
            self->request(self->state.cfg.store, self->state.cfg.request_timeout, flush_atom::value)
              .then([rp, stopped](commit_atom) mutable { rp.deliver(stopped); },
                    [rp](caf::error& err) mutable { rp.deliver(err); });
          },
          [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
  };
}

} // namespace

shard_runner_actor spawn_shard_runner(caf::actor_system& sys, shard_runner_config cfg) {
  return sys.spawn(shard_runner_impl, std::move(cfg));
}

} // namespace feedrouter
