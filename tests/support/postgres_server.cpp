#include "tests/support/postgres_server.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "core/crypto.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/process.hpp"

namespace feedrouter::test {

namespace {

using namespace std::chrono_literals;

/// Where Debian's postgresql-15 package puts initdb, pg_ctl and postgres (not on PATH).
constexpr const char* bin_dir = "/usr/lib/postgresql/15/bin/";

/// The system user that owns the cluster when the tests run as root (the server refuses to run as root).
constexpr const char* cluster_owner = "postgres";

constexpr const char* runuser = "/usr/sbin/runuser";

/// Random bytes in role_name's password.
constexpr std::size_t password_bytes = 16;

/// How much of the server's log an error message carries.
constexpr std::size_t log_tail_bytes = 4096;

bool is_root() {
  return ::geteuid() == 0;
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Creates a fresh directory from `pattern` (ending in XXXXXX), private to the cluster's owner.
std::string make_private_dir(std::string pattern) {
  if (::mkdtemp(pattern.data()) == nullptr)
    throw_errno("mkdtemp " + pattern);
  if (is_root()) {
    const auto* owner = ::getpwnam(cluster_owner);
    if (owner == nullptr)
      throw std::runtime_error(std::string{"no user '"} + cluster_owner + "': install the postgresql package");
    if (::chown(pattern.c_str(), owner->pw_uid, owner->pw_gid) != 0)
      throw_errno("chown " + pattern);
  }
  return pattern;
}

std::string tail(std::string text) {
  if (text.size() > log_tail_bytes)
    text.erase(0, text.size() - log_tail_bytes);
  return text;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Runs `program` with `args` to its end; throws with `what` and its stderr when it fails or outlasts `timeout`.
void run_program(const std::string& program, std::vector<std::string> args, const std::string& stderr_path,
                 const std::string& what, std::chrono::milliseconds timeout) {
  process_options opts;
  opts.program = program;
  opts.args = std::move(args);
  opts.stderr_path = stderr_path;
  child_process child{opts};
  auto status = child.wait(timeout);
  if (!status)
    throw std::runtime_error(what + ": did not finish in time; stderr: " + tail(child.stderr_text()));
  if (!status->exited() || status->code != 0)
    throw std::runtime_error(what + ": failed (exit " + std::to_string(status->code) + "); stderr: "
                             + tail(child.stderr_text()));
}

using rows = std::vector<std::vector<std::string>>;

/// Returns the rows of `result`; throws naming `sql` when it holds an error.
rows rows_of(PGresult* raw, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result{raw, &PQclear};
  auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error("postgres_server: '" + sql + "' failed: " + PQresultErrorMessage(result.get()));
  rows out;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    out.emplace_back();
    for (int col = 0; col < PQnfields(result.get()); ++col)
      out.back().emplace_back(PQgetvalue(result.get(), row, col), PQgetlength(result.get(), row, col));
  }
  return out;
}

} // namespace

// -- postgres_session -------------------------------------------------------------

struct postgres_session::impl {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn{nullptr, &PQfinish};
  std::string sent;
};

postgres_session::postgres_session(const std::string& conninfo) : impl_(std::make_unique<impl>()) {
  impl_->conn.reset(PQconnectdb(conninfo.c_str()));
  if (PQstatus(impl_->conn.get()) != CONNECTION_OK)
    throw std::runtime_error("postgres_server: cannot connect (" + conninfo
                             + "): " + PQerrorMessage(impl_->conn.get()));
}

postgres_session::~postgres_session() = default;

rows postgres_session::exec(const std::string& sql) {
  return rows_of(PQexec(impl_->conn.get(), sql.c_str()), sql);
}

void postgres_session::send(const std::string& sql) {
  if (PQsendQuery(impl_->conn.get(), sql.c_str()) != 1)
    throw std::runtime_error("postgres_server: cannot send '" + sql + "': " + PQerrorMessage(impl_->conn.get()));
  impl_->sent = sql;
}

void postgres_session::finish() {
  std::optional<std::runtime_error> failure;
  while (auto* result = PQgetResult(impl_->conn.get())) {
    try {
      rows_of(result, impl_->sent);
    } catch (const std::runtime_error& e) {
      if (!failure)
        failure = e;
    }
  }
  if (failure)
    throw *failure;
}

int postgres_session::pid() const {
  return PQbackendPID(impl_->conn.get());
}

// -- postgres_server --------------------------------------------------------------

postgres_server::postgres_server() : postgres_server(options{}) {
  // nop
}

postgres_server::postgres_server(options opts) : opts_(opts) {
  auto cluster = template_cluster();
  dir_ = make_private_dir("/tmp/feedrouter-pg-XXXXXX");
  data_dir_ = dir_ + "/data";
  try {
    start_watchdog();
    // As root, cp keeps the files' owner (the cluster's), which the server checks.
    run_program("/bin/cp", {"-a", cluster, data_dir_}, dir_ + "/cp.stderr", "copying the template cluster",
                pg_ctl_timeout);
    port_ = pick_free_port();
    password_ = random_hex(password_bytes);
    start();
    // A random hex password needs no quoting; ALTER ROLE takes no parameters.
    postgres_session{conninfo("postgres")}.exec(std::string{"CREATE ROLE "} + role_name + " LOGIN PASSWORD '"
                                                 + password_ + "'");
  } catch (...) {
    clean_up();
    throw;
  }
}

postgres_server::~postgres_server() {
  clean_up();
}

void postgres_server::clean_up() noexcept {
  if (dir_.empty())
    return;
  try {
    stop();
  } catch (const std::exception&) {
    // Left to the watchdog below, which runs `pg_ctl stop -m immediate` when the pipe closes without a line.
  }
  if (watchdog_fd_ >= 0) {
    // A line tells the watchdog that the server is stopped: it ends without doing anything.
    if (!running_)
      (void) ::write(watchdog_fd_, "\n", 1);
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
    int status = 0;
    ::waitpid(watchdog_pid_, &status, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  dir_.clear();
}

// -- process --------------------------------------------------------------------

void postgres_server::start() {
  if (running_)
    throw std::logic_error("postgres_server::start: the server already runs");
  auto settings = "-p " + std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1";
  if (!opts_.durable)
    settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  run_tool("pg_ctl",
           {"-D", data_dir_, "-l", dir_ + "/server.log", "-w", "-t", std::to_string(pg_ctl_timeout.count()), "-o",
            settings, "start"},
           "starting PostgreSQL");
  running_ = true;
}

void postgres_server::stop() {
  if (!running_)
    return;
  run_tool("pg_ctl", {"-D", data_dir_, "-m", "fast", "-w", "-t", std::to_string(pg_ctl_timeout.count()), "stop"},
           "stopping PostgreSQL");
  running_ = false;
}

std::string postgres_server::log_text() const {
  return read_all(dir_ + "/server.log");
}

void postgres_server::run_tool(const std::string& tool, std::vector<std::string> args, const std::string& what) const {
  auto program = std::string{bin_dir} + tool;
  if (!std::filesystem::exists(program))
    throw std::runtime_error(program + " is missing: install the postgresql package (scripts/dev build does)");
  if (is_root()) {
    args.insert(args.begin(), {"-u", cluster_owner, "--", program});
    program = runuser;
  }
  try {
    run_program(program, std::move(args), dir_ + "/" + tool + ".stderr", what, pg_ctl_timeout);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string{e.what()} + "; server log: " + tail(log_text()));
  }
}

std::string postgres_server::template_cluster() const {
  std::string cluster = FEEDROUTER_POSTGRES_TEMPLATE;
  if (std::filesystem::exists(cluster + "/PG_VERSION"))
    return cluster;
  // initdb writes as the cluster's owner into a directory of its own, which is then copied beside the template and
  // renamed into place: a test process running at the same time finds either no template or a whole one.
  auto work = make_private_dir("/tmp/feedrouter-pg-initdb-XXXXXX");
  auto staging = cluster + ".tmp-" + random_hex(8);
  try {
    auto initdb = std::string{bin_dir} + "initdb";
    std::vector<std::string> args{"-D",          work + "/data", "-U",    "postgres",   "--auth-local=trust",
                                  "--auth-host=scram-sha-256",   "-E",    "UTF8",       "--locale=C",
                                  "--no-sync",   "--wal-segsize=1"};
    if (is_root()) {
      args.insert(args.begin(), {"-u", cluster_owner, "--", initdb});
      initdb = runuser;
    }
    run_program(initdb, args, work + "/initdb.stderr", "initdb", pg_ctl_timeout);
    std::filesystem::create_directories(std::filesystem::path{cluster}.parent_path());
    run_program("/bin/cp", {"-a", work + "/data", staging}, work + "/cp.stderr", "copying the new cluster",
                pg_ctl_timeout);
    if (::rename(staging.c_str(), cluster.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST)
      throw_errno("rename " + staging);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(work, ignored);
    std::filesystem::remove_all(staging, ignored);
    throw;
  }
  std::error_code ignored;
  std::filesystem::remove_all(work, ignored);
  std::filesystem::remove_all(staging, ignored); // left when another process renamed its copy first
  return cluster;
}

void postgres_server::start_watchdog() {
  // The watchdog waits for a line on its stdin. The pipe's other end is only here (O_CLOEXEC keeps it from the
  // test's other children): when this process ends without writing the line, the read fails, and the watchdog
  // stops the server and removes its directory. Its own session keeps it out of a kill of the test's group.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw_errno("pipe2");
  auto pg_ctl = std::string{bin_dir} + "pg_ctl";
  std::vector<std::string> args{"/bin/sh", "-c",
                                R"(if ! read -r _; then dir=$1; shift; "$@" >/dev/null 2>&1; rm -rf "$dir"; fi)",
                                "postgres-watchdog", dir_};
  if (is_root())
    args.insert(args.end(), {runuser, "-u", cluster_owner, "--"});
  args.insert(args.end(), {pg_ctl, "-D", data_dir_, "-m", "immediate", "-w", "stop"});
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw_errno("fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::setsid();
    ::dup2(fds[0], STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_fd_ = fds[1];
  watchdog_pid_ = pid;
}

// -- databases ------------------------------------------------------------------

std::string postgres_server::conninfo(const std::string& db) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=" + db;
}

std::string postgres_server::create_database() {
  auto name = "db" + std::to_string(++databases_);
  // FILE_COPY copies the template's files instead of writing them through the WAL: the WAL stays small.
  postgres_session{conninfo("postgres")}.exec("CREATE DATABASE " + name + " OWNER " + role_name
                                               + " STRATEGY FILE_COPY");
  return name;
}

void postgres_server::drop_database(const std::string& db) {
  postgres_session{conninfo("postgres")}.exec("DROP DATABASE " + db + " WITH (FORCE)");
}

std::string postgres_server::database_directory(const std::string& db) const {
  auto oid = query_value("postgres", "SELECT oid FROM pg_database WHERE datname = '" + db + "'");
  return data_dir_ + "/base/" + oid;
}

std::string postgres_server::uri(const std::string& db) const {
  return std::string{"postgresql://"} + role_name + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

void postgres_server::write_password_file(const std::string& path) const {
  auto fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw_errno("create " + path);
  auto text = password_ + "\n";
  auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write " + path);
}

void postgres_server::exec(const std::string& db, const std::string& sql) const {
  postgres_session{conninfo(db)}.exec(sql);
}

std::vector<std::vector<std::string>> postgres_server::query(const std::string& db, const std::string& sql) const {
  return postgres_session{conninfo(db)}.exec(sql);
}

std::unique_ptr<postgres_session> postgres_server::open_session(const std::string& db) const {
  return std::make_unique<postgres_session>(conninfo(db));
}

std::string postgres_server::query_value(const std::string& db, const std::string& sql) const {
  auto rows = query(db, sql);
  if (rows.empty() || rows.front().empty())
    throw std::runtime_error("postgres_server: '" + sql + "' yielded no value");
  return rows.front().front();
}

} // namespace feedrouter::test
