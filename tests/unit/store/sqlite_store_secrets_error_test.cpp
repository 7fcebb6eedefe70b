// What only the SQLite store refuses around secrets: rotating a store file that does not exist, or one in memory.
// The refusals every store shares are in store_secrets_error_test.cpp.

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "store/key_rotation.hpp"
#include "store_files.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("rotate-key needs an existing store with a key file", "[store][secrets]") {
  temp_dir dir;
  CHECK_THROWS_WITH(rotate_secrets_key(dir.spec("missing.db"), {}),
                    StartsWith("cannot open store '" + dir.file("missing.db") + "': unable to open database file"));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db.key")));
  CHECK_THROWS_WITH(rotate_secrets_key("sqlite::memory:", {}), Contains("has no key file"));
  CHECK_THROWS_WITH(rotate_secrets_key("mysql://db", {}), StartsWith("invalid --store value"));
}
