#include "actors/cluster_info.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/child_error.hpp"
#include "core/shard.hpp"

namespace feedrouter {

namespace {

struct cluster_info_state {
  cluster_info_config cfg;

  static inline const char* name = "cluster_info";
};

using info_pointer = cluster_info_actor::stateful_pointer<cluster_info_state>;
using result_promise = caf::typed_response_promise<api_result>;

/// One instance holds every shard forever.
cluster_report single_instance(const cluster_info_config& cfg) {
  cluster_report report;
  report.mode = "single";
  report.self_id = cfg.self_id;
  report.shard_count = shard_count;
  cluster_member self;
  self.id = cfg.self_id;
  self.url = cfg.url;
  self.started = cfg.started;
  self.live = true;
  self.shards = shard_count;
  self.registrations = static_cast<std::size_t>(cfg.stats->registrations());
  report.instances.push_back(std::move(self));
  return report;
}

/// Answers the report, with the instances' URLs when `for_operator`.
void answer_report(info_pointer self, result_promise rp, bool for_operator) {
  auto& cfg = self->state.cfg;
  if (!cfg.leases) {
    auto report = single_instance(cfg);
    report.for_operator = for_operator;
    rp.deliver(success(api_outcome::ok, std::move(report)));
    return;
  }
  self->request(*cfg.leases, cfg.request_timeout, cluster_atom::value)
    .then([rp, for_operator](cluster_report& report) mutable {
            report.for_operator = for_operator;
            rp.deliver(success(api_outcome::ok, std::move(report)));
          },
          [rp](caf::error& err) mutable {
            rp.deliver(failure(api_outcome::unavailable, "cannot read the cluster: " + describe_child_error(err)));
          });
}

result_promise report(info_pointer self, const std::string& auth_key) {
  auto rp = self->make_response_promise<api_result>();
  auto& cfg = self->state.cfg;
  if (!cfg.controller) {
    answer_report(self, rp, false);
    return rp;
  }
  self->request(*cfg.controller, cfg.request_timeout, namespaces_atom::value, auth_key)
    .then(
      [self, rp](http_outcome& outcome, std::string&) mutable {
        if (outcome.status_code == 0) {
          rp.deliver(failure(api_outcome::unavailable, "cannot verify the authKey: " + outcome.error));
          return;
        }
        if (outcome.status_code != 200) {
          rp.deliver(failure(api_outcome::unauthorized, "the controller does not accept this authKey",
                             "authorization"));
          return;
        }
        answer_report(self, rp, false);
      },
      [rp](caf::error& err) mutable {
        rp.deliver(failure(api_outcome::unavailable, "cannot verify the authKey: " + describe_child_error(err)));
      });
  return rp;
}

cluster_info_actor::behavior_type cluster_info_impl(info_pointer self, cluster_info_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](cluster_atom, const std::string& auth_key) { return report(self, auth_key); },
    [self](cluster_atom) {
      auto rp = self->make_response_promise<api_result>();
      answer_report(self, rp, true);
      return rp;
    },
  };
}

} // namespace

cluster_info_actor spawn_cluster_info(caf::actor_system& sys, cluster_info_config cfg) {
  return sys.spawn(cluster_info_impl, std::move(cfg));
}

} // namespace feedrouter
