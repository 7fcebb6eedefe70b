#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace feedrouter;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// A fresh directory under /tmp, removed with its contents when the test ends.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = "/tmp/feedrouter-store-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

  std::string file(const std::string& name) const {
    return path_ + '/' + name;
  }

  std::string spec(const std::string& name) const {
    return "sqlite:" + file(name);
  }

private:
  std::string path_;
};

/// Closes a file descriptor when the test ends, also when a REQUIRE fails half-way.
class fd_guard {
public:
  explicit fd_guard(int fd) : fd_(fd) {
    // nop
  }

  ~fd_guard() {
    close();
  }

  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;

  int get() const {
    return fd_;
  }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_;
};

/// The bytes and modification time of a file and the names in its directory: what a refused open must not change.
struct file_snapshot {
  std::string bytes;
  std::int64_t mtime_ns = 0;
  std::vector<std::string> names;
};

file_snapshot take_snapshot(const temp_dir& dir, const std::string& name) {
  file_snapshot result;
  std::ifstream in{dir.file(name), std::ios::binary};
  result.bytes.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  struct stat info {};
  if (::stat(dir.file(name).c_str(), &info) == 0)
    result.mtime_ns = std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
  for (const auto& entry : std::filesystem::directory_iterator{dir.path()})
    result.names.push_back(entry.path().filename().string());
  std::sort(result.names.begin(), result.names.end());
  return result;
}

void check_unchanged(const file_snapshot& before, const file_snapshot& after) {
  CHECK(before.bytes.size() == after.bytes.size());
  CHECK((before.bytes == after.bytes));
  CHECK(before.mtime_ns == after.mtime_ns);
  CHECK(before.names == after.names);
}

/// Runs `sql` on `path` with a plain SQLite connection (the store must be closed); returns SQLite's error, if any.
std::optional<std::string> raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::optional<std::string> error;
  char* text = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
    error = sqlite3_errmsg(db);
  else if (sqlite3_exec(db, sql, nullptr, nullptr, &text) != SQLITE_OK)
    error = text != nullptr ? text : "unknown error";
  sqlite3_free(text);
  sqlite3_close(db);
  return error;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary};
  out << bytes;
}

registration_record make_record(std::string name) {
  registration_record rec;
  rec.trigger = {"guest", std::move(name)};
  rec.feed = "alarm";
  rec.params_json = R"({"cron":"* * * * *"})";
  rec.auth_key = "uuid:key";
  rec.auth_hash = "abcdef";
  rec.created = sys_ms{1'700'000'000'000ms};
  rec.status.date_changed = sys_ms{1'700'000'000'000ms};
  return rec;
}

store_op put(registration_record rec) {
  return {store_op::kind::put_registration, std::move(rec)};
}

store_op put_status(registration_record rec) {
  return {store_op::kind::put_status, std::move(rec)};
}

store_op erase(trigger_ref trigger) {
  store_op op{store_op::kind::erase, {}};
  op.record.trigger = std::move(trigger);
  return op;
}

std::vector<std::string> names_of(const std::vector<registration_record>& recs) {
  std::vector<std::string> result;
  for (const auto& rec : recs)
    result.push_back(rec.trigger.name);
  return result;
}

} // namespace

// -- specs ----------------------------------------------------------------------

TEST_CASE("a store spec other than sqlite:PATH is refused", "[store]") {
  for (std::string spec : {"", "sqlite:", "sqlite", "SQLITE:/tmp/x.db", "postgres://localhost/feedrouter", "/tmp/x.db",
                           " sqlite:/tmp/x.db"}) {
    INFO("spec: '" << spec << "'");
    CHECK_THROWS_MATCHES(open_store(spec), store_open_error,
                         Catch::Matchers::Message("invalid --store value '" + spec + "': expected sqlite:PATH"));
  }
}

// -- opening --------------------------------------------------------------------

TEST_CASE("a store in a missing directory cannot be opened", "[store]") {
  temp_dir dir;
  auto spec = dir.spec("missing/a.db");
  CHECK_THROWS_MATCHES(open_store(spec), store_open_error,
                       Catch::Matchers::Message("cannot open store '" + dir.file("missing/a.db")
                                                + "': unable to open database file (No such file or directory)"));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing")));
}

TEST_CASE("a directory cannot be opened as a store", "[store]") {
  temp_dir dir;
  std::filesystem::create_directory(dir.file("sub"));
  CHECK_THROWS_WITH(open_store(dir.spec("sub")), Contains("cannot open store '" + dir.file("sub") + "'"));
}

TEST_CASE("a read-only store file is refused", "[store]") {
  if (::geteuid() == 0) {
    WARN("skipped: root may write any file");
    return;
  }
  temp_dir dir;
  open_store(dir.spec("a.db"));
  std::filesystem::permissions(dir.file("a.db"), std::filesystem::perms::owner_read);
  auto before = take_snapshot(dir, "a.db");
  CHECK_THROWS_WITH(open_store(dir.spec("a.db")), Contains("read-only"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

TEST_CASE("a file that is not a SQLite database is refused and left unchanged", "[store]") {
  temp_dir dir;
  SECTION("a short text file") {
    write_file(dir.file("a.db"), "registrations: none\n");
  }
  SECTION("a file of several pages") {
    write_file(dir.file("a.db"), std::string(16384, 'x'));
  }
  auto before = take_snapshot(dir, "a.db");
  CHECK_THROWS_MATCHES(open_store(dir.spec("a.db")), store_open_error,
                       Catch::Matchers::Message("cannot open store '" + dir.file("a.db")
                                                + "': the file is not a SQLite database"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

TEST_CASE("a SQLite database of another program is refused and left unchanged", "[store]") {
  temp_dir dir;
  REQUIRE(raw_exec(dir.file("a.db"), "CREATE TABLE notes (body TEXT)") == std::nullopt);
  auto before = take_snapshot(dir, "a.db");
  CHECK_THROWS_WITH(open_store(dir.spec("a.db")), Contains("without a feedrouter schema"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

TEST_CASE("a store with a newer schema version is refused and left unchanged", "[store]") {
  temp_dir dir;
  {
    auto db = open_store(dir.spec("a.db"));
    REQUIRE(db->commit({put(make_record("tick"))}) == std::nullopt);
  }
  auto newer = sqlite_store::schema_version + 1;
  auto sql = "PRAGMA user_version = " + std::to_string(newer);
  SECTION("in WAL mode") {
    REQUIRE(raw_exec(dir.file("a.db"), sql.c_str()) == std::nullopt);
  }
  SECTION("in rollback-journal mode, which the store would switch to WAL") {
    sql += "; PRAGMA journal_mode = DELETE";
    REQUIRE(raw_exec(dir.file("a.db"), sql.c_str()) == std::nullopt);
  }
  auto before = take_snapshot(dir, "a.db");
  CHECK_THROWS_MATCHES(open_store(dir.spec("a.db")), store_open_error,
                       Catch::Matchers::Message("store '" + dir.file("a.db")
                                                + "' was written by a newer feedrouter (schema "
                                                + std::to_string(newer) + ", this build knows "
                                                + std::to_string(sqlite_store::schema_version) + ")"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

// -- locking --------------------------------------------------------------------

TEST_CASE("a second open of a store file in the same process reports it locked", "[store]") {
  temp_dir dir;
  auto first = open_store(dir.spec("a.db"));
  REQUIRE(first->commit({put(make_record("a"))}) == std::nullopt);
  CHECK_THROWS_MATCHES(open_store(dir.spec("a.db")), store_open_error,
                       Catch::Matchers::Message("store '" + dir.file("a.db") + "' is locked by another process"));
  SECTION("and the first store keeps working") {
    REQUIRE(first->commit({put(make_record("b"))}) == std::nullopt);
    CHECK(names_of(first->load_all()) == std::vector<std::string>{"a", "b"});
    first.reset();
    auto reopened = open_store(dir.spec("a.db"));
    CHECK(names_of(reopened->load_all()) == std::vector<std::string>{"a", "b"});
  }
  SECTION("even before the first store wrote anything") {
    first.reset();
    auto fresh = open_store(dir.spec("b.db"));
    CHECK_THROWS_WITH(open_store(dir.spec("b.db")), Contains("is locked by another process"));
  }
}

TEST_CASE("a store file open in another process is reported locked", "[store]") {
  temp_dir dir;
  auto spec = dir.spec("a.db");
  open_store(spec); // created and closed again: this process holds no SQLite connection when it forks
  int ready[2];
  int release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  fd_guard ready_read{ready[0]};
  fd_guard ready_write{ready[1]};
  fd_guard release_read{release[0]};
  fd_guard release_write{release[1]};
  auto child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child holds the store until the parent closes the release pipe; it reports through its exit code only.
    ready_read.close();
    release_write.close();
    int code = 0;
    try {
      auto held = open_store(spec);
      char signal = 'r';
      if (::write(ready_write.get(), &signal, 1) != 1)
        code = 2;
      ::read(release_read.get(), &signal, 1);
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  ready_write.close();
  release_read.close();
  char signal = 0;
  REQUIRE(::read(ready_read.get(), &signal, 1) == 1);
  CHECK_THROWS_MATCHES(open_store(spec), store_open_error,
                       Catch::Matchers::Message("store '" + dir.file("a.db") + "' is locked by another process"));
  release_write.close();
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_NOTHROW(open_store(spec));
}

// -- commit -----------------------------------------------------------------------

TEST_CASE("a failing batch leaves nothing applied", "[store]") {
  temp_dir dir;
  auto db = open_store(dir.spec("a.db"));
  auto a = make_record("a");
  auto b = make_record("b");
  REQUIRE(db->commit({put(a), put(b)}) == std::nullopt);
  auto a_status = a;
  a_status.status.state = registration_state::paused;
  a_status.status.fires = 3;
  auto bad = make_record("bad");
  bad.status.fires = -1; // refused by a CHECK constraint of the schema

  auto error = db->commit({put(make_record("c")), put_status(a_status), erase(b.trigger), put(bad)});
  REQUIRE(error);
  CHECK_THAT(*error, Contains("put_registration guest/bad") && Contains("CHECK constraint failed"));
  auto all = db->load_all();
  CHECK(names_of(all) == std::vector<std::string>{"a", "b"});
  CHECK(all[0].status.state == registration_state::active);
  CHECK(all[0].status.fires == 0);

  SECTION("and the store accepts the next batch") {
    REQUIRE(db->commit({put_status(a_status), erase(b.trigger)}) == std::nullopt);
    all = db->load_all();
    CHECK(names_of(all) == std::vector<std::string>{"a"});
    CHECK(all[0].status.fires == 3);
  }
  SECTION("and the failed batch stays unapplied after reopening") {
    db.reset();
    db = open_store(dir.spec("a.db"));
    CHECK(names_of(db->load_all()) == std::vector<std::string>{"a", "b"});
  }
}

TEST_CASE("a batch failing at its first operation reports it and applies nothing", "[store]") {
  auto db = open_store("sqlite::memory:");
  auto nameless = make_record("");
  auto error = db->commit({put(nameless), put(make_record("a"))});
  REQUIRE(error);
  CHECK_THAT(*error, StartsWith("put_registration guest/: ") && Contains("CHECK constraint failed"));
  CHECK(db->load_all().empty());
}

// -- load_all ---------------------------------------------------------------------

TEST_CASE("a stored row with an unknown state loads as disabled by the provider", "[store]") {
  temp_dir dir;
  auto rec = make_record("tick");
  rec.status.fires = 5;
  rec.status.last_fired = sys_ms{1'700'000'060'000ms};
  {
    auto db = open_store(dir.spec("a.db"));
    REQUIRE(db->commit({put(rec), put(make_record("tock"))}) == std::nullopt);
  }
  REQUIRE(raw_exec(dir.file("a.db"), "UPDATE registrations SET state = 'hibernating' WHERE name = 'tick'")
          == std::nullopt);
  REQUIRE(raw_exec(dir.file("a.db"), "UPDATE registrations SET reason_kind = 'ALIENS' WHERE name = 'tock'")
          == std::nullopt);
  auto db = open_store(dir.spec("a.db"));
  auto all = db->load_all();
  REQUIRE(names_of(all) == std::vector<std::string>{"tick", "tock"});
  for (const auto& loaded : all) {
    INFO(loaded.trigger.name);
    CHECK(loaded.status.state == registration_state::disabled);
    CHECK(loaded.status.reason.kind == reason_kind::automatic);
    CHECK(loaded.status.reason.status_code == 0);
  }
  CHECK_THAT(all[0].status.reason.message, Contains("'hibernating'"));
  CHECK_THAT(all[1].status.reason.message, Contains("'ALIENS'"));
  // the rest of the row is kept
  CHECK(all[0].auth_key == rec.auth_key);
  CHECK(all[0].status.fires == 5);
  CHECK(all[0].status.last_fired == rec.status.last_fired);
}
