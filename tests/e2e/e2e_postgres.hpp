#pragma once

// A PostgreSQL store for end-to-end tests: one server per test process (started on first use), a fresh database
// per call of postgres_store_args().

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace feedrouter::test {

/// Returns the server every test of this process shares.
inline postgres_server& shared_postgres() {
  static postgres_server instance;
  return instance;
}

/// Creates a database and returns the flags that run feedrouter on it: --store with its URI (no password),
/// --store-password-file and --secrets-key-file in the test's directory.
inline std::vector<std::string> postgres_store_args(e2e_fixture& fx) {
  auto& server = shared_postgres();
  auto password_file = fx.file("pg-password");
  if (!std::filesystem::exists(password_file))
    server.write_password_file(password_file);
  return {"--store", server.uri(server.create_database()), "--store-password-file", password_file,
          "--secrets-key-file", fx.file("pg-secrets.key")};
}

} // namespace feedrouter::test
