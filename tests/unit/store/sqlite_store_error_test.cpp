// What only the SQLite store refuses: specs, files that are not a store, a locked file, damage, a file deleted or
// replaced while open. The errors every store shares are in store_error_test.cpp.

#include "store/sqlite_store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store_files.hpp"
#include "store_rows.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

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

/// What a child process reported: its exit code and the text it wrote.
struct child_report {
  int code = -1;
  std::string text;
};

/// The user and group a child runs as when this process is root; nullopt when it is not root.
struct unprivileged_ids {
  uid_t uid;
  gid_t gid;
};

/// Code of a child that could not give up root: the test fails then, it never passes without having tested.
constexpr int cannot_drop_root = 3;

/// When this process is root (as in CI), makes `dir` and its files belong to the user `nobody`, for whom file
/// permissions hold as they do for the service's own user, and returns that user; otherwise returns nullopt.
std::optional<unprivileged_ids> give_to_unprivileged_user(const temp_dir& dir) {
  if (::geteuid() != 0)
    return std::nullopt;
  const auto* nobody = ::getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  unprivileged_ids ids{nobody->pw_uid, nobody->pw_gid};
  REQUIRE(::chown(dir.path().c_str(), ids.uid, ids.gid) == 0);
  for (const auto& entry : std::filesystem::directory_iterator{dir.path()})
    REQUIRE(::chown(entry.path().c_str(), ids.uid, ids.gid) == 0);
  return ids;
}

/// Runs `body` in a forked child, as `ids` when given (dropping root first), and returns its exit code (0 once
/// `body` returned) and the text `body` returned.
template <class F>
child_report run_unprivileged(const std::optional<unprivileged_ids>& ids, F body) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  fd_guard read_end{pipe_fds[0]};
  fd_guard write_end{pipe_fds[1]};
  auto child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    read_end.close();
    auto say = [&](const std::string& text) { return ::write(write_end.get(), text.data(), text.size()); };
    if (ids && (::setgroups(0, nullptr) != 0 || ::setgid(ids->gid) != 0 || ::setuid(ids->uid) != 0
                || ::setuid(0) == 0)) {
      say("cannot give up root");
      ::_exit(cannot_drop_root);
    }
    say(body());
    ::_exit(0);
  }
  write_end.close();
  child_report report;
  char buffer[512];
  ssize_t got;
  while ((got = ::read(read_end.get(), buffer, sizeof buffer)) > 0)
    report.text.append(buffer, static_cast<std::size_t>(got));
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  report.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return report;
}

registration_record make_record(std::string name) {
  registration_record rec;
  rec.trigger = {"guest", std::move(name)};
  rec.feed = "alarm";
  rec.params_json = R"({"cron":"* * * * *"})";
  rec.auth_key = "uuid:key";
  rec.created = sys_ms{1'700'000'000'000ms};
  rec.status.date_changed = sys_ms{1'700'000'000'000ms};
  return rec;
}

/// Sends what this process writes to stderr into a file until it is destroyed, so a test can read its log lines.
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
    restore();
  }

  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  /// Restores stderr and returns what was written meanwhile.
  std::string finish() {
    restore();
    std::ifstream in{path_, std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  }

private:
  void restore() {
    if (saved_ < 0)
      return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }

  std::string path_;
  int saved_ = -1;
};

std::vector<std::string> names_of(const std::vector<registration_record>& recs) {
  std::vector<std::string> result;
  for (const auto& rec : recs)
    result.push_back(rec.trigger.name);
  return result;
}

} // namespace

// -- specs ----------------------------------------------------------------------
TEST_CASE("a store spec other than sqlite:PATH or a PostgreSQL URI is refused", "[store]") {
  for (std::string spec : {"", "sqlite:", "sqlite", "SQLITE:/tmp/x.db", "mysql://localhost/feedrouter", "/tmp/x.db",
                           " sqlite:/tmp/x.db", "postgresql:/localhost/feedrouter", "postgres:x"}) {
    INFO("spec: '" << spec << "'");
    CHECK_THROWS_MATCHES(open_store(spec), store_open_error,
                         Catch::Matchers::Message("invalid --store value '" + spec
                                                  + "': expected sqlite:PATH or postgresql://..."));
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
  temp_dir dir;
  open_store(dir.spec("a.db"));
  auto unprivileged = give_to_unprivileged_user(dir);
  std::filesystem::permissions(dir.file("a.db"), std::filesystem::perms::owner_read);
  auto before = take_snapshot(dir, "a.db");
  auto report = run_unprivileged(unprivileged, [&]() -> std::string {
    try {
      open_store(dir.spec("a.db"));
      return "opened";
    } catch (const store_open_error& e) {
      return e.what();
    }
  });
  INFO(report.text);
  CHECK(report.code == 0);
  CHECK(report.text == "cannot open store '" + dir.file("a.db") + "': the file is read-only");
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

TEST_CASE("an empty store file is refused and left unchanged, unless the store is to be initialised", "[store]") {
  temp_dir dir;
  write_file(dir.file("a.db"), "");
  auto before = take_snapshot(dir, "a.db");
  CHECK_THROWS_MATCHES(open_store(dir.spec("a.db")), store_open_error,
                       Catch::Matchers::Message("store '" + dir.file("a.db")
                                                + "' is an empty file (0 bytes): it was truncated or never written; "
                                                  "restore it from a backup, or start once with --init-store to "
                                                  "begin with an empty store"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
  SECTION("with init_store it becomes a new, empty store") {
    store_options opts;
    opts.init_store = true;
    auto db = open_store(dir.spec("a.db"), opts);
    CHECK(db->load_all().empty());
    REQUIRE(db->commit({put(make_record("a"))}) == std::nullopt);
    db.reset();
    CHECK(names_of(open_store(dir.spec("a.db"))->load_all()) == std::vector<std::string>{"a"});
  }
}

TEST_CASE("a store file truncated to nothing is refused, and the WAL beside it is kept", "[store]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  // A process that dies leaves its last transactions in the WAL; SQLite would delete that WAL beside an empty file.
  auto child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto code = 1;
    try {
      auto db = open_store(dir.spec("a.db"));
      code = db->commit({put(make_record("a"))}) ? 2 : 0;
      ::_exit(code); // without closing: no checkpoint
    } catch (...) {
      ::_exit(code);
    }
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::filesystem::resize_file(path, 0);
  auto wal = read_file(path + "-wal");
  REQUIRE_FALSE(wal.empty());
  CHECK_THROWS_WITH(open_store(dir.spec("a.db")), Contains("is an empty file (0 bytes)"));
  CHECK(read_file(path + "-wal") == wal);
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

// -- damage -----------------------------------------------------------------------

TEST_CASE("a store with a damaged page is refused at open, naming the damage, and left unchanged", "[store]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  {
    auto db = open_store(dir.spec("a.db"));
    auto a = make_record("a");
    REQUIRE(db->commit({put(a), put_dead_letter(a.trigger, make_letter(1))}) == std::nullopt);
  } // closing checkpoints the WAL into the file
  auto page_size = query_int(path, "PRAGMA page_size");
  auto table_page = query_int(path, "SELECT rootpage FROM sqlite_schema WHERE name = 'dead_letters'");
  REQUIRE(page_size > 0);
  REQUIRE(table_page > 1);
  clobber_page(path, table_page, page_size);
  auto before = take_snapshot(dir, "a.db");
  store_options opts;
  opts.full_check = GENERATE(false, true);
  INFO("full check: " << opts.full_check);
  CHECK_THROWS_WITH(open_store(dir.spec("a.db"), opts),
                    StartsWith("store '" + path + "' is damaged (SQLite " + (opts.full_check ? "integrity" : "quick")
                               + "_check: ")
                      && Contains("): restore it from a backup"));
  check_unchanged(before, take_snapshot(dir, "a.db"));
}

TEST_CASE("damage found while running is logged once and makes the store refuse every write", "[store]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto a = make_record("a");
  // Several times SQLite's page cache (2 MiB), so that a read after the damage needs pages from the file.
  constexpr int letters = 3000;
  constexpr std::size_t body_size = 4096;
  {
    auto db = open_store(dir.spec("a.db"));
    std::vector<store_op> ops{put(a)};
    for (int i = 1; i <= letters; ++i) {
      auto letter = make_letter(static_cast<std::uint64_t>(i));
      letter.event.body = std::string(body_size, 'b');
      ops.push_back(put_dead_letter(a.trigger, letter));
    }
    REQUIRE(db->commit(ops) == std::nullopt);
  }
  auto page_size = query_int(path, "PRAGMA page_size");
  auto pages = query_ints(path, "SELECT pageno FROM dbstat WHERE name IN ('dead_letters', "
                                "'sqlite_autoindex_dead_letters_1')");
  REQUIRE(pages.size() > static_cast<std::size_t>(letters));
  auto db = open_store(dir.spec("a.db")); // sound when opened
  REQUIRE(db->check() == std::nullopt);
  for (auto page : pages)
    clobber_page(path, page, page_size);

  stderr_capture capture{dir.file("stderr.txt")};
  auto loaded = db->load_dead_letters(a.trigger, 10);
  auto logged = capture.finish();
  CHECK(loaded.empty());
  CHECK(std::count(logged.begin(), logged.end(), '\n') == 1);
  CHECK_THAT(logged, Contains(" error cannot read the dead letters of guest/a from store '" + path + "': "));
  auto problem = db->check();
  REQUIRE(problem);
  CHECK_THAT(*problem, StartsWith("store '" + path + "' refuses every write from now on: SQLite reported ")
                         && Contains("malformed"));
  auto error = db->commit({put_event(a.trigger, make_event(letters + 1))});
  REQUIRE(error);
  CHECK_THAT(*error, StartsWith("the store refuses writes: SQLite reported "));
}

TEST_CASE("a pending read that meets damage fails, rather than answering that nothing is pending", "[store]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto a = make_record("a");
  // Several times SQLite's page cache (2 MiB), so that the read needs pages from the file.
  constexpr int events = 3000;
  constexpr std::size_t body_size = 4096;
  {
    auto db = open_store(dir.spec("a.db"));
    std::vector<store_op> ops{put(a)};
    for (int i = 1; i <= events; ++i) {
      auto event = make_event(static_cast<std::uint64_t>(i));
      event.body = std::string(body_size, 'b');
      ops.push_back(put_event(a.trigger, event));
    }
    REQUIRE(db->commit(ops) == std::nullopt);
  }
  auto page_size = query_int(path, "PRAGMA page_size");
  auto pages = query_ints(path, "SELECT pageno FROM dbstat WHERE name IN ('pending_events', "
                                "'sqlite_autoindex_pending_events_1')");
  auto db = open_store(dir.spec("a.db"));
  for (auto page : pages)
    clobber_page(path, page, page_size);
  stderr_capture capture{dir.file("stderr.txt")};
  auto loaded = db->load_pending(a.trigger, 0, events, events * body_size);
  auto logged = capture.finish();
  CHECK_FALSE(loaded.has_value());
  CHECK_THAT(logged, Contains(" error cannot read the pending events of guest/a from store '" + path + "': "));
  CHECK(db->check().has_value());
}

// -- the file while open ------------------------------------------------------------

TEST_CASE("a store whose file is deleted while open refuses every write from then on", "[store]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto db = open_store(dir.spec("a.db"));
  REQUIRE(db->commit({put(make_record("a"))}) == std::nullopt);
  REQUIRE(db->check() == std::nullopt);
  std::filesystem::remove(path);
  auto problem = db->check();
  REQUIRE(problem);
  CHECK(*problem
        == "store '" + path + "' refuses every write from now on: its file is gone (No such file or directory); "
                              "restore the file (or a backup) and restart the service");
  auto error = db->commit({put(make_record("b"))});
  REQUIRE(error);
  CHECK(*error == "the store refuses writes: its file is gone (No such file or directory)");
  SECTION("also once a file of that name is back") {
    open_store(dir.spec("a.db"));
    CHECK(db->commit({put(make_record("c"))}) == error);
    CHECK(db->check() == problem);
  }
}

TEST_CASE("a store whose file is replaced while open refuses every write from then on", "[store]") {
  temp_dir dir;
  auto path = dir.file("a.db");
  auto db = open_store(dir.spec("a.db"));
  REQUIRE(db->commit({put(make_record("a"))}) == std::nullopt);
  std::filesystem::copy_file(path, dir.file("copy.db"));
  std::filesystem::rename(dir.file("copy.db"), path);
  auto error = db->commit({put(make_record("b"))});
  REQUIRE(error);
  CHECK(*error == "the store refuses writes: its file was replaced by another file");
  auto problem = db->check();
  REQUIRE(problem);
  CHECK_THAT(*problem, StartsWith("store '" + path + "' refuses every write from now on: its file was replaced"));
}
