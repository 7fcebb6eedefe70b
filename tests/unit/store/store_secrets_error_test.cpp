// The conformance suite's refusals around secrets: another key, a missing or unsafe key file, secrets that do not
// open, and a rotation that cannot go ahead.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "store/key_rotation.hpp"
#include "store/secrets_key_file.hpp"
#include "store_backends.hpp"
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

/// Creates the backend's store with registrations a, b and c; returns its key's id.
template <class Backend>
std::string make_store(const Backend& backend) {
  auto db = backend.open();
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

TEMPLATE_TEST_CASE("a store opened with another key is refused, naming the key file and both keys, and left unchanged",
                   "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  auto store_id = make_store(backend);
  auto other = secrets_key::generate();
  overwrite_key_file(backend.key_file(), other);
  auto before = backend.snapshot();
  CHECK_THROWS_MATCHES(backend.open(), store_open_error,
                       Catch::Matchers::Message("secrets key file '" + backend.key_file() + "' holds key " + other.id()
                                                + ", but store '" + backend.name() + "' is sealed with key " + store_id
                                                + ": start with the key file the store was sealed with"));
  check_unchanged(before, backend.snapshot());
}

TEMPLATE_TEST_CASE("a store opened without its key file is refused, and no new key is made for it", "[store][secrets]",
                   STORE_BACKENDS) {
  TestType backend;
  auto store_id = make_store(backend);
  store_options opts;
  opts.key_file = backend.dir().file("missing.key");
  auto before = backend.snapshot();
  CHECK_THROWS_MATCHES(backend.open(opts), store_open_error,
                       Catch::Matchers::Message("store '" + backend.name() + "' is sealed with secrets key " + store_id
                                                + ", but the key file '" + opts.key_file
                                                + "' does not exist: restore that file from its backup (a new key "
                                                  "cannot read the store)"));
  check_unchanged(before, backend.snapshot());
  CHECK_FALSE(std::filesystem::exists(opts.key_file));
  // With its key it opens.
  CHECK(backend.open()->load_all().size() == 3);
}

TEMPLATE_TEST_CASE("a rotation that stopped after sealing is named when the old key is tried", "[store][secrets]",
                   STORE_BACKENDS) {
  TestType backend;
  make_store(backend);
  auto key_file = backend.key_file();
  auto done = rotate_secrets_key(backend.spec(), backend.options());
  // As if it had stopped before moving the new key in place.
  std::filesystem::rename(key_file, key_file + ".new");
  std::filesystem::copy_file(done.retired_file, key_file);
  CHECK_THROWS_WITH(backend.open(),
                    Contains("(a key rotation that stopped half-way left its new key in '" + key_file + ".new')"));
}

// -- the key file ---------------------------------------------------------------------------

TEMPLATE_TEST_CASE("a key file that group or others may access is refused", "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  make_store(backend);
  auto key_file = backend.key_file();
  auto [mode, text] = GENERATE(table<std::filesystem::perms, std::string>({
    {std::filesystem::perms::owner_read | std::filesystem::perms::group_read, "0440"},
    {std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | std::filesystem::perms::others_read,
     "0604"},
    {std::filesystem::perms::owner_read | std::filesystem::perms::group_write, "0420"},
  }));
  std::filesystem::permissions(key_file, mode);
  CHECK_THROWS_MATCHES(backend.open(), store_open_error,
                       Catch::Matchers::Message("secrets key file '" + key_file + "': may be accessed by group or "
                                                + "others (mode " + text + "); allow its owner only: chmod 600 '"
                                                + key_file + "'"));
}

TEMPLATE_TEST_CASE("a key file that holds no key is refused", "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  auto key_file = backend.key_file();
  SECTION("text of another kind") {
    write_file(key_file, GENERATE(std::string{}, std::string{"not a key\n"}, std::string(2000, 'k'),
                                  "feedrouter-secrets-v1:" + std::string(42, 'A') + "==\n"));
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_read);
    CHECK_THROWS_WITH(backend.open(), StartsWith("secrets key file '" + key_file + "': does not hold a key"));
  }
  SECTION("a directory") {
    std::filesystem::create_directory(key_file);
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_all);
    CHECK_THROWS_WITH(backend.open(), StartsWith("secrets key file '" + key_file + "': "));
  }
  SECTION("a named file in a missing directory, for a new store") {
    store_options opts;
    opts.key_file = backend.dir().file("missing/secrets.key");
    CHECK_THROWS_WITH(backend.open(opts), StartsWith("secrets key file '" + opts.key_file + "': cannot create"));
  }
}

// -- rows that do not open ------------------------------------------------------------------

TEMPLATE_TEST_CASE("secrets moved to another row or column do not open: those registrations load disabled, showing "
                   "nothing",
                   "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  make_store(backend);
  SECTION("rows swapped") {
    backend.exec("CREATE TEMP TABLE old AS SELECT name, params_json FROM registrations; "
                 "UPDATE registrations SET params_json = (SELECT params_json FROM old "
                 "WHERE old.name = CASE registrations.name WHEN 'a' THEN 'b' ELSE 'a' END) "
                 "WHERE name IN ('a', 'b')");
  }
  SECTION("columns swapped") {
    backend.exec("UPDATE registrations SET params_json = auth_key, auth_key = params_json WHERE name IN ('a', 'b')");
  }
  SECTION("a sealed value altered") {
    backend.exec("UPDATE registrations SET params_json = substr(params_json, 1, length(params_json) - 6) "
                 "|| 'AAAAAA' WHERE name IN ('a', 'b')");
  }
  auto db = backend.open();
  stderr_capture capture{backend.dir().file("stderr.txt")};
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

TEMPLATE_TEST_CASE("rotate-key is refused while a registration's secrets do not open, and changes nothing",
                   "[store][secrets]", STORE_BACKENDS) {
  TestType backend;
  auto key_file = backend.key_file();
  auto id = make_store(backend);
  backend.exec("UPDATE registrations SET auth_key = params_json WHERE name = 'b'");
  auto before = backend.snapshot();
  auto key_before = read_file(key_file);
  CHECK_THROWS_MATCHES(rotate_secrets_key(backend.spec(), backend.options()), store_open_error,
                       Catch::Matchers::Message("cannot re-seal store '" + backend.name() + "': the secrets of "
                                                + "tenant/b cannot be opened with key " + id
                                                + "; delete that registration first"));
  CHECK(backend.snapshot().bytes == before.bytes);
  CHECK(read_file(key_file) == key_before);
  CHECK_FALSE(std::filesystem::exists(key_file + ".new"));
  CHECK(backend.open()->key()->id() == id);
}
