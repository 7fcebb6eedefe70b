#pragma once

#include <cstddef>
#include <string>

#include "store/store.hpp"

namespace feedrouter {

/// What migrate_store() copied.
struct store_migration {
  std::size_t registrations = 0;
  std::size_t pending_events = 0;
  std::size_t dead_letters = 0;
  std::size_t checkpoints = 0; ///< registrations with a source position (poll, changes)
};

/// Copies every registration of store `from`, with its pending events, dead letters, counters and checkpoint, into
/// store `to` (`feedrouter migrate`), in one transaction of `to`. A registration `to` holds already is replaced with
/// everything it holds, so that running it again changes nothing; registrations only `to` holds stay. Neither store
/// may be in use.
///
/// Both stores open with the same secrets key file (opts.key_file, else the one of `from`, e.g. PATH.key beside a
/// SQLite file): the secrets are opened with it and sealed again for `to`, bound to their new rows. `from` must
/// exist; `to` is created when it does not. Throws store_open_error when either store cannot be opened (`to`
/// sealed with another key among the reasons), when some of `from`'s secrets do not open, or when the copy fails;
/// then `to` is unchanged.
store_migration migrate_store(const std::string& from, const std::string& to, const store_options& opts);

} // namespace feedrouter
