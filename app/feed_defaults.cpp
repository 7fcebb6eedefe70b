#include "app/feed_defaults.hpp"

#include <string>

#include "core/alarm_spec.hpp"
#include "core/json.hpp"

namespace feedrouter {

namespace {

constexpr std::string_view alarm_feed = "alarm";

} // namespace

void apply_feed_defaults(api_command& cmd, const feed_defaults& defaults) {
  if (cmd.feed != alarm_feed || (cmd.op != api_op::create && cmd.op != api_op::update))
    return;
  auto& params = cmd.params;
  if (defaults.openwhisk_cron_months && cmd.op == api_op::create && cmd.from_feed_action
      && find_member(params, cron_months_param) == nullptr) {
    std::string value;
    append_json_string(value, openwhisk_months_value);
    params.emplace_back(std::string{cron_months_param}, std::move(value));
  }
  if (defaults.limit_cron_fields)
    params = merge_members(std::move(params), {{"limitCronFields", "true"}});
}

} // namespace feedrouter
