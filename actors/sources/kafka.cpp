#include "actors/sources/kafka.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/messages.hpp"
#include "actors/sources/kafka_messages.hpp"
#include "core/kafka_checkpoint.hpp"
#include "core/kafka_payload.hpp"
#include "core/log.hpp"
#include "core/reconnect_backoff.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

/// How often the topic's partitions are asked for while all is well: partitions added to the topic are read from
/// then on.
constexpr milliseconds partition_refresh{300'000};
/// How long the source may be without credit before its partitions are paused. Credit usually comes back within
/// one fire; pausing at once would drop and fetch again what librdkafka holds at every turn.
constexpr milliseconds pause_grace{100};
/// Messages taken from the client in one go; the source takes again while it has credit.
constexpr std::size_t take_limit = 1000;
/// How long the client's queue may stay empty while a partition holds more messages before the source has them
/// fetched: librdkafka 2.0 looks at a full queue again only a second later. A fetch answer under way normally comes
/// well within this.
constexpr milliseconds stall_grace{20};
/// How long reading where the partitions end may take, for a registration without a position.
constexpr milliseconds baseline_timeout{10'000};

enum class phase {
  opening,  ///< waiting for a consumer: the instance runs its bound of them, or one could not be made
  starting, ///< without a position from these brokers and topic: reading the baseline and having the parent store it
  reading,  ///< the partitions are read
  stopped,  ///< disabling was asked for: nothing more until the source is released
};

/// The source's own timers.
enum class kafka_timer : int {
  retry,    ///< open the consumer, or read the baseline, again
  pause,    ///< the grace without credit is over
  describe, ///< ask for the topic's partitions
  stall,    ///< the grace of an empty queue while a partition holds more is over
};

/// The kafka source with its timers, the client's wake-ups and its answers, which are no part of the source protocol.
using kafka_private = source_actor::extend<caf::reacts_to<tick_atom, int, std::uint64_t>,
                                           caf::reacts_to<wake_atom, std::uint64_t>,
                                           caf::reacts_to<done_atom, std::uint64_t, kafka_topic_state>>;

struct kafka_source_state {
  source_listener parent;
  kafka_spec spec;
  kafka_connector_ptr connector;
  kafka_consumer_ptr consumer;
  /// The next offset of each partition with a position; nullopt until a baseline is stored.
  std::optional<kafka_offsets> offsets;
  /// Partitions read from their first message that have no position yet (added to the topic after the checkpoint).
  std::set<std::int32_t> from_start;
  std::int64_t credit = 0;
  phase now = phase::opening;
  /// Tells the wake-ups, answers and timers of the current consumer from those of an earlier one.
  std::uint64_t attempt = 0;
  std::uint64_t pause_timer = 0;    ///< the armed pause timer; 0 when none
  std::uint64_t describe_timer = 0; ///< the armed describe timer; 0 when none
  std::uint64_t stall_timer = 0;    ///< the armed stall timer; 0 when none
  std::uint64_t next_timer = 0;
  bool paused = false;
  bool describing = false;
  reconnect_backoff backoff;
  bool failing = false; ///< the parent was told of a failure; the recovery is reported once

  static inline const char* name = "kafka_source";
};

using kafka_pointer = kafka_private::stateful_pointer<kafka_source_state>;

void open_consumer(kafka_pointer self);
void describe(kafka_pointer self);

/// Arms timer `which` for the current attempt; returns its id.
std::uint64_t arm(kafka_pointer self, kafka_timer which, milliseconds delay) {
  auto id = ++self->state.next_timer;
  self->delayed_send(self, delay, tick_atom::value, static_cast<int>(which), id);
  return id;
}

/// Tells the parent of a failure (once per failure, and again after each failed check) and checks again later.
void report_failure(kafka_pointer self, std::string error) {
  auto& st = self->state;
  st.failing = true;
  self->send(st.parent, source_status_atom::value, std::move(error));
}

void report_recovery(kafka_pointer self) {
  auto& st = self->state;
  st.backoff.reset();
  if (!st.failing)
    return;
  st.failing = false;
  self->send(st.parent, source_status_atom::value, std::string{});
}

void disable(kafka_pointer self, std::string message) {
  auto& st = self->state;
  st.consumer.reset();
  ++st.attempt;
  st.now = phase::stopped;
  self->send(st.parent, disable_atom::value, 0, std::move(message));
}

/// Checks the brokers again after `delay`, in place of a check armed before.
void describe_after(kafka_pointer self, milliseconds delay) {
  self->state.describe_timer = arm(self, kafka_timer::describe, delay);
}

/// Acts on what went wrong while reading; returns false once the source is disabled.
bool take_faults(kafka_pointer self, std::vector<kafka_fault>& faults) {
  auto& st = self->state;
  for (auto& fault : faults) {
    switch (fault.what) {
      case kafka_fault::kind::refused:
        disable(self, std::move(fault.text));
        return false;
      case kafka_fault::kind::offset_lost:
        // Not a failure that ends: the loss stays in the status until something else is reported.
        log(log_level::warn, "kafka feed of topic ", st.spec.topic, ": partition ", fault.partition,
            " no longer holds offset ", fault.offset, "; reading on from its oldest message");
        self->send(st.parent, source_status_atom::value,
                   "partition " + std::to_string(fault.partition) + ": the messages from offset "
                     + std::to_string(fault.offset)
                     + " up to the oldest one it still holds were deleted (the topic's retention) before they were "
                       "fired; reading on from there");
        st.consumer->restart_at_start(fault.partition);
        break;
      case kafka_fault::kind::transient:
        if (!st.failing) {
          report_failure(self, std::move(fault.text));
          // librdkafka reconnects by itself; the check says when the brokers answer again.
          if (!st.describing)
            describe_after(self, self->state.backoff.after_failure());
        }
        break;
    }
  }
  return true;
}

/// Hands `records` to the parent in order; the last carries the position after all of them.
void hand_over(kafka_pointer self, std::vector<kafka_record>& records) {
  auto& st = self->state;
  auto& offsets = *st.offsets;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& record = records[i];
    offsets[record.partition] = record.offset + 1;
    st.from_start.erase(record.partition);
    auto checkpoint = i + 1 == records.size() ? to_kafka_checkpoint(st.spec, offsets) : std::string{};
    self->send(st.parent, event_atom::value, kafka_message_body(st.spec, record), std::move(checkpoint));
  }
  st.credit -= static_cast<std::int64_t>(records.size());
}

/// Takes what waits as credit allows (the faults in any case), then pauses the partitions once credit stays out.
void drain(kafka_pointer self) {
  auto& st = self->state;
  if (st.now != phase::reading || !st.consumer)
    return;
  for (;;) {
    auto max = static_cast<std::size_t>(std::min<std::int64_t>(st.credit, take_limit));
    auto taken = st.consumer->take(max);
    if (!take_faults(self, taken.faults))
      return;
    if (!taken.records.empty()) {
      report_recovery(self);
      hand_over(self, taken.records);
    }
    if (max == 0 || taken.records.size() < max)
      break;
  }
  if (st.credit == 0 && !st.paused && st.pause_timer == 0)
    st.pause_timer = arm(self, kafka_timer::pause, pause_grace);
  if (st.credit > 0 && st.stall_timer == 0 && st.consumer->lagging())
    st.stall_timer = arm(self, kafka_timer::stall, stall_grace);
}

/// Reads every partition with a position from it, and asks for the topic's partitions to learn of new ones.
void begin_reading(kafka_pointer self) {
  auto& st = self->state;
  st.now = phase::reading;
  for (const auto& [partition, offset] : *st.offsets)
    st.consumer->read(partition, offset);
  describe(self);
  drain(self);
}

/// Returns the baseline of a registration without a position: where each partition ends (since now) or starts.
kafka_offsets baseline_of(const kafka_spec& spec, const std::vector<kafka_partition>& partitions) {
  kafka_offsets offsets;
  for (const auto& partition : partitions)
    offsets[partition.id] = spec.since == "earliest" ? partition.low : partition.high;
  return offsets;
}

void store_baseline(kafka_pointer self, kafka_offsets baseline) {
  auto& st = self->state;
  auto attempt = st.attempt;
  // No time-out: the parent always answers once its store has.
  self->request(st.parent, caf::infinite, items_atom::value, std::vector<std::string>{},
                to_kafka_checkpoint(st.spec, baseline))
    .then(
      [self, attempt, baseline](commit_atom) {
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        st.offsets = baseline;
        begin_reading(self);
      },
      [self, attempt](caf::error&) {
        // Not active or busy: nothing was stored; read the baseline again later without calling it a failure.
        if (attempt == self->state.attempt)
          arm(self, kafka_timer::retry, reconnect_backoff::first_delay);
      });
}

void on_described(kafka_pointer self, std::uint64_t attempt, kafka_topic_state& state) {
  auto& st = self->state;
  if (attempt != st.attempt || (st.now != phase::starting && st.now != phase::reading))
    return;
  st.describing = false;
  if (!state.ok())
    log(log_level::debug, "kafka feed of topic ", st.spec.topic, ": asking for its partitions failed: ",
        state.error, " (", state.detail, ")");
  if (state.what == kafka_topic_state::kind::refused)
    return disable(self, std::move(state.error));
  if (state.what == kafka_topic_state::kind::unreachable) {
    report_failure(self, std::move(state.error));
    if (st.now == phase::starting)
      arm(self, kafka_timer::retry, self->state.backoff.after_failure());
    else
      describe_after(self, self->state.backoff.after_failure());
    return;
  }
  report_recovery(self);
  if (st.now == phase::starting)
    return store_baseline(self, baseline_of(st.spec, state.partitions));
  for (const auto& partition : state.partitions) {
    if (st.offsets->count(partition.id) > 0 || !st.from_start.insert(partition.id).second)
      continue;
    log(log_level::info, "kafka feed of topic ", st.spec.topic, ": reading partition ", partition.id,
        " from its start");
    st.consumer->read(partition.id, kafka_start_of_partition);
  }
  describe_after(self, partition_refresh);
}

/// Asks for the topic's partitions, and while starting for where each ends (or starts); the answer comes as a
/// message.
void describe(kafka_pointer self) {
  auto& st = self->state;
  st.describing = true;
  st.describe_timer = 0;
  auto handle = caf::actor_cast<kafka_private>(self);
  // The answer comes on a thread of the client: it only becomes a message.
  auto done = [handle, attempt = st.attempt](kafka_topic_state state) {
    caf::anon_send(handle, done_atom::value, attempt, std::move(state));
  };
  if (st.now == phase::starting)
    st.connector->probe(st.spec, baseline_timeout, std::move(done));
  else
    st.consumer->describe(std::move(done));
}

void open_consumer(kafka_pointer self) {
  auto& st = self->state;
  ++st.attempt;
  st.paused = false;
  st.describing = false;
  st.from_start.clear();
  auto handle = caf::actor_cast<kafka_private>(self);
  // Called on librdkafka's threads: it only sends a message.
  auto opened = st.connector->open(st.spec, [handle, attempt = st.attempt] {
    caf::anon_send(handle, wake_atom::value, attempt);
  });
  if (!opened.consumer) {
    st.now = phase::opening;
    report_failure(self, std::move(opened.error));
    arm(self, kafka_timer::retry, self->state.backoff.after_failure());
    return;
  }
  st.consumer = std::move(opened.consumer);
  if (st.offsets) {
    begin_reading(self);
    return;
  }
  st.now = phase::starting;
  describe(self);
}

void on_timer(kafka_pointer self, kafka_timer which, std::uint64_t id) {
  auto& st = self->state;
  switch (which) {
    case kafka_timer::retry:
      if (st.now == phase::opening)
        open_consumer(self);
      else if (st.now == phase::starting && !st.describing)
        describe(self);
      break;
    case kafka_timer::pause:
      if (id != st.pause_timer)
        return;
      st.pause_timer = 0;
      if (st.now == phase::reading && st.credit == 0 && !st.paused) {
        st.paused = true;
        st.consumer->pause();
      }
      break;
    case kafka_timer::stall:
      if (id != st.stall_timer)
        return;
      st.stall_timer = 0;
      if (st.now == phase::reading && st.credit > 0 && st.consumer->lagging())
        st.consumer->nudge();
      break;
    case kafka_timer::describe:
      if (id == st.describe_timer && st.now == phase::reading && !st.describing)
        describe(self);
      break;
  }
}

void on_credit(kafka_pointer self, std::int64_t n) {
  auto& st = self->state;
  // Saturating: credit is a bound, and a bound of "very many" must not wrap around.
  st.credit = n > std::numeric_limits<std::int64_t>::max() - st.credit ? std::numeric_limits<std::int64_t>::max()
                                                                       : st.credit + n;
  st.pause_timer = 0;
  if (st.paused && st.consumer) {
    st.paused = false;
    st.consumer->resume();
  }
  drain(self);
}

kafka_private::behavior_type kafka_source_impl(kafka_pointer self, source_listener parent, kafka_spec spec,
                                               std::string checkpoint, kafka_connector_ptr connector) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.offsets = restore_kafka_offsets(checkpoint, spec);
  st.spec = std::move(spec);
  st.connector = std::move(connector);
  if (st.connector) {
    open_consumer(self);
  } else {
    st.now = phase::opening;
    report_failure(self, "this provider was started without a Kafka client");
  }
  return {
    [self](credit_atom, std::int64_t n) { on_credit(self, n); },
    [self](tick_atom, int which, std::uint64_t id) { on_timer(self, static_cast<kafka_timer>(which), id); },
    [self](wake_atom, std::uint64_t attempt) {
      if (attempt == self->state.attempt)
        drain(self);
    },
    [self](done_atom, std::uint64_t attempt, kafka_topic_state& state) { on_described(self, attempt, state); },
  };
}

} // namespace

source_actor spawn_kafka_source(caf::local_actor* parent, kafka_spec spec, std::string checkpoint,
                                kafka_connector_ptr connector) {
  return parent->spawn<caf::linked>(kafka_source_impl, caf::actor_cast<source_listener>(parent), std::move(spec),
                                    std::move(checkpoint), std::move(connector));
}

} // namespace feedrouter
