#pragma once

#include <caf/atom.hpp>

namespace feedrouter {

// Lifecycle and status.
using status_atom = caf::atom_constant<caf::atom("status")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;

// Store.
using put_atom = caf::atom_constant<caf::atom("put")>;
using erase_atom = caf::atom_constant<caf::atom("erase")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;

// Sources and firing.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using ended_atom = caf::atom_constant<caf::atom("ended")>;
using fire_atom = caf::atom_constant<caf::atom("fire")>;
using fired_atom = caf::atom_constant<caf::atom("fired")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using backoff_atom = caf::atom_constant<caf::atom("backoff")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using hook_atom = caf::atom_constant<caf::atom("hook")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using items_atom = caf::atom_constant<caf::atom("items")>;
/// `(disable_atom, int status_code, std::string message)`: a source asks its trigger to disable the registration.
using disable_atom = caf::atom_constant<caf::atom("disable")>;
/// `(source_status_atom, std::string error)`: a source's attempt failed (error set) or works again (error empty).
using source_status_atom = caf::atom_constant<caf::atom("srcstatus")>;
/// `(changes_end_atom)`: asks where a database ends now; answered with a changes_end.
using changes_end_atom = caf::atom_constant<caf::atom("dbend")>;

// The controller.
using verify_atom = caf::atom_constant<caf::atom("verify")>;
using namespaces_atom = caf::atom_constant<caf::atom("namespaces")>;

} // namespace feedrouter
