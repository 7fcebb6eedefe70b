#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace feedrouter::test {

/// One session of the superuser on one database, for tests that hold locks or run a statement in the background
/// while the code under test works. Every call throws std::runtime_error when the statement fails.
class postgres_session {
public:
  explicit postgres_session(const std::string& conninfo);
  ~postgres_session();

  postgres_session(const postgres_session&) = delete;
  postgres_session& operator=(const postgres_session&) = delete;

  /// Runs `sql` and returns its rows, each column as text ("" for NULL).
  std::vector<std::vector<std::string>> exec(const std::string& sql);

  /// Sends `sql` without waiting for its answer; finish() waits for it.
  void send(const std::string& sql);

  /// Waits for the answer to what send() sent; throws when it failed.
  void finish();

  /// Returns the process id of the server process serving this session.
  int pid() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A real PostgreSQL 15 server for tests (Debian's `postgresql` package, binaries in /usr/lib/postgresql/15/bin):
/// its own cluster in a temporary directory, listening on 127.0.0.1 and a free port, with its socket in that
/// directory too, so it never meets a system instance. PostgreSQL refuses to run as root and CI runs as root: then
/// the directory belongs to the `postgres` user and initdb and pg_ctl run as that user (runuser).
///
/// The cluster is copied from a template that initdb made once per build directory (initdb takes a second, a copy a
/// tenth of that). Tests log in over TCP as role_name with password() (SCRAM); the superuser `postgres` is reached
/// through the socket without a password, for setting up and inspecting. The server is stopped and its directory
/// removed by the destructor, and by a watchdog process when the test process dies without running it (a crash, a
/// kill): nothing outlives the test.
///
/// The helpers block and throw std::runtime_error on any failure; they set up and inspect tests, they do not check
/// feedrouter.
class postgres_server {
public:
  // -- constants --------------------------------------------------------------

  /// The role tests log in as; it owns every database create_database() makes.
  static constexpr const char* role_name = "feedrouter";

  /// How long pg_ctl may take to start or stop the server.
  static constexpr std::chrono::seconds pg_ctl_timeout{60};

  /// What start() sets up.
  struct options {
    /// Sync to disk as a production server does. Off by default: the tests' data need not survive a power cut, and
    /// syncing makes every commit wait for the disk.
    bool durable = false;
  };

  // -- constructors, destructors, and assignment operators --------------------

  /// Makes the cluster and starts the server; throws std::runtime_error, with the server's log, when it cannot.
  explicit postgres_server(options opts);
  postgres_server();

  /// Stops the server and removes its directory.
  ~postgres_server();

  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  // -- process ----------------------------------------------------------------

  /// Starts the server (again) on the same port; returns once it accepts connections.
  void start();

  /// Stops the server ("fast": sessions are ended, nothing is lost); does nothing when it does not run.
  void stop();

  /// Returns whether the server runs.
  bool running() const noexcept {
    return running_;
  }

  /// Returns the TCP port, the same for every start.
  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Returns role_name's password.
  const std::string& password() const noexcept {
    return password_;
  }

  /// Returns the temporary directory that holds the cluster, the socket and the log.
  const std::string& directory() const noexcept {
    return dir_;
  }

  /// Returns the server's log since the first start.
  std::string log_text() const;

  // -- databases --------------------------------------------------------------

  /// Creates an empty database owned by role_name, with a name of its own; returns that name.
  std::string create_database();

  /// Drops database `db`, ending the sessions still connected to it.
  void drop_database(const std::string& db);

  /// Returns the directory that holds the files of database `db` in the cluster.
  std::string database_directory(const std::string& db) const;

  /// Returns "postgresql://feedrouter@127.0.0.1:PORT/DB", without a password.
  std::string uri(const std::string& db) const;

  /// Writes password() to a new file at `path` with mode 0600, for --store-password-file.
  void write_password_file(const std::string& path) const;

  /// Runs `sql` (one or more statements) on database `db` as the superuser.
  void exec(const std::string& db, const std::string& sql) const;

  /// Runs the query `sql` on database `db` as the superuser; returns its rows, each column as text ("" for NULL).
  std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) const;

  /// Returns the single value `sql` yields on database `db`; throws when it yields no row.
  std::string query_value(const std::string& db, const std::string& sql) const;

  /// Opens a session of the superuser on database `db`.
  std::unique_ptr<postgres_session> open_session(const std::string& db) const;

private:
  /// Runs a PostgreSQL program from the server's bin directory with `args`, as the cluster's owner; throws with
  /// `what` and the log when it fails.
  void run_tool(const std::string& tool, std::vector<std::string> args, const std::string& what) const;

  /// Returns the template cluster, making it first when this build has none.
  std::string template_cluster() const;

  /// Starts the process that stops the server and removes the directory once this process is gone.
  void start_watchdog();

  /// Stops the server, ends the watchdog and removes the directory.
  void clean_up() noexcept;

  std::string conninfo(const std::string& db) const;

  options opts_;
  std::string dir_;
  std::string data_dir_;
  std::uint16_t port_ = 0;
  std::string password_;
  bool running_ = false;
  int databases_ = 0;
  int watchdog_fd_ = -1; ///< write end of the pipe whose end tells the watchdog that this process is gone
  pid_t watchdog_pid_ = -1;
};

} // namespace feedrouter::test
