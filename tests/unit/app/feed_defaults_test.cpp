#include "app/feed_defaults.hpp"

#include <catch2/catch.hpp>

#include "core/json.hpp"

using namespace feedrouter;

namespace {

api_command alarm_create(bool from_feed_action, json_members params = {{"cron", R"("0 9 1 11 *")"}}) {
  api_command cmd;
  cmd.op = api_op::create;
  cmd.feed = "alarm";
  cmd.params = std::move(params);
  cmd.from_feed_action = from_feed_action;
  return cmd;
}

} // namespace

TEST_CASE("the month switch numbers months 0-11 for alarms created through the feed actions only",
          "[feed_defaults]") {
  feed_defaults on{true, false};
  auto lifecycle = alarm_create(true);
  apply_feed_defaults(lifecycle, on);
  CHECK(find_member(lifecycle.params, "cronMonths") != nullptr);
  CHECK(*find_member(lifecycle.params, "cronMonths") == R"("0-11")");
  auto rest = alarm_create(false);
  apply_feed_defaults(rest, on);
  CHECK(find_member(rest.params, "cronMonths") == nullptr);
  // A registration that names its numbering keeps it.
  auto own = alarm_create(true, {{"cron", R"("0 9 1 11 *")"}, {"cronMonths", R"("1-12")"}});
  apply_feed_defaults(own, on);
  CHECK(*find_member(own.params, "cronMonths") == R"("1-12")");
  // Off by default; and UPDATE never adds it: the numbering is fixed at CREATE.
  auto off = alarm_create(true);
  apply_feed_defaults(off, feed_defaults{});
  CHECK(find_member(off.params, "cronMonths") == nullptr);
  auto update = alarm_create(true);
  update.op = api_op::update;
  apply_feed_defaults(update, on);
  CHECK(find_member(update.params, "cronMonths") == nullptr);
}

TEST_CASE("the cron field limit holds whatever the request says", "[feed_defaults]") {
  feed_defaults limit{false, true};
  auto cmd = alarm_create(false, {{"cron", R"("*/30 * * * * *")"}, {"limitCronFields", "false"}});
  apply_feed_defaults(cmd, limit);
  CHECK(*find_member(cmd.params, "limitCronFields") == "true");
  api_command changes;
  changes.op = api_op::create;
  changes.feed = "changes";
  apply_feed_defaults(changes, limit);
  CHECK(changes.params.empty());
}
