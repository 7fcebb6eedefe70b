#include "actors/sources/kafka_position.hpp"

#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/sources/kafka_messages.hpp"
#include "core/kafka_checkpoint.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

using preparer_private = source_preparer_actor::extend<caf::reacts_to<done_atom, kafka_topic_state>>;

struct preparer_state {
  caf::typed_response_promise<prepared_source> answer;
  static inline const char* name = "kafka_preparer";
};

prepared_source prepared_from(const kafka_spec& spec, kafka_topic_state& state) {
  prepared_source prepared;
  if (!state.ok()) {
    log(log_level::debug, "asking ", kafka_source(spec), " for its partitions failed: ", state.error, " (",
        state.detail, ")");
    prepared.error = field_error{std::move(state.field), "cannot read the topic: " + state.error};
    return prepared;
  }
  kafka_offsets offsets;
  for (const auto& partition : state.partitions)
    offsets[partition.id] = spec.since == "earliest" ? partition.low : partition.high;
  prepared.checkpoint = to_kafka_checkpoint(spec, offsets);
  return prepared;
}

preparer_private::behavior_type preparer_impl(preparer_private::stateful_pointer<preparer_state> self,
                                              kafka_connector_ptr connector, kafka_spec spec,
                                              std::chrono::milliseconds timeout) {
  return {
    [=](prepare_atom) -> caf::typed_response_promise<prepared_source> {
      auto& st = self->state;
      st.answer = self->make_response_promise<prepared_source>();
      if (!connector->has_room()) {
        prepared_source full;
        full.unavailable = "this provider runs " + std::to_string(connector->max_consumers())
                           + " kafka feeds at most; try again later";
        st.answer.deliver(std::move(full));
        self->quit();
        return st.answer;
      }
      // The answer comes on a thread of the client: it only becomes a message.
      connector->probe(spec, timeout, [handle = preparer_private{self}](kafka_topic_state state) {
        caf::anon_send(handle, done_atom::value, std::move(state));
      });
      return st.answer;
    },
    [=](done_atom, kafka_topic_state& state) {
      self->state.answer.deliver(prepared_from(spec, state));
      self->quit();
    },
  };
}

} // namespace

source_preparer_actor spawn_kafka_preparer(caf::actor_system& sys, kafka_connector_ptr connector, kafka_spec spec,
                                           std::chrono::milliseconds timeout) {
  return sys.spawn(preparer_impl, std::move(connector), std::move(spec), timeout);
}

} // namespace feedrouter
