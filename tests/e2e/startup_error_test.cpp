#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/secrets_key.hpp"
#include "store/secrets_key_file.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/e2e_postgres.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/process.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// The exit code of every start-up error.
constexpr int start_error = 2;

/// Runs feedrouter with `args` until it exits and checks that it failed to start: exit code 2, nothing on stdout,
/// exactly one line on stderr, which is returned.
std::string expect_start_error(e2e_fixture& fx, std::vector<std::string> args) {
  child_process child{feedrouter_command(std::move(args), fx.next_stderr_path())};
  auto status = child.wait(feedrouter_process::exit_timeout);
  auto text = child.stderr_text();
  INFO("stderr: " << text);
  REQUIRE(status);
  CHECK(status->exited());
  CHECK(status->code == start_error);
  CHECK_FALSE(child.read_line(0ms));
  CHECK(child.stdout_closed());
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.back() == '\n');
  CHECK(text.size() > 1);
  return text;
}

/// Returns the flags that start feedrouter on the fixture's store and controller, with `more` appended.
std::vector<std::string> store_args(e2e_fixture& fx, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                fx.store_spec()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// Starts feedrouter once to create its store with `count` registrations of alice, each an alarm with a payload of
/// `payload_bytes`, then stops it.
void make_store(e2e_fixture& fx, int count, std::size_t payload_bytes = 16) {
  auto fr = fx.start_feedrouter({"--no-verify-auth"});
  for (int i = 0; i < count; ++i) {
    auto body = alarm_body(yearly, R"({"filler":")" + std::string(payload_bytes, 'f') + R"("})");
    REQUIRE(fr->call(api_request("PUT", trigger_path({"alice", "t" + std::to_string(i)}), alice_key, body)).status
            == 201);
  }
  fr->stop_cleanly();
}

/// Overwrites page `page` (1-based, 4 KiB pages) of a stopped store with bytes from a fixed seed.
void write_random_page(const std::string& path, int page) {
  constexpr std::int64_t page_size = 4096;
  REQUIRE(static_cast<std::int64_t>(std::filesystem::file_size(path)) >= page * page_size);
  std::mt19937 random{static_cast<std::mt19937::result_type>(page)};
  std::string bytes(page_size, '\0');
  for (auto& byte : bytes)
    byte = static_cast<char>(random());
  std::fstream file{path, std::ios::in | std::ios::out | std::ios::binary};
  file.seekp((page - 1) * page_size);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

TEST_CASE("a bad flag makes feedrouter exit with code 2 and one line on stderr", "[e2e]") {
  e2e_fixture fx;
  auto store = fx.store_spec();
  const std::vector<std::vector<std::string>> bad_command_lines = {
    {"--no-such-flag"},
    {"--listen", "127.0.0.1"},
    {"--listen", "127.0.0.1:65536"},
    {"--api-host", "ftp://127.0.0.1:1"},
    {"--log-level", "loud"},
    {"--body-limit", "5"},
    {"--body-limit", "lots"},
    {"--store", "mysql://somewhere"},
  };
  for (auto args : bad_command_lines) {
    INFO("args: " << args.front() << ' ' << (args.size() > 1 ? args[1] : ""));
    // Every run names a store in the test's directory, so that none creates ./feedrouter.db.
    if (args.front() != "--store")
      args.insert(args.end(), {"--store", store});
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    // A --listen given twice: CLI11 takes the last; put the flag under test last instead.
    if (args.front() == "--listen") {
      std::rotate(args.begin(), args.begin() + 2, args.end());
    }
    expect_start_error(fx, args);
  }
}

TEST_CASE("a port already in use makes feedrouter exit with code 2 and one line on stderr", "[e2e]") {
  e2e_fixture fx;
  // The fake controller holds a port the OS gave it.
  auto taken = "127.0.0.1:" + std::to_string(fx.controller().port());
  auto text = expect_start_error(fx, {"--listen", taken, "--api-host", fx.controller().url(), "--store",
                                      fx.store_spec()});
  CHECK_THAT(text, Catch::Contains("feedrouter"));
}

TEST_CASE("a store locked by a running feedrouter makes a second one exit with code 2 naming the lock", "[e2e]") {
  e2e_fixture fx;
  auto first = fx.start_feedrouter();
  auto text = expect_start_error(fx, {"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                      fx.store_spec()});
  CHECK_THAT(text, Catch::Contains("locked"));
  // The first one is not disturbed.
  CHECK(first->process().running());
  CHECK(first->call(api_request("GET", "/ready")).status == 200);
  first->stop_cleanly();
}

// -- the store's integrity ------------------------------------------------------------------------------

TEST_CASE("random bytes in page 3 or 6 of a stopped store: the next start is refused naming the damage", "[e2e]") {
  e2e_fixture fx;
  // Enough registrations for a file of more than six pages.
  make_store(fx, 40, 1000);
  auto page = GENERATE(3, 6);
  INFO("page " << page);
  write_random_page(fx.store_path(), page);
  auto text = expect_start_error(fx, store_args(fx));
  CHECK_THAT(text, Catch::StartsWith("feedrouter: store '" + fx.store_path() + "' is damaged (SQLite quick_check: ")
                     && Catch::Contains("restore it from a backup"));
  // --check-store says the same, with the full check.
  auto check = expect_start_error(fx, store_args(fx, {"--check-store"}));
  CHECK_THAT(check, Catch::Contains("is damaged (SQLite integrity_check: "));
}

TEST_CASE("the --check-store flag refuses a store that does not exist, and makes none", "[e2e]") {
  e2e_fixture fx;
  auto text = expect_start_error(fx, store_args(fx, {"--check-store"}));
  CHECK_THAT(text, Catch::StartsWith("feedrouter: cannot open store '" + fx.store_path() + "'"));
  CHECK_FALSE(std::filesystem::exists(fx.store_path()));
  CHECK_FALSE(std::filesystem::exists(fx.store_path() + ".key"));
}

TEST_CASE("the --check-store flag exits 0 for a sound store, with one line on stdout, and starts nothing", "[e2e]") {
  e2e_fixture fx;
  make_store(fx, 2);
  child_process child{feedrouter_command(store_args(fx, {"--check-store"}), fx.next_stderr_path())};
  auto line = child.read_line(feedrouter_process::exit_timeout);
  auto status = child.wait(feedrouter_process::exit_timeout);
  INFO("stderr: " << child.stderr_text());
  REQUIRE(line);
  CHECK_THAT(*line, Catch::StartsWith("store '" + fx.store_spec() + "' is sound: 2 registrations, secrets key "));
  REQUIRE(status);
  CHECK(status->exited());
  CHECK(status->code == 0);
  CHECK(child.stderr_text().empty());
}

TEST_CASE("a store truncated to 0 bytes is refused at start unless --init-store", "[e2e]") {
  e2e_fixture fx;
  make_store(fx, 1);
  std::filesystem::resize_file(fx.store_path(), 0);
  auto text = expect_start_error(fx, store_args(fx));
  CHECK_THAT(text, Catch::Contains("store '" + fx.store_path() + "' is an empty file (0 bytes)")
                     && Catch::Contains("--init-store"));
  CHECK(std::filesystem::file_size(fx.store_path()) == 0);
  // Asked for, it starts with an empty store.
  auto fr = fx.start_feedrouter({"--init-store"});
  auto list = fr->call(api_request("GET", "/v1/triggers/alice", alice_key));
  CHECK(list.status == 200);
  CHECK(list.body == R"({"triggers":[]})");
  fr->stop_cleanly();
}

// -- the secrets key ---------------------------------------------------------------------------------------

TEST_CASE("a store copied without its key file refuses to start, naming the key file", "[e2e]") {
  e2e_fixture fx;
  make_store(fx, 1);
  auto copy = fx.file("copy.db");
  std::filesystem::copy_file(fx.store_path(), copy);
  auto text = expect_start_error(fx, {"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                      "sqlite:" + copy});
  CHECK_THAT(text, Catch::Contains("the key file '" + copy + ".key' does not exist"));
  CHECK_FALSE(std::filesystem::exists(copy + ".key"));
}

TEST_CASE("a store started with another key file refuses to start, naming it", "[e2e]") {
  e2e_fixture fx;
  make_store(fx, 1);
  auto other = fx.file("other.key");
  create_key_file(other, secrets_key::generate());
  auto text = expect_start_error(fx, store_args(fx, {"--secrets-key-file", other}));
  CHECK_THAT(text, Catch::StartsWith("feedrouter: secrets key file '" + other + "' holds key ")
                     && Catch::Contains("but store '" + fx.store_path() + "' is sealed with key "));
}

TEST_CASE("a secrets key file that group or others may read refuses to start", "[e2e]") {
  e2e_fixture fx;
  make_store(fx, 1);
  auto key_file = fx.store_path() + ".key";
  std::filesystem::permissions(key_file, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  auto text = expect_start_error(fx, store_args(fx));
  CHECK_THAT(text, Catch::Contains("secrets key file '" + key_file + "': may be accessed by group or others (mode "
                                   "0640); allow its owner only: chmod 600"));
}

TEST_CASE("an admin key file that group or others may read, that is empty or missing refuses to start, before the "
          "store is made", "[e2e][admin]") {
  e2e_fixture fx;
  auto key_file = fx.file("admin.key");
  SECTION("readable by others") {
    std::ofstream{key_file} << "0123456789abcdef\n";
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
                                             | std::filesystem::perms::others_read);
    auto text = expect_start_error(fx, store_args(fx, {"--admin-key-file", key_file}));
    CHECK(text == "feedrouter: --admin-key-file: admin key file '" + key_file
                    + "': may be accessed by group or others (mode 0604); allow its owner only: chmod 600 '"
                    + key_file + "'\n");
    CHECK(text.find("0123456789abcdef") == std::string::npos);
  }
  SECTION("empty") {
    std::ofstream{key_file} << "\n";
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_read);
    auto text = expect_start_error(fx, store_args(fx, {"--admin-key-file", key_file}));
    CHECK_THAT(text, Catch::StartsWith("feedrouter: --admin-key-file: admin key file '" + key_file
                                       + "': does not hold a key"));
  }
  SECTION("missing") {
    auto text = expect_start_error(fx, store_args(fx, {"--admin-key-file", key_file}));
    CHECK_THAT(text, Catch::Contains("admin key file '" + key_file + "': cannot open"));
  }
  CHECK_FALSE(std::filesystem::exists(fx.store_path()));
}

// -- PostgreSQL -----------------------------------------------------------------------------------------------

TEST_CASE("a PostgreSQL store that does not answer makes feedrouter exit with code 2 and one line, without the "
          "password",
          "[e2e][pg]") {
  e2e_fixture fx;
  auto port = std::to_string(pick_free_port());
  const std::string password = "Never-Shown-0123456789";
  auto text = expect_start_error(fx, {"--listen", "127.0.0.1:0", "--api-host", fx.controller().url(), "--store",
                                      "postgresql://feedrouter:" + password + "@127.0.0.1:" + port + "/feedrouter",
                                      "--secrets-key-file", fx.file("secrets.key")});
  CHECK_THAT(text, Catch::StartsWith("feedrouter: cannot connect to store 'postgresql://feedrouter@127.0.0.1:" + port
                                     + "/feedrouter': connection to server at \"127.0.0.1\", port " + port
                                     + " failed: Connection refused"));
  CHECK(text.find(password) == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(fx.file("secrets.key")));
}

TEST_CASE("a wrong PostgreSQL password makes feedrouter exit with code 2 and one line, without the password",
          "[e2e][pg]") {
  e2e_fixture fx;
  auto args = postgres_store_args(fx);
  const std::string wrong = "Wrong-Password-0123456789";
  std::ofstream{fx.file("wrong-password")} << wrong << '\n';
  std::filesystem::permissions(fx.file("wrong-password"), std::filesystem::perms::owner_read);
  args[3] = fx.file("wrong-password"); // the value of --store-password-file
  args.insert(args.end(), {"--listen", "127.0.0.1:0", "--api-host", fx.controller().url()});
  auto text = expect_start_error(fx, args);
  CHECK_THAT(text, Catch::StartsWith("feedrouter: cannot connect to store '" + args[1] + "': ")
                     && Catch::Contains("password authentication failed for user \"feedrouter\""));
  CHECK(text.find(wrong) == std::string::npos);
}

TEST_CASE("a PostgreSQL store without --secrets-key-file makes feedrouter exit with code 2 naming the flag",
          "[e2e][pg]") {
  e2e_fixture fx;
  auto args = postgres_store_args(fx);
  args.resize(4); // without --secrets-key-file
  args.insert(args.end(), {"--listen", "127.0.0.1:0", "--api-host", fx.controller().url()});
  auto text = expect_start_error(fx, args);
  CHECK_THAT(text, Catch::StartsWith("feedrouter: store '" + args[1] + "' needs --secrets-key-file"));
}
