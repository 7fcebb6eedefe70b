#pragma once

#include <string>

#include "app/options.hpp"
#include "store/store.hpp"

namespace feedrouter {

/// Returns how open_store() finds the secrets key and which files it accepts, from the flags.
store_options store_options_of(const options& opts);

/// What checking a store found.
struct store_verdict {
  enum class kind {
    sound,   ///< opened with the full integrity check, every registration's secrets open
    missing, ///< there is no store yet (a start creates it)
    in_use,  ///< another process holds it: a running feedrouter
    unsound, ///< damaged, locked by the wrong key, unreadable rows, a newer schema, ...
  };
  kind what = kind::unsound;
  std::string line; ///< what was found, one line for the operator
};

/// Checks the store of `opts` the way `--check-store` does: opens it as a start would (which upgrades an older schema)
/// but with the full integrity check, reads it whole, and opens every registration's secrets. Creates no store. Works
/// through the store interface only, so every store kind is checked alike.
store_verdict check_store_soundness(const options& opts);

} // namespace feedrouter
