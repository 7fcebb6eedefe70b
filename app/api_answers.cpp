#include "app/api_answers.hpp"

#include <string>
#include <type_traits>

#include "app/list_cursor.hpp"
#include "app/routes.hpp"
#include "core/json.hpp"
#include "core/status_json.hpp"

namespace feedrouter {

namespace {

/// What a 429 asks the caller to wait when the refusal named no time of its own: every 429 says when to come back.
constexpr std::chrono::seconds default_retry_after{1};

/// What a CREATE beyond its namespace's quota is told to wait. The quota does not pass with time: room comes only when
/// the tenant deletes a registration, a step taken by hand, in minutes. A minute keeps a client that retries on its
/// own from asking again and again for nothing, and is short enough for one that retries once after a delete.
constexpr std::chrono::seconds over_quota_retry_after{60};

/// Returns what a 429 for `outcome` asks the caller to wait when the refusal named no time of its own.
std::chrono::seconds fallback_retry_after(api_outcome outcome) {
  return outcome == api_outcome::over_quota ? over_quota_retry_after : default_retry_after;
}

/// Renders a page of a list: {"triggers": [view, ...], "next": cursor}, "next" only when more follow.
std::string render_page(const registration_page& page) {
  json_writer out;
  out.begin_object().key("triggers").begin_array();
  for (const auto& view : page.views)
    out.raw(render_registration(view));
  out.end_array();
  if (page.next)
    out.key("next").value(encode_list_cursor(*page.next));
  out.end_object();
  return out.take();
}

/// Renders a page of namespaces: {"namespaces": [{"namespace", "registrations"}, ...], "next": cursor}, "next" only
/// when more follow.
std::string render_page(const namespace_page& page) {
  json_writer out;
  out.begin_object().key("namespaces").begin_array();
  for (const auto& count : page.namespaces)
    out.begin_object()
      .key("namespace")
      .value(count.ns)
      .key("registrations")
      .value(static_cast<std::int64_t>(count.registrations))
      .end_object();
  out.end_array();
  if (page.next)
    out.key("next").value(encode_namespace_cursor(*page.next));
  out.end_object();
  return out.take();
}

std::string render_receipt(const hook_receipt& receipt) {
  json_writer out;
  out.begin_object();
  if (receipt.ignored) {
    out.key("ignored").value(true);
    if (receipt.skip == hook_skip::ping)
      out.key("reason").value("ping");
    else if (receipt.skip == hook_skip::duplicate)
      out.key("reason").value("duplicate");
  } else
    out.key("accepted").value(true).key("seq").value(static_cast<std::int64_t>(receipt.seq));
  out.end_object();
  return out.take();
}

std::string render_receipt(const replay_receipt& receipt) {
  json_writer out;
  out.begin_object().key("replayed").value(static_cast<std::int64_t>(receipt.replayed)).end_object();
  return out.take();
}

/// Renders GET /v1/cluster: counts and instance ids; the instances' advertised URLs only for an operator
/// (docs/cluster.md).
std::string render_cluster(const cluster_report& report) {
  json_writer out;
  out.begin_object()
    .key("mode")
    .value(report.mode)
    .key("instance")
    .value(report.self_id)
    .key("shards")
    .value(static_cast<std::int64_t>(report.shard_count));
  if (report.lease_ttl.count() > 0)
    out.key("leaseTtlMs").value(static_cast<std::int64_t>(report.lease_ttl.count()));
  out.key("instances").begin_array();
  for (const auto& member : report.instances) {
    out.begin_object().key("id").value(member.id);
    if (report.for_operator)
      out.key("url").value(member.url);
    out.key("live")
      .value(member.live)
      .key("startedAt")
      .value(format_iso8601(member.started))
      .key("heartbeatAgeMs")
      .value(static_cast<std::int64_t>(member.heartbeat_age.count()))
      .key("shards")
      .value(static_cast<std::int64_t>(member.shards))
      .key("registrations")
      .value(static_cast<std::int64_t>(member.registrations))
      .end_object();
  }
  out.end_array()
    .key("unownedShards")
    .value(static_cast<std::int64_t>(report.unowned_shards))
    .key("unownedRegistrations")
    .value(static_cast<std::int64_t>(report.unowned_registrations))
    .end_object();
  return out.take();
}

/// Renders what a successful answer shows.
std::string render_body(const api_body& body) {
  return std::visit(
    [](const auto& x) -> std::string {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, std::monostate>)
        return {};
      else if constexpr (std::is_same_v<T, registration_view>)
        return render_registration(x);
      else if constexpr (std::is_same_v<T, registration_page> || std::is_same_v<T, namespace_page>)
        return render_page(x);
      else if constexpr (std::is_same_v<T, std::vector<dead_letter>>)
        return render_dead_letters(x);
      else if constexpr (std::is_same_v<T, cluster_report>)
        return render_cluster(x);
      else
        return render_receipt(x);
    },
    body);
}

} // namespace

int http_status(api_outcome outcome) {
  switch (outcome) {
    case api_outcome::ok:
    case api_outcome::replaced:
      return 200;
    case api_outcome::created:
      return 201;
    case api_outcome::accepted:
      return 202;
    case api_outcome::removed:
      return 204;
    case api_outcome::invalid:
      return 400;
    case api_outcome::unauthorized:
      return 401;
    case api_outcome::forbidden:
      return 403;
    case api_outcome::not_found:
      return 404;
    case api_outcome::conflict:
      return 409;
    case api_outcome::too_many:
    case api_outcome::over_quota:
      return 429;
    case api_outcome::unavailable:
      return 503;
    case api_outcome::not_owner:
      return 421;
  }
  return 500;
}

http_response to_http(const api_result& result) {
  auto status = http_status(result.outcome);
  auto res = json_response(status, status >= 400 ? render_error(result.error, result.field) : render_body(result.body));
  auto retry_after = result.retry_after;
  if (status == 429 && retry_after.count() <= 0)
    retry_after = fallback_retry_after(result.outcome);
  if (retry_after.count() > 0)
    res.fields.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return res;
}

} // namespace feedrouter
