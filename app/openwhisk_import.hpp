#pragma once

#include <iosfwd>

#include "app/options.hpp"

namespace feedrouter {

/// Runs `feedrouter import-openwhisk` (docs/migrating-from-openwhisk.md): reads the trigger documents an OpenWhisk
/// alarms or cloudant provider keeps in its CouchDB database (`opts.import`), and writes the same registrations into
/// the store `opts.store` (the service stopped: the store takes one writer), each checked with OpenWhisk at
/// `opts.api_host` (its key, its feed annotation) unless `opts.verify_auth` is off. With `disable_source` each
/// imported document is marked inactive at its source afterwards. Idempotent: a registration already there is left
/// as it is.
///
/// Writes the report to `out` and problems that stop the whole run to `err`. Returns 0 when every trigger document
/// was imported (or was already), 1 when some could not be (the report says which and why), 2 when the run could not
/// happen (the store or the provider's database not reachable).
int import_openwhisk(const options& opts, std::ostream& out, std::ostream& err);

} // namespace feedrouter
