#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/outcome.hpp"
#include "core/poll_spec.hpp"

namespace feedrouter {

/// The ids a poll has seen, in the order it first saw them, bounded by forgetting the oldest.
///
/// An id is kept as a 64-bit fingerprint (the first 8 bytes of the SHA-256 of item_id()), so the set costs the same
/// for short numeric ids and for long URLs. Two ids share a fingerprint with a probability of about n * m / 2^64 for
/// n remembered and m new ids: negligible, and its only effect would be one item not fired.
class seen_ids {
public:
  /// Returns the fingerprint of `id`.
  static std::uint64_t fingerprint(std::string_view id);

  bool contains(std::uint64_t fp) const {
    return index_.count(fp) != 0;
  }

  /// Appends `fp` as the newest id; an id already present keeps its place.
  void insert(std::uint64_t fp);

  /// Forgets the oldest ids until at most `limit` remain, sparing those in `keep` (the ids the last document listed,
  /// which would otherwise fire again at the next poll). Stops early when only ids in `keep` are left.
  void trim(std::size_t limit, const std::unordered_set<std::uint64_t>& keep);

  std::size_t size() const noexcept {
    return order_.size();
  }

  /// Returns the fingerprints, oldest first.
  const std::deque<std::uint64_t>& oldest_first() const noexcept {
    return order_;
  }

  friend bool operator==(const seen_ids& x, const seen_ids& y) {
    return x.order_ == y.order_;
  }

private:
  std::deque<std::uint64_t> order_;
  std::unordered_set<std::uint64_t> index_;
};

/// Where a poll registration stands: what it has seen, and the validators of the last document it took in full.
/// This is the registration's checkpoint, stored as the JSON text to_checkpoint() makes.
struct poll_state {
  /// Fingerprint of the url, itemsPointer and idPointer the ids were taken with: seen ids mean nothing for another
  /// URL or another way of telling items apart, so a change of these (UPDATE) starts a new baseline.
  std::string source;
  bool baseline = false;     ///< a first poll succeeded; until then a poll records what it sees and fires nothing
  std::string etag;          ///< sent as If-None-Match
  std::string last_modified; ///< sent as If-Modified-Since
  seen_ids seen;
};

/// Returns the fingerprint of what item ids depend on: url, itemsPointer and idPointer (not headers or interval).
std::string poll_source_fingerprint(const poll_spec& spec);

/// Returns `state` as checkpoint text: {"v":1,"source":..,"baseline":..,"etag":..,"lastModified":..,"seen":".."},
/// where "seen" concatenates 16 hex digits per id, oldest first.
std::string to_checkpoint(const poll_state& state);

/// Reads checkpoint text written by to_checkpoint(); failures name the field "checkpoint".
outcome<poll_state> parse_poll_checkpoint(std::string_view text);

/// Returns the state a poll source starts from: the checkpoint's, when it was written for the same url,
/// itemsPointer and idPointer; otherwise (no checkpoint yet, another source after an UPDATE, or unreadable text) a
/// fresh state whose first successful poll sets a new baseline.
poll_state restore_poll_state(std::string_view checkpoint, const poll_spec& spec);

/// A document the polled URL answered with (2xx).
struct poll_document {
  std::string_view body;
  std::string etag;          ///< the ETag field; empty when none
  std::string last_modified; ///< the Last-Modified field; empty when none
};

/// What one document means for a poll: the items to fire and how the state moves. Apply it with apply_poll_step()
/// only once the items are stored.
struct poll_step {
  /// New items as JSON, oldest first. Documents usually list the newest item first (feeds, "latest" APIs), so new
  /// items are taken in reverse document order; a document that lists the oldest first has its new items fired
  /// newest first within one poll (each poll usually brings few).
  std::vector<std::string> new_items;
  std::vector<std::uint64_t> new_ids; ///< fingerprints to remember; on the baseline, every id the document lists
  std::vector<std::uint64_t> listed;  ///< fingerprints of every item in the document, never forgotten by a trim
  bool sets_baseline = false;
  /// False when the document has more new items than the step could take: apply it, then compute the next step from
  /// the same document. The validators are taken over only with the last step, so that a crash in between makes the
  /// next poll fetch the document again instead of getting a 304.
  bool complete = true;
  std::string etag;
  std::string last_modified;

  /// Returns whether the step changes what is persisted (ids or baseline), so it must be committed before it applies.
  bool needs_commit() const noexcept {
    return sets_baseline || !new_ids.empty();
  }
};

/// Returns what `doc` means for a poll in `state`: at most `max_items` new items (the oldest ones), or an error when
/// the document is not valid JSON (with an itemsPointer), has no array at itemsPointer, or lists more than
/// max_seen_ids items. Without itemsPointer the whole document is one item; a body that is not JSON is then one
/// item holding the text as a JSON string.
outcome<poll_step> next_poll_step(const poll_state& state, const poll_spec& spec, const poll_document& doc,
                                  std::size_t max_items);

/// Returns `state` after `step`: new ids remembered (bounded by max_seen_ids), baseline set, and the validators
/// taken over when the step completes the document.
poll_state apply_poll_step(poll_state state, const poll_step& step);

/// Returns the trigger payload for one item: an object item with the members of `fire_body` (`trigger_payload`)
/// that it does not have itself, any other item as {"item": value} with them.
std::string poll_event_body(std::string_view item_json, std::string_view fire_body);

} // namespace feedrouter
