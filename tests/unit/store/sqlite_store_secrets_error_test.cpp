#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "store/key_rotation.hpp"
#include "store/secrets_key_file.hpp"
#include "store_files.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string secret = "whsec-NeverShownInClear-0123456789";

registration_record make_record(std::string name) {
  registration_record rec;
  rec.trigger = {"tenant", std::move(name)};
  rec.feed = "webhook";
  rec.params_json = R"({"hookId":"h-)" + rec.trigger.name + R"(","secret":")" + secret + R"("})";
  rec.auth_key = "uuid:key-of-" + rec.trigger.name;
  rec.created = sys_ms{std::chrono::milliseconds{1'700'000'000'000}};
  rec.status.date_changed = rec.created;
  return rec;
}

/// Creates store `name` in `dir` with registrations a, b and c; returns its key's id.
std::string make_store(const temp_dir& dir, const std::string& name) {
  auto db = open_store(dir.spec(name));
  REQUIRE(db->commit({put(make_record("a")), put(make_record("b")), put(make_record("c"))}) == std::nullopt);
  return db->key()->id();
}

/// Writes `key` to `path` as a key file, replacing what is there.
void overwrite_key_file(const std::string& path, const secrets_key& key) {
  std::filesystem::remove(path);
  create_key_file(path, key);
}

/// Sends what this process writes to stderr into a file until finish(), so a test can count its log lines.
class stderr_capture {
public:
  explicit stderr_capture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    auto fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }

  ~stderr_capture() {
    finish();
  }

  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  /// Restores stderr and returns what was written meanwhile.
  std::string finish() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
    return read_file(path_);
  }

private:
  std::string path_;
  int saved_ = -1;
};

} // namespace

// -- the key does not match -----------------------------------------------------------------

TEST_CASE("a store opened with another key is refused, naming the key file and both keys, and left unchanged",
          "[store][secrets]") {
  temp_dir dir;
  auto store_id = make_store(dir, "a.db");
  auto other = secrets_key::generate();
  overwrite_key_file(dir.file("a.db.key"), other);
  auto before = take_snapshot(dir, "a.db");
  CHECK_THROWS_MATCHES(open_store(dir.spec("a.db")), store_open_error,
                       Catch::Matchers::Message("secrets key file '" + dir.file("a.db.key") + "' holds key "
                                                + other.id() + ", but store '" + dir.file("a.db")
                                                + "' is sealed with key " + store_id
                                                + ": start with the key file the store was sealed with"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

TEST_CASE("a store copied without its key file is refused, and no new key is made for it", "[store][secrets]") {
  temp_dir dir;
  auto store_id = make_store(dir, "a.db");
  std::filesystem::copy_file(dir.file("a.db"), dir.file("copy.db"));
  auto before = take_snapshot(dir, "copy.db");
  CHECK_THROWS_MATCHES(open_store(dir.spec("copy.db")), store_open_error,
                       Catch::Matchers::Message("store '" + dir.file("copy.db") + "' is sealed with secrets key "
                                                + store_id + ", but the key file '" + dir.file("copy.db.key")
                                                + "' does not exist: restore that file from its backup (a new key "
                                                  "cannot read the store)"));
  check_unchanged(before, take_snapshot(dir, "copy.db"));
  CHECK_FALSE(std::filesystem::exists(dir.file("copy.db.key")));
  // With its key it opens.
  store_options opts;
  opts.key_file = dir.file("a.db.key");
  CHECK(open_store(dir.spec("copy.db"), opts)->load_all().size() == 3);
}

TEST_CASE("a rotation that stopped after sealing is named when the old key is tried", "[store][secrets]") {
  temp_dir dir;
  make_store(dir, "a.db");
  auto key_file = dir.file("a.db.key");
  auto done = rotate_secrets_key(dir.spec("a.db"), {});
  // As if it had stopped before moving the new key in place.
  std::filesystem::rename(key_file, key_file + ".new");
  std::filesystem::copy_file(done.retired_file, key_file);
  CHECK_THROWS_WITH(open_store(dir.spec("a.db")),
                    Contains("(a key rotation that stopped half-way left its new key in '" + key_file + ".new')"));
}

// -- the key file ---------------------------------------------------------------------------

TEST_CASE("a key file that group or others may access is refused", "[store][secrets]") {
  temp_dir dir;
  make_store(dir, "a.db");
  auto key_file = dir.file("a.db.key");
  auto [mode, text] = GENERATE(table<std::filesystem::perms, std::string>({
    {std::filesystem::perms::owner_read | std::filesystem::perms::group_read, "0440"},
    {std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | std::filesystem::perms::others_read,
     "0604"},
    {std::filesystem::perms::owner_read | std::filesystem::perms::group_write, "0420"},
  }));
  std::filesystem::permissions(key_file, mode);
  CHECK_THROWS_MATCHES(open_store(dir.spec("a.db")), store_open_error,
                       Catch::Matchers::Message("secrets key file '" + key_file + "': may be accessed by group or "
                                                + "others (mode " + text + "); allow its owner only: chmod 600 '"
                                                + key_file + "'"));
}

TEST_CASE("a key file that holds no key is refused", "[store][secrets]") {
  temp_dir dir;
  auto key_file = dir.file("a.db.key");
  SECTION("text of another kind") {
    write_file(key_file, GENERATE(std::string{}, std::string{"not a key\n"}, std::string(2000, 'k'),
                                  "feedrouter-secrets-v1:" + std::string(42, 'A') + "==\n"));
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_read);
    CHECK_THROWS_WITH(open_store(dir.spec("a.db")),
                      StartsWith("secrets key file '" + key_file + "': does not hold a key"));
  }
  SECTION("a directory") {
    std::filesystem::create_directory(key_file);
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_all);
    CHECK_THROWS_WITH(open_store(dir.spec("a.db")), StartsWith("secrets key file '" + key_file + "': "));
  }
  SECTION("a named file in a missing directory, for a new store") {
    store_options opts;
    opts.key_file = dir.file("missing/secrets.key");
    CHECK_THROWS_WITH(open_store(dir.spec("a.db"), opts),
                      StartsWith("secrets key file '" + dir.file("missing/secrets.key") + "': cannot create"));
  }
}

// -- rows that do not open ------------------------------------------------------------------

TEST_CASE("secrets moved to another row or column do not open: those registrations load disabled, showing nothing",
          "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  make_store(dir, "a.db");
  SECTION("rows swapped") {
    REQUIRE(raw_exec(path, "CREATE TEMP TABLE old AS SELECT name, params_json FROM registrations; "
                           "UPDATE registrations SET params_json = (SELECT params_json FROM old "
                           "WHERE old.name = CASE registrations.name WHEN 'a' THEN 'b' ELSE 'a' END) "
                           "WHERE name IN ('a', 'b')")
            == std::nullopt);
  }
  SECTION("columns swapped") {
    REQUIRE(raw_exec(path, "UPDATE registrations SET params_json = auth_key, auth_key = params_json "
                           "WHERE name IN ('a', 'b')")
            == std::nullopt);
  }
  SECTION("a sealed value altered") {
    REQUIRE(raw_exec(path, "UPDATE registrations SET params_json = substr(params_json, 1, length(params_json) - 6) "
                           "|| 'AAAAAA' WHERE name IN ('a', 'b')")
            == std::nullopt);
  }
  auto db = open_store(dir.spec("a.db"));
  stderr_capture capture{dir.file("stderr.txt")};
  auto all = db->load_all();
  auto logged = capture.finish();
  REQUIRE(all.size() == 3);
  for (const auto& rec : {all[0], all[1]}) {
    INFO(rec.trigger.name);
    CHECK(rec.status.state == registration_state::disabled);
    CHECK(rec.status.reason.kind == reason_kind::automatic);
    CHECK_THAT(rec.status.reason.message, StartsWith("its secrets cannot be opened with the store's key"));
    CHECK(rec.params_json.empty());
    CHECK(rec.auth_key.empty());
    // The owner can still be recognised: the lookup hash is not sealed.
    CHECK(rec.auth_hash == db->key()->hash_auth_key("uuid:key-of-" + rec.trigger.name));
  }
  CHECK(all[2].status.state == registration_state::active);
  CHECK(all[2].params_json == make_record("c").params_json);
  CHECK(db->unreadable_secrets() == 2);
  CHECK(std::count(logged.begin(), logged.end(), '\n') == 1);
  CHECK_THAT(logged, Contains("the secrets of 2 registrations cannot be opened with key " + db->key()->id()
                              + " (the first: tenant/a)"));
}

TEST_CASE("rotate-key is refused while a registration's secrets do not open, and changes nothing", "[store][secrets]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto key_file = path + ".key";
  auto id = make_store(dir, "a.db");
  REQUIRE(raw_exec(path, "UPDATE registrations SET auth_key = params_json WHERE name = 'b'") == std::nullopt);
  auto before = take_snapshot(dir, "a.db");
  auto key_before = read_file(key_file);
  CHECK_THROWS_MATCHES(rotate_secrets_key(dir.spec("a.db"), {}), store_open_error,
                       Catch::Matchers::Message("cannot re-seal store '" + path + "': the secrets of tenant/b "
                                                + "cannot be opened with key " + id
                                                + "; delete that registration first"));
  CHECK(read_file(path) == before.bytes);
  CHECK(read_file(key_file) == key_before);
  CHECK_FALSE(std::filesystem::exists(key_file + ".new"));
  CHECK(open_store(dir.spec("a.db"))->key()->id() == id);
}

TEST_CASE("rotate-key needs an existing store with a key file", "[store][secrets]") {
  temp_dir dir;
  CHECK_THROWS_WITH(rotate_secrets_key(dir.spec("missing.db"), {}),
                    StartsWith("cannot open store '" + dir.file("missing.db") + "': unable to open database file"));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db.key")));
  CHECK_THROWS_WITH(rotate_secrets_key("sqlite::memory:", {}), Contains("has no key file"));
  CHECK_THROWS_WITH(rotate_secrets_key("postgres://db", {}), StartsWith("invalid --store value"));
}
