// An alarm whose next occurrence lies millennia ahead, as the trigger runs it: one timer at a time, no work between.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "core/alarm_spec.hpp"
#include "printers.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref far_trigger{"guest", "millennium"};

constexpr std::string_view far_params = R"({"cron": "0 0 1 1 *", "strict": true, "startDate": "9999-01-01T00:00:00Z"})";

} // namespace

TEST_CASE_METHOD(actor_fixture,
                 "an alarm millennia ahead waits on one timer a day that arms the next and fires nothing",
                 "[alarm_schedule]") {
  client->answer_all(200);
  auto t = start_trigger(*this, make_record(far_trigger, far_params, now()),
                         alarm_config(far_params, now(), far_trigger));
  const auto occurrence = parse_iso8601("9999-01-01T00:00:00Z");
  CHECK(snapshot(t.trigger).live.next_fire == occurrence);
  // Before: the delay to year 9999 overflowed the actor clock's nanoseconds, so the timer fell due at once, armed
  // again and fell due at once, forever.
  auto& clock = sched.clock();
  for (int day = 0; day < 3; ++day) {
    INFO("day " << day);
    CHECK(clock.advance_time(alarm_max_timer_delay - std::chrono::milliseconds{1}) == 0);
    CHECK(clock.advance_time(std::chrono::milliseconds{1}) == 1);
    run();
    CHECK(client->calls().empty());
    CHECK(snapshot(t.trigger).live.next_fire == occurrence);
  }
}
