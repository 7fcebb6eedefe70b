#pragma once

// A thin layer over libpq for the PostgreSQL store: owners of PGconn and PGresult, statements whose parameters are
// always bound (never put into the SQL text), and errors as values. Blocking: it runs on the store's own thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

struct pg_conn;
struct pg_result;

namespace feedrouter::pg {

/// What went wrong with a call, as one line without a password in it, and the server's SQLSTATE when it sent one.
struct error {
  std::string message;
  std::string sqlstate;

  /// Returns whether the server or the network ended the session (SQLSTATE class 08, or no server answer at all):
  /// the statement may or may not have run.
  bool connection_lost() const;
};

/// The rows a statement returned; owns libpq's PGresult. Values are read in text form.
class result {
public:
  explicit result(pg_result* raw) noexcept;

  /// Returns the number of rows.
  int rows() const noexcept;

  /// Returns whether the value at (`row`, `col`) is NULL.
  bool is_null(int row, int col) const noexcept;

  /// Returns the value at (`row`, `col`) as text; empty for NULL. Valid as long as this result.
  std::string_view view(int row, int col) const noexcept;

  /// Returns a copy of the value at (`row`, `col`); empty for NULL.
  std::string text(int row, int col) const;

  /// Returns the integer at (`row`, `col`): 0 for NULL or text that is not one (the schema holds only integers in
  /// the columns read this way).
  std::int64_t integer(int row, int col) const noexcept;

  /// Returns the integer at (`row`, `col`), nullopt for NULL.
  std::optional<std::int64_t> opt_integer(int row, int col) const noexcept;

  /// Returns how many rows an INSERT, UPDATE or DELETE changed.
  std::int64_t affected() const noexcept;

private:
  struct deleter {
    void operator()(pg_result* raw) const noexcept;
  };

  std::unique_ptr<pg_result, deleter> raw_;
};

/// Either the result of a statement or the error that prevented it.
class reply {
public:
  reply(result value) : data_(std::move(value)) {
    // nop
  }

  reply(pg::error err) : data_(std::move(err)) {
    // nop
  }

  explicit operator bool() const noexcept {
    return std::holds_alternative<result>(data_);
  }

  result& operator*() {
    return std::get<result>(data_);
  }

  const result& operator*() const {
    return std::get<result>(data_);
  }

  const result* operator->() const {
    return &std::get<result>(data_);
  }

  const pg::error& error() const {
    return std::get<pg::error>(data_);
  }

private:
  std::variant<result, pg::error> data_;
};

/// The parameters of one statement in order ($1, $2, ...), sent apart from its SQL text, all in text form.
class params {
public:
  params& text(std::string_view x);
  params& integer(std::int64_t x);
  params& integer(const std::optional<std::int64_t>& x);
  params& null();

  std::size_t size() const noexcept {
    return values_.size();
  }

  /// Returns the values as libpq takes them: a pointer per parameter, nullptr for NULL. Valid until the next change.
  std::vector<const char*> pointers() const;

private:
  std::vector<std::optional<std::string>> values_;
};

/// A statement prepared under its name once per session (see connection::prepare_on_connect); one without a name
/// (a transaction's COMMIT, which cannot be prepared) is sent as its text each time.
struct statement {
  const char* name;
  const char* sql;
};

/// A statement with its parameters, waiting to run in a pipeline.
struct call {
  const statement* stmt;
  params args;
};

/// Which call of a pipeline failed, and why; the calls after it did not run.
struct call_error {
  std::size_t index;
  pg::error error;
};

/// One session with a PostgreSQL server. Not thread-safe; every call blocks until the server answered.
class connection {
public:
  /// Connects with libpq's connection keywords, in order (later ones win over what an earlier "dbname" URI set).
  /// Returns the error, one line with any of `secrets` masked, when it fails.
  static std::variant<connection, error> open(const std::vector<std::pair<std::string, std::string>>& settings,
                                              const std::vector<std::string>& secrets);

  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  /// Runs `sql`, which may hold several statements and takes no parameters (schema steps, BEGIN, COMMIT).
  reply exec(const char* sql);

  /// Runs one statement with `args` bound to its parameters.
  reply exec(const char* sql, const params& args);

  /// Runs a prepared statement with `args` bound to its parameters.
  reply exec(const statement& stmt, const params& args);

  /// Runs `calls` in order within the caller's transaction, sent in pipelines of a bounded size so that a large
  /// batch costs a few round trips rather than one per call. Returns the first call that failed.
  std::optional<call_error> run_pipelined(const std::vector<call>& calls);

  /// Prepares `statements` now and again after every reconnect, so that exec(statement) and run_pipelined() find
  /// them in every session.
  std::optional<error> prepare_on_connect(std::vector<statement> statements);

  /// Runs each of `sql` (session settings such as SET statement_timeout, a LISTEN) now and again after every
  /// reconnect, before the statements are prepared. Returns the first error.
  std::optional<error> run_on_connect(std::vector<std::string> sql);

  /// Returns nullopt while the session is up; otherwise reconnects once (with the same settings) and returns the
  /// error when that fails.
  std::optional<error> ensure_open();

  /// Returns the session's socket, for waiting until the server sends something (a notification); -1 when the session
  /// has none.
  int socket() const noexcept;

  /// Reads what the server sent, without blocking, and returns the channels of the notifications that arrived, oldest
  /// first; the error when the session is gone.
  std::variant<std::vector<std::string>, error> take_notifications();

  /// Returns whether a transaction is open (or failed and not yet rolled back) on this session.
  bool in_transaction() const noexcept;

  /// Returns the process id of the server process serving this session.
  int server_pid() const noexcept;

private:
  struct closer {
    void operator()(pg_conn* raw) const noexcept;
  };

  connection(pg_conn* raw, std::vector<std::string> secrets) noexcept;

  /// Returns what libpq says about the session as one line, secrets masked.
  error session_error() const;

  /// Returns the error `raw` reports, or nullopt when it holds a successful result.
  std::optional<error> error_of(const pg_result* raw) const;

  reply to_reply(pg_result* raw) const;
  std::optional<error> prepare_all();
  std::optional<error> run_all_on_connect();
  std::optional<call_error> run_pipeline(const std::vector<call>& calls, std::size_t first, std::size_t end);

  std::unique_ptr<pg_conn, closer> raw_;
  std::vector<std::string> secrets_;
  std::vector<statement> statements_;
  std::vector<std::string> on_connect_;
};

/// Returns `text` with line breaks and tabs made single spaces and every occurrence of a non-empty secret replaced
/// by "***".
std::string one_line(std::string_view text, const std::vector<std::string>& secrets);

} // namespace feedrouter::pg
