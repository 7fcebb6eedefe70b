#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace feedrouter::test {

class child_process;

/// What a CouchDB server answered to one request.
struct couch_response {
  int status = 0;   ///< HTTP status code
  std::string head; ///< status line and header fields, up to and including the blank line
  std::string body; ///< the whole body, de-chunked; for a stream only its first line (see couchdb_server::open_stream)
};

/// A real CouchDB-compatible server for tests: pouchdb-server (from the npm packages in tests/support/couchdb/,
/// installed by `scripts/dev build`) serving on 127.0.0.1 with its leveldb files in a data directory.
///
/// The data survives stop() and start(), and later starts reuse the port of the first, so a test can take the
/// database away from feedrouter and give it back at the same URL. The helpers block and throw std::runtime_error
/// on any answer they did not expect; they are for setting up and driving tests, not for checking feedrouter.
class couchdb_server {
public:
  /// How long start() waits for `GET /` to answer 200.
  static constexpr std::chrono::seconds start_timeout{60};

  /// How long stop() waits after SIGTERM before it sends SIGKILL.
  static constexpr std::chrono::seconds stop_timeout{5};

  /// How long one request may take, from connecting to the last byte of the answer.
  static constexpr std::chrono::seconds request_timeout{30};

  /// Creates `data_dir` if it is missing; starts nothing yet.
  explicit couchdb_server(std::string data_dir);

  /// Stops the server if it runs.
  ~couchdb_server();

  couchdb_server(const couchdb_server&) = delete;
  couchdb_server& operator=(const couchdb_server&) = delete;

  // -- process ----------------------------------------------------------------

  /// Starts the server and returns once it answers; throws std::runtime_error, with the tail of the server's
  /// stderr, when it does not within start_timeout, and when pouchdb-server is not installed.
  void start();

  /// Stops the server (SIGTERM, then SIGKILL after stop_timeout) and waits until it has ended; does nothing when it
  /// does not run.
  void stop();

  /// Returns whether the server process runs.
  bool running() const;

  /// Returns the server's port: 0 before the first start(), then the same port for every start.
  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Returns "http://127.0.0.1:PORT".
  std::string url() const;

  /// Returns the directory that holds the databases, the server's config.json and its log.
  const std::string& data_dir() const noexcept {
    return data_dir_;
  }

  /// Returns what the server wrote to stderr since the last start.
  std::string stderr_text() const;

  // -- requests ---------------------------------------------------------------

  /// Sends one request (`target` is the path and query) and returns the whole answer, whatever its status; throws
  /// only when the exchange itself fails. A non-empty `body` is sent as application/json.
  couch_response request(std::string_view method, std::string_view target, std::string_view body = {});

  /// Sends a GET for a streaming answer (e.g. `_changes?feed=continuous`) and returns its head and the first line
  /// of its body (the whole body when it has no line end, e.g. an error), then closes the connection.
  couch_response open_stream(std::string_view target);

  /// Creates database `db`.
  void create_db(std::string_view db);

  /// Writes document `id` with the JSON object `json` (which carries `_rev` when it replaces one); returns the
  /// new revision.
  std::string put_doc(std::string_view db, std::string_view id, std::string_view json);

  /// Adds the JSON object `json` as a new document with an id the server picks; returns that id.
  std::string post_doc(std::string_view db, std::string_view json);

  /// Deletes revision `rev` of document `id`.
  void delete_doc(std::string_view db, std::string_view id, std::string_view rev);

  /// Writes all of `docs_json` (JSON objects) in one `_bulk_docs` request; throws when any of them failed.
  void bulk_docs(std::string_view db, const std::vector<std::string>& docs_json);

  /// Returns the database's current update sequence as the text `_changes` gives it (a number for pouchdb-server,
  /// an opaque string for CouchDB 2+).
  std::string last_seq(std::string_view db);

  /// Writes design document `_design/<ddoc>` holding one filter function `name` with the JavaScript `js_source`.
  void put_design_filter(std::string_view db, std::string_view ddoc, std::string_view name,
                         std::string_view js_source);

  /// Makes `name` a server admin, which ends the "admin party", and authenticates later requests as that admin. The
  /// admin is kept in the data directory's config.json and so survives a restart.
  ///
  /// pouchdb-server 4.2.0 then answers 401 (never 403) to a database whose `_security` names other members. Wrong
  /// credentials get 401 everywhere, but a `feed=continuous` `_changes` request from anyone else who is not a member
  /// (anonymous, or a valid non-member user) crashes the whole server (an unhandled rejection).
  void add_admin(std::string_view name, std::string_view password);

  /// Sends Basic credentials `name`:`password` with every later request; an empty `name` makes them anonymous.
  void authenticate_as(std::string_view name, std::string_view password);

  /// Writes database `db`'s `_security` object.
  void put_security(std::string_view db, std::string_view json);

private:
  /// Sends a request and returns its answer when its status is one of `expected`, else throws naming `what`.
  couch_response expect(std::string_view what, std::string_view method, std::string_view target,
                        std::string_view body, std::initializer_list<int> expected);

  /// Polls `GET /` until it answers 200; throws when the deadline passes or the process ends first.
  void await_ready();

  /// Returns the request head fields shared by every request (Host, Authorization).
  std::string common_fields() const;

  std::string data_dir_;
  std::uint16_t port_ = 0;
  std::string authorization_; ///< "Basic ..." after add_admin() or authenticate_as() with a name, else empty
  std::unique_ptr<child_process> process_;
};

} // namespace feedrouter::test
