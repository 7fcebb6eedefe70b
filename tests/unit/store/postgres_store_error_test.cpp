// What only the PostgreSQL store refuses: URIs, passwords and servers it cannot use, and databases that are not a
// store of this build. No message ever shows a password.

#include "store/postgres_store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store_backends.hpp"
#include "tests/support/free_port.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// Returns the message open_store() throws for `spec`, with `opts` completed by the backend (key file).
std::string open_error(const postgres_backend& backend, const std::string& spec, store_options opts) {
  if (opts.key_file.empty())
    opts.key_file = backend.key_file();
  try {
    open_store(spec, opts);
  } catch (const store_open_error& e) {
    return e.what();
  }
  FAIL("open_store(" << spec << ") did not throw");
  return {};
}

/// Returns `uri` with `password` put in as its user information's password.
std::string with_password(const std::string& uri, const std::string& password) {
  auto at = uri.find('@');
  return uri.substr(0, at) + ':' + password + uri.substr(at);
}

/// Sets an environment variable for the scope of a test.
class env_scope {
public:
  env_scope(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }

  ~env_scope() {
    ::unsetenv(name_);
  }

  env_scope(const env_scope&) = delete;
  env_scope& operator=(const env_scope&) = delete;

private:
  const char* name_;
};

} // namespace

// -- passwords ------------------------------------------------------------------

TEST_CASE("the password may come from the URI, a password file or libpq's password file", "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.key_file = backend.key_file();
  SECTION("the URI") {
    CHECK_NOTHROW(open_store(with_password(backend.spec(), postgres_backend::server().password()), opts));
  }
  SECTION("--store-password-file") {
    opts.password_file = backend.dir().file("password");
    CHECK_NOTHROW(open_store(backend.spec(), opts));
  }
  SECTION("PGPASSFILE") {
    auto pgpass = backend.dir().file("pgpass");
    write_file(pgpass, "127.0.0.1:*:*:" + std::string{postgres_server::role_name} + ":"
                         + postgres_backend::server().password() + "\n");
    std::filesystem::permissions(pgpass, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    env_scope env{"PGPASSFILE", pgpass};
    CHECK_NOTHROW(open_store(backend.spec(), opts));
  }
}

TEST_CASE("a wrong password is refused in one line that shows no password", "[store][pg]") {
  postgres_backend backend;
  const std::string wrong = "Wrong-Password-0123456789";
  std::string message;
  SECTION("in the URI") {
    message = open_error(backend, with_password(backend.spec(), wrong), {});
  }
  SECTION("in a password file") {
    write_file(backend.dir().file("wrong"), wrong + "\n");
    std::filesystem::permissions(backend.dir().file("wrong"), std::filesystem::perms::owner_read);
    store_options opts;
    opts.password_file = backend.dir().file("wrong");
    message = open_error(backend, backend.spec(), opts);
  }
  CHECK_THAT(message, StartsWith("cannot connect to store '" + backend.spec() + "': ")
                        && Contains("password authentication failed for user \"feedrouter\""));
  CHECK(message.find(wrong) == std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("a password in the URI and a password file at once are refused", "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.password_file = backend.dir().file("password");
  auto message = open_error(backend, with_password(backend.spec(), "Uri-Password-0123"), opts);
  CHECK(message == "store '" + backend.spec() + "': the URI holds a password and --store-password-file names another "
                   "source: give the password once");
}

TEST_CASE("a password file that is missing, shared or empty is refused, naming it", "[store][pg]") {
  postgres_backend backend;
  auto file = backend.dir().file("pw");
  std::string expected;
  SECTION("missing") {
    expected = "cannot open: No such file or directory";
  }
  SECTION("readable by others") {
    write_file(file, "secret\n");
    std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::others_read);
    expected = "may be accessed by group or others (mode 0404); allow its owner only: chmod 600 '" + file + "'";
  }
  SECTION("empty") {
    write_file(file, "\nsecret\n");
    std::filesystem::permissions(file, std::filesystem::perms::owner_read);
    expected = "holds no password on its first line";
  }
  store_options opts;
  opts.password_file = file;
  CHECK(open_error(backend, backend.spec(), opts) == "store password file '" + file + "': " + expected);
}

// -- servers --------------------------------------------------------------------

TEST_CASE("a server that does not answer is refused in one line", "[store][pg]") {
  postgres_backend backend;
  auto port = std::to_string(pick_free_port());
  auto spec = "postgresql://feedrouter:Not-Shown-0123@127.0.0.1:" + port + "/feedrouter";
  auto message = open_error(backend, spec, {});
  CHECK_THAT(message, StartsWith("cannot connect to store 'postgresql://feedrouter@127.0.0.1:" + port
                                 + "/feedrouter': connection to server at \"127.0.0.1\", port " + port
                                 + " failed: Connection refused"));
  CHECK(message.find("Not-Shown") == std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("a database that does not exist is refused", "[store][pg]") {
  postgres_backend backend;
  auto spec = backend.spec() + "-missing";
  store_options opts;
  opts.password_file = backend.dir().file("password");
  CHECK_THAT(open_error(backend, spec, opts),
             Contains("database \"" + backend.database() + "-missing\" does not exist"));
}

// -- URIs -----------------------------------------------------------------------

TEST_CASE("a malformed PostgreSQL URI is refused without showing its password", "[store][pg]") {
  postgres_backend backend;
  auto message = open_error(backend, "postgresql://u:Sec%zzret@127.0.0.1:1/db", {});
  CHECK_THAT(message, StartsWith("invalid --store value: "));
  CHECK(message.find("Sec") == std::string::npos);
  CHECK(message.find("zzret") == std::string::npos);
}

TEST_CASE("a PostgreSQL store is named without its password or options", "[store][pg]") {
  CHECK(store_display_name("postgresql://u:secret@db.example:6432/feedrouter?sslmode=verify-full&password=x")
        == "postgresql://u@db.example:6432/feedrouter");
  CHECK(store_display_name("postgres://db.example/feedrouter") == "postgresql://db.example/feedrouter");
  CHECK(store_display_name("postgresql://u@h1:5432,h2:5433/feedrouter") == "postgresql://u@h1,h2:5432,5433/feedrouter");
  CHECK(store_display_name("sqlite:/var/lib/feedrouter.db") == "sqlite:/var/lib/feedrouter.db");
}

TEST_CASE("a PostgreSQL store needs a named secrets key file", "[store][pg]") {
  postgres_backend backend;
  auto message = "store '" + backend.spec() + "' needs --secrets-key-file: every instance sharing a PostgreSQL store "
                 "seals with the same key, kept in a file of the same content on each";
  CHECK_THROWS_MATCHES(secrets_key_file_of(backend.spec(), {}), store_open_error, Catch::Matchers::Message(message));
  CHECK_THROWS_MATCHES(open_store(backend.spec(), {}), store_open_error, Catch::Matchers::Message(message));
}

// -- databases ------------------------------------------------------------------

TEST_CASE("a PostgreSQL store with a newer schema version is refused and left unchanged", "[store][pg]") {
  postgres_backend backend;
  backend.open();
  backend.exec("UPDATE schema_version SET version = version + 1");
  auto before = backend.snapshot();
  CHECK_THROWS_MATCHES(backend.open(), store_open_error,
                       Catch::Matchers::Message("store '" + backend.name()
                                                + "' was written by a newer feedrouter (schema "
                                                + std::to_string(postgres_store::schema_version + 1)
                                                + ", this build knows "
                                                + std::to_string(postgres_store::schema_version) + ")"));
  check_unchanged(before, backend.snapshot());
}

TEST_CASE("a database with a registrations table of something else is refused", "[store][pg]") {
  postgres_backend backend;
  postgres_backend::server().exec(backend.database(), "CREATE TABLE registrations (id integer)");
  CHECK_THROWS_MATCHES(backend.open(), store_open_error,
                       Catch::Matchers::Message("cannot open store '" + backend.name()
                                                + "': the database has a table 'registrations' but no feedrouter "
                                                  "schema version"));
}

TEST_CASE("checking or rotating a database without a store makes none", "[store][pg]") {
  postgres_backend backend;
  store_options opts;
  opts.create = false;
  CHECK_THROWS_MATCHES(backend.open(opts), store_open_error,
                       Catch::Matchers::Message("cannot open store '" + backend.name()
                                                + "': the database holds no feedrouter store"));
  CHECK(backend.query_value("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0");
  CHECK_FALSE(std::filesystem::exists(backend.key_file()));
}
