#pragma once

// What the redis-stream end-to-end tests share: CREATE bodies, reading the entry IDs out of the fires the fake
// controller recorded, and checking a refused CREATE.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/trigger_ref.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace feedrouter::test {

/// How long an entry may take to reach the controller, or the feed to come back; reached only when something is
/// broken.
inline constexpr std::chrono::milliseconds entry_timeout{60'000};

/// Returns a CREATE body of a redis-stream feed on `stream` at `url`, with `more_members` (raw JSON members without
/// braces) added.
std::string redis_create_body(const std::string& url, std::string_view stream, std::string_view more_members = {});

/// Returns the entry IDs the fires of `trigger` carried, in the order the controller received them (a fire holds one
/// entry, or {"events": [...]} with batchSize above 1).
std::vector<std::string> fired_ids(const e2e_fixture& fx, const trigger_ref& trigger);

/// Waits until the fires of `trigger` carried at least `n` entries or entry_timeout passed; returns whether they did.
bool wait_for_entries(const e2e_fixture& fx, const trigger_ref& trigger, std::size_t n);

/// Returns whether `ids` are stream IDs in increasing order.
bool increasing(const std::vector<std::string>& ids);

/// The fields of the `i`th entry a test adds: {"n": i, "kind": "job"}.
std::vector<std::pair<std::string, std::string>> numbered(int i);

/// Checks that CREATE with `body` is answered `status` (400 by default) naming `field`, and that nothing was
/// registered.
void check_refused(feedrouter_process& fr, const trigger_ref& trigger, const std::string& body, std::string_view field,
                   int status = 400);

} // namespace feedrouter::test
