#include "actors/store_reader.hpp"

#include <algorithm>
#include <tuple>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/child_error.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/webhook_spec.hpp"

namespace feedrouter {

namespace {

/// Dead letters one GET shows at most, as the registry does.
constexpr std::size_t dead_letter_page = 1000;

struct store_reader_state {
  store_reader_config cfg;

  static inline const char* name = "store_reader";
};

using reader_pointer = store_reader_actor::stateful_pointer<store_reader_state>;
using result_promise = caf::typed_response_promise<api_result>;

api_result unavailable(const caf::error& err) {
  return failure(api_outcome::unavailable, "cannot read the store: " + describe_child_error(err));
}

api_result not_found(const trigger_ref& trigger) {
  return failure(api_outcome::not_found, "no registration for trigger " + trigger.qualified() + " with this authKey");
}

/// Returns the view of a stored registration: its hook URL from its parameters, no live facts.
registration_view view_of(reader_pointer self, const registration_record& record, bool stale) {
  live_status live;
  if (auto params = parse_json_object(record.params_json, "params")) {
    if (const auto* raw = find_member(*params, hook_id_param))
      if (auto hook_id = json_as_string(*raw))
        live.hook_url = self->state.cfg.public_url + "/v1/hooks/" + *hook_id;
  }
  auto view = make_view(record, std::move(live));
  view.stale = stale;
  return view;
}

/// Returns one page of `records`, as the registry's list pages: in name order, from after `after` on, at most
/// `limit`, with the cursor of the next page when more follow.
registration_page page_of(reader_pointer self, std::vector<registration_record>& records,
                          const std::optional<trigger_ref>& after, std::size_t limit) {
  auto by_name = [](const registration_record& x, const registration_record& y) {
    return std::tie(x.trigger.ns, x.trigger.name) < std::tie(y.trigger.ns, y.trigger.name);
  };
  std::sort(records.begin(), records.end(), by_name);
  auto i = records.begin();
  // A cursor names the last registration shown; it need not exist any more.
  if (after) {
    auto is_after = [&](const registration_record& x) {
      return std::tie(x.trigger.ns, x.trigger.name) > std::tie(after->ns, after->name);
    };
    i = std::find_if(records.begin(), records.end(), is_after);
  }
  registration_page page;
  for (; i != records.end() && page.views.size() < limit; ++i)
    page.views.push_back(view_of(self, *i, false));
  if (i != records.end() && !page.views.empty())
    page.next = page.views.back().trigger;
  return page;
}

result_promise list(reader_pointer self, const api_command& cmd) {
  auto rp = self->make_response_promise<api_result>();
  auto& cfg = self->state.cfg;
  // "_" lists every namespace the key owns registrations in, as the registry does.
  auto ns = cmd.trigger.ns == "_" ? std::string{} : cmd.trigger.ns;
  self->request(cfg.store, cfg.request_timeout, owned_atom::value, cfg.hash_key(cmd.auth_key), ns)
    .then(
      [self, rp, after = cmd.after, limit = cmd.limit](std::vector<registration_record>& records) mutable {
        rp.deliver(success(api_outcome::ok, page_of(self, records, after, limit)));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable(err)); });
  return rp;
}

/// Reads the stored registration of `cmd` and, when the key owns it, answers what `then` makes of it.
template <class Then>
result_promise with_owned(reader_pointer self, const api_command& cmd, Then then) {
  auto rp = self->make_response_promise<api_result>();
  auto& cfg = self->state.cfg;
  self->request(cfg.store, cfg.request_timeout, lookup_atom::value, cmd.trigger)
    .then(
      [rp, trigger = cmd.trigger, hash = cfg.hash_key(cmd.auth_key),
       then = std::move(then)](std::optional<registration_record>& record) mutable {
        if (!record || !constant_time_equal(record->auth_hash, hash)) {
          rp.deliver(not_found(trigger));
          return;
        }
        then(rp, *record);
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable(err)); });
  return rp;
}

caf::result<api_result> answer(reader_pointer self, api_command& cmd) {
  switch (cmd.op) {
    case api_op::list:
      return list(self, cmd);
    case api_op::read:
      return with_owned(self, cmd, [self](result_promise& rp, const registration_record& record) {
        rp.deliver(success(api_outcome::ok, view_of(self, record, true)));
      });
    case api_op::dead_letters:
      return with_owned(self, cmd, [self](result_promise& rp, const registration_record& record) {
        self->request(self->state.cfg.store, self->state.cfg.request_timeout, load_atom::value, record.trigger,
                      dead_letter_page)
          .then([rp](std::vector<dead_letter>& letters) mutable {
                  rp.deliver(success(api_outcome::ok, std::move(letters)));
                },
                [rp](caf::error& err) mutable { rp.deliver(unavailable(err)); });
      });
    default:
      return failure(api_outcome::unavailable, "only reads are answered from the store");
  }
}

// -- an operator's reads ----------------------------------------------------------------

/// An operator's list: a page of every key's registrations, one more asked for than shown to learn whether more follow.
result_promise admin_list(reader_pointer self, const admin_command& cmd) {
  auto rp = self->make_response_promise<api_result>();
  auto& cfg = self->state.cfg;
  self->request(cfg.store, cfg.request_timeout, page_atom::value, cmd.ns, cmd.after, cmd.limit + 1)
    .then(
      [self, rp, limit = cmd.limit](std::vector<registration_record>& records) mutable {
        registration_page page;
        for (std::size_t i = 0; i < records.size() && i < limit; ++i)
          page.views.push_back(view_of(self, records[i], false));
        if (records.size() > limit && !page.views.empty())
          page.next = page.views.back().trigger;
        rp.deliver(success(api_outcome::ok, std::move(page)));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable(err)); });
  return rp;
}

/// An operator's count of the namespaces: a page of them, one more asked for than shown.
result_promise admin_namespaces(reader_pointer self, const admin_command& cmd) {
  auto rp = self->make_response_promise<api_result>();
  auto& cfg = self->state.cfg;
  self->request(cfg.store, cfg.request_timeout, tally_atom::value, cmd.after_ns.value_or(""), cmd.limit + 1)
    .then(
      [rp, limit = cmd.limit](std::vector<namespace_count>& counts) mutable {
        namespace_page page;
        auto more = counts.size() > limit;
        counts.resize(std::min(counts.size(), limit));
        page.namespaces = std::move(counts);
        if (more && !page.namespaces.empty())
          page.next = page.namespaces.back().ns;
        rp.deliver(success(api_outcome::ok, std::move(page)));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable(err)); });
  return rp;
}

/// An operator's READ of a registration whose shard has no valid owner: its stored view, whoever owns it.
result_promise admin_read(reader_pointer self, const admin_command& cmd) {
  auto rp = self->make_response_promise<api_result>();
  auto& cfg = self->state.cfg;
  self->request(cfg.store, cfg.request_timeout, lookup_atom::value, cmd.trigger)
    .then(
      [self, rp, trigger = cmd.trigger](std::optional<registration_record>& record) mutable {
        if (!record) {
          rp.deliver(failure(api_outcome::not_found, "no registration for trigger " + trigger.qualified(), "trigger"));
          return;
        }
        rp.deliver(success(api_outcome::ok, view_of(self, *record, true)));
      },
      [rp](caf::error& err) mutable { rp.deliver(unavailable(err)); });
  return rp;
}

caf::result<api_result> answer_admin(reader_pointer self, admin_command& cmd) {
  switch (cmd.op) {
    case admin_op::list:
      return admin_list(self, cmd);
    case admin_op::namespaces:
      return admin_namespaces(self, cmd);
    case admin_op::read:
      return admin_read(self, cmd);
    default:
      return failure(api_outcome::unavailable, "only reads are answered from the store");
  }
}

caf::result<std::vector<trigger_ref>> resolve(reader_pointer self, const std::string& auth_key,
                                              const std::string& name) {
  auto rp = self->make_response_promise<std::vector<trigger_ref>>();
  auto& cfg = self->state.cfg;
  self->request(cfg.store, cfg.request_timeout, owned_atom::value, cfg.hash_key(auth_key), std::string{})
    .then(
      [rp, name](std::vector<registration_record>& records) mutable {
        std::vector<trigger_ref> found;
        for (const auto& record : records)
          if (record.trigger.name == name)
            found.push_back(record.trigger);
        rp.deliver(std::move(found));
      },
      [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

store_reader_actor::behavior_type store_reader_impl(reader_pointer self, store_reader_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](api_command& cmd) { return answer(self, cmd); },
    [self](admin_command& cmd) { return answer_admin(self, cmd); },
    [self](lookup_atom, const std::string& auth_key, const std::string& name) {
      return resolve(self, auth_key, name);
    },
  };
}

} // namespace

store_reader_actor spawn_store_reader(caf::actor_system& sys, store_reader_config cfg) {
  return sys.spawn(store_reader_impl, std::move(cfg));
}

} // namespace feedrouter
