#include "tests/support/couchdb_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <simdjson.h>

#include "core/auth_key.hpp"
#include "core/json.hpp"
#include "core/url.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/process.hpp"
#include "core/text.hpp"

namespace feedrouter::test {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Where `npm ci --prefix tests/support/couchdb` puts the server's start script.
constexpr std::string_view server_script = "/tests/support/couchdb/node_modules/pouchdb-server/bin/pouchdb-server";

/// The only address the server listens on.
constexpr std::string_view loopback = "127.0.0.1";

/// Pause between two asks of `GET /` during start(). The server has no readiness event (its log goes to a file), so
/// this bounds a retry, not a guess of how long start-up takes (about a second).
constexpr auto ready_retry_interval = 25ms;

/// How much of the server's stderr an error message carries.
constexpr std::size_t stderr_tail_bytes = 4096;

/// Bytes read from a socket per recv().
constexpr std::size_t read_chunk = 16 * 1024;

/// Written as the data directory's config.json before the first start: without it, pouchdb-server logs a line per
/// request to log.txt. Warnings and errors still go there.
constexpr std::string_view initial_config = R"({"log":{"level":"warning"}})";

constexpr std::string_view head_end = "\r\n\r\n";

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Owns one socket.
class unique_socket {
public:
  explicit unique_socket(int fd) : fd_(fd) {
    if (fd_ < 0)
      throw_errno("socket");
  }

  ~unique_socket() {
    ::close(fd_);
  }

  unique_socket(const unique_socket&) = delete;
  unique_socket& operator=(const unique_socket&) = delete;

  int get() const noexcept {
    return fd_;
  }

private:
  int fd_;
};

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, loopback.data(), &address.sin_addr);
  return address;
}

/// Returns the path of pouchdb-server's start script; throws when `scripts/dev build` has not installed it.
std::string server_script_path() {
  auto path = std::string{FEEDROUTER_SOURCE_DIR} + std::string{server_script};
  if (!std::filesystem::exists(path))
    throw std::runtime_error("pouchdb-server is not installed (" + path
                             + " is missing): run `scripts/dev build`, which runs npm ci in tests/support/couchdb");
  return path;
}

int remaining_ms(steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now()).count();
  if (left <= 0)
    return 0;
  return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

/// Returns the value of header field `name` in `head` (lower-cased), or "" when it is absent.
std::string field_value(std::string_view head, std::string_view name) {
  auto lower = ascii_lowercase(head);
  auto key = "\r\n" + std::string{name} + ":";
  auto pos = lower.find(key);
  if (pos == std::string::npos)
    return {};
  auto begin = lower.find_first_not_of(" \t", pos + key.size());
  auto end = lower.find("\r\n", begin);
  return lower.substr(begin, end - begin);
}

/// What the complete chunks at the front of a chunked body decode to.
struct dechunked {
  std::string data;
  bool finished = false; ///< whether the last (empty) chunk was among them
};

dechunked decode_chunks(std::string_view raw) {
  dechunked result;
  for (;;) {
    auto line_end = raw.find("\r\n");
    if (line_end == std::string_view::npos)
      return result;
    std::size_t size = 0;
    try {
      size = std::stoul(std::string{raw.substr(0, line_end)}, nullptr, 16);
    } catch (const std::exception&) {
      throw std::runtime_error("malformed chunk size in a CouchDB answer");
    }
    if (size == 0) {
      result.finished = true;
      return result;
    }
    auto data_begin = line_end + 2;
    if (raw.size() < data_begin + size + 2)
      return result;
    result.data.append(raw.substr(data_begin, size));
    raw.remove_prefix(data_begin + size + 2);
  }
}

/// Returns the percent-encoded path of document `id`; the `_design/` and `_local/` prefixes keep their slash.
std::string doc_path(std::string_view db, std::string_view id) {
  std::string prefix;
  for (std::string_view special : {"_design/", "_local/"}) {
    if (id.substr(0, special.size()) == special) {
      prefix = special;
      id.remove_prefix(special.size());
      break;
    }
  }
  return '/' + percent_encode(db) + '/' + prefix + percent_encode(id);
}

/// Returns the string member `name` of the JSON object `body`; throws naming `what` when there is none.
std::string string_member(std::string_view body, std::string_view name, std::string_view what) {
  auto members = parse_json_object(body, "answer");
  if (members) {
    if (auto raw = find_member(*members, name)) {
      if (auto text = json_as_string(*raw))
        return *text;
    }
  }
  throw std::runtime_error(std::string{what} + ": no string \"" + std::string{name} + "\" in " + std::string{body});
}

std::string tail(std::string text) {
  if (text.size() > stderr_tail_bytes)
    text.erase(0, text.size() - stderr_tail_bytes);
  return text;
}

/// One request on its own connection ("Connection: close"), answered into `couch_response`.
class exchange {
public:
  exchange(std::uint16_t port, std::string request)
    : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)),
      deadline_(steady_clock::now() + couchdb_server::request_timeout) {
    auto address = loopback_address(port);
    // Connecting on loopback completes or fails at once: there is no handshake to wait for.
    if (::connect(socket_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
      throw_errno("connect 127.0.0.1:" + std::to_string(port));
    send_all(request);
  }

  /// Reads the whole answer, up to the server closing the connection.
  couch_response read_all() {
    while (read_some()) {
      // nop
    }
    auto result = split_head();
    auto body = std::string_view{received_}.substr(result.head.size());
    if (field_value(result.head, "transfer-encoding").find("chunked") != std::string::npos) {
      auto decoded = decode_chunks(body);
      if (!decoded.finished)
        throw std::runtime_error("CouchDB closed the connection inside a chunked body");
      result.body = std::move(decoded.data);
    } else {
      result.body = body;
    }
    return result;
  }

  /// Reads the head and the first line of the body (or the whole body, when it ends before a line does), then stops.
  couch_response read_first_line() {
    for (;;) {
      bool more = read_some();
      auto end = received_.find(head_end);
      if (end == std::string::npos) {
        if (!more)
          throw std::runtime_error("CouchDB closed the stream inside its head: " + received_);
        continue;
      }
      auto head_size = end + head_end.size();
      auto head = std::string_view{received_}.substr(0, head_size);
      auto body = std::string_view{received_}.substr(head_size);
      auto text = field_value(head, "transfer-encoding").find("chunked") != std::string::npos
                    ? decode_chunks(body).data
                    : std::string{body};
      auto line_end = text.find('\n');
      if (line_end != std::string::npos || !more) {
        auto result = split_head();
        result.body = text.substr(0, line_end);
        return result;
      }
    }
  }

private:
  void send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      auto sent = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR)
          continue;
        throw_errno("send to CouchDB");
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  /// Appends what arrives before the deadline to received_; returns false at the end of the stream.
  bool read_some() {
    pollfd entry{socket_.get(), POLLIN, 0};
    auto ready = ::poll(&entry, 1, remaining_ms(deadline_));
    if (ready < 0) {
      if (errno == EINTR)
        return true;
      throw_errno("poll CouchDB socket");
    }
    if (ready == 0)
      throw std::runtime_error("no complete CouchDB answer within the request timeout; got: " + received_);
    std::array<char, read_chunk> buffer{};
    auto got = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
    if (got < 0) {
      if (errno == EINTR)
        return true;
      throw_errno("recv from CouchDB");
    }
    received_.append(buffer.data(), static_cast<std::size_t>(got));
    return got > 0;
  }

  /// Returns the answer's status and head; throws when no complete head was received.
  couch_response split_head() const {
    auto end = received_.find(head_end);
    if (end == std::string::npos || received_.rfind("HTTP/1.", 0) != 0)
      throw std::runtime_error("not an HTTP answer from CouchDB: " + received_);
    couch_response result;
    result.head = received_.substr(0, end + head_end.size());
    auto space = result.head.find(' ');
    result.status = std::stoi(result.head.substr(space + 1, 3));
    return result;
  }

  unique_socket socket_;
  steady_clock::time_point deadline_;
  std::string received_;
};

} // namespace

couchdb_server::couchdb_server(std::string data_dir) : data_dir_(std::move(data_dir)) {
  std::filesystem::create_directories(data_dir_);
}

couchdb_server::~couchdb_server() {
  try {
    stop();
  } catch (const std::exception&) {
    // A server that will not stop is killed by child_process's destructor; the test has its result already.
  }
}

// -- process ------------------------------------------------------------------

void couchdb_server::start() {
  if (running())
    throw std::logic_error("couchdb_server::start: the server already runs");
  auto script = server_script_path();
  if (port_ == 0)
    port_ = pick_free_port();
  auto config_path = data_dir_ + "/config.json";
  if (!std::filesystem::exists(config_path))
    std::ofstream{config_path} << initial_config << '\n';
  // child_process cannot set a working directory, and pouchdb-server writes config.json and log.txt into its own:
  // the shell moves into the data directory first. Its stdout joins stderr, so no unread pipe can ever fill up.
  process_options opts;
  opts.program = "/bin/sh";
  opts.args = {
    "-c", R"(cd "$1" && shift && exec "$@" 1>&2)", "pouchdb-server", data_dir_,
    "node", script,
    "--host", std::string{loopback},
    "--port", std::to_string(port_),
    "--dir", data_dir_,
    "--config", config_path,
    "--no-stdout-logs",
    "--no-color",
  };
  opts.stderr_path = data_dir_ + "/pouchdb-server.stderr";
  process_ = std::make_unique<child_process>(opts);
  await_ready();
}

void couchdb_server::await_ready() {
  auto deadline = steady_clock::now() + start_timeout;
  std::string last_error;
  for (;;) {
    if (!process_->running()) {
      auto status = process_->wait(0ms);
      // A port taken since the first start ends it this way too (EADDRINUSE, then a TypeError in its handler).
      throw std::runtime_error("pouchdb-server on port " + std::to_string(port_) + " ended during start-up (exit code "
                               + std::to_string(status ? status->code : -1) + ", signal "
                               + std::to_string(status ? status->signal : 0) + "); its stderr:\n"
                               + tail(stderr_text()));
    }
    try {
      // Without credentials: wrong ones (a test may set them) would be refused even here.
      auto probe = "GET / HTTP/1.1\r\nHost: " + std::string{loopback} + ':' + std::to_string(port_)
                   + "\r\nConnection: close\r\n\r\n";
      auto answer = exchange{port_, std::move(probe)}.read_all();
      if (answer.status == 200)
        return;
      last_error = "GET / answered " + std::to_string(answer.status);
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    if (steady_clock::now() >= deadline) {
      auto text = stderr_text();
      stop();
      throw std::runtime_error("pouchdb-server did not answer GET / within "
                               + std::to_string(start_timeout.count()) + " s (last try: " + last_error
                               + "); its stderr:\n" + tail(std::move(text)));
    }
    std::this_thread::sleep_for(ready_retry_interval);
  }
}

void couchdb_server::stop() {
  if (!process_)
    return;
  if (process_->running()) {
    process_->send_signal(SIGTERM);
    if (!process_->wait(stop_timeout)) {
      process_->send_signal(SIGKILL);
      process_->wait(stop_timeout);
    }
  }
  process_.reset();
}

bool couchdb_server::running() const {
  return process_ && process_->running();
}

std::string couchdb_server::url() const {
  return "http://" + std::string{loopback} + ':' + std::to_string(port_);
}

std::string couchdb_server::stderr_text() const {
  return process_ ? process_->stderr_text() : std::string{};
}

// -- requests -----------------------------------------------------------------

std::string couchdb_server::common_fields() const {
  std::string fields = "Host: " + std::string{loopback} + ':' + std::to_string(port_) + "\r\n";
  if (!authorization_.empty())
    fields += "Authorization: " + authorization_ + "\r\n";
  return fields;
}

couch_response couchdb_server::request(std::string_view method, std::string_view target, std::string_view body) {
  std::string text;
  text.reserve(256 + body.size());
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  text += common_fields();
  text += "Accept: application/json\r\nConnection: close\r\n";
  if (!body.empty())
    text += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "PUT" || method == "POST")
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  text += "\r\n";
  text.append(body);
  return exchange{port_, std::move(text)}.read_all();
}

couch_response couchdb_server::open_stream(std::string_view target) {
  std::string text = "GET " + std::string{target} + " HTTP/1.1\r\n" + common_fields()
                     + "Accept: application/json\r\nConnection: close\r\n\r\n";
  return exchange{port_, std::move(text)}.read_first_line();
}

couch_response couchdb_server::expect(std::string_view what, std::string_view method, std::string_view target,
                                      std::string_view body, std::initializer_list<int> expected) {
  auto answer = request(method, target, body);
  for (auto status : expected) {
    if (answer.status == status)
      return answer;
  }
  throw std::runtime_error(std::string{what} + ": " + std::string{method} + ' ' + std::string{target} + " answered "
                           + std::to_string(answer.status) + ' ' + answer.body);
}

void couchdb_server::create_db(std::string_view db) {
  expect("create_db", "PUT", '/' + percent_encode(db), {}, {201});
}

std::string couchdb_server::put_doc(std::string_view db, std::string_view id, std::string_view json) {
  auto answer = expect("put_doc", "PUT", doc_path(db, id), json, {201, 202});
  return string_member(answer.body, "rev", "put_doc");
}

std::string couchdb_server::post_doc(std::string_view db, std::string_view json) {
  auto answer = expect("post_doc", "POST", '/' + percent_encode(db), json, {201, 202});
  return string_member(answer.body, "id", "post_doc");
}

void couchdb_server::delete_doc(std::string_view db, std::string_view id, std::string_view rev) {
  expect("delete_doc", "DELETE", doc_path(db, id) + "?rev=" + percent_encode(rev), {}, {200, 202});
}

void couchdb_server::bulk_docs(std::string_view db, const std::vector<std::string>& docs_json) {
  std::string body = R"({"docs":[)";
  for (std::size_t i = 0; i < docs_json.size(); ++i) {
    if (i > 0)
      body += ',';
    body += docs_json[i];
  }
  body += "]}";
  auto answer = expect("bulk_docs", "POST", '/' + percent_encode(db) + "/_bulk_docs", body, {201, 202});
  // The status is 201 even when single documents failed: each result says so itself.
  simdjson::dom::parser parser;
  simdjson::dom::array results;
  if (parser.parse(answer.body).get_array().get(results))
    throw std::runtime_error("bulk_docs: the answer is not an array: " + answer.body);
  if (results.size() != docs_json.size())
    throw std::runtime_error("bulk_docs: " + std::to_string(results.size()) + " results for "
                             + std::to_string(docs_json.size()) + " documents");
  for (auto result : results) {
    if (result["error"].error() != simdjson::NO_SUCH_FIELD)
      throw std::runtime_error("bulk_docs: a document failed: " + simdjson::minify(result));
  }
}

std::string couchdb_server::last_seq(std::string_view db) {
  auto answer = expect("last_seq", "GET", '/' + percent_encode(db) + "/_changes?since=now&limit=1", {}, {200});
  auto members = parse_json_object(answer.body, "answer");
  const std::string* raw = members ? find_member(*members, "last_seq") : nullptr;
  if (raw == nullptr)
    throw std::runtime_error("last_seq: no last_seq in " + answer.body);
  if (auto text = json_as_string(*raw))
    return *text;
  return *raw;
}

void couchdb_server::put_design_filter(std::string_view db, std::string_view ddoc, std::string_view name,
                                       std::string_view js_source) {
  json_writer doc;
  doc.begin_object().key("filters").begin_object().key(name).value(js_source).end_object().end_object();
  put_doc(db, "_design/" + std::string{ddoc}, doc.str());
}

void couchdb_server::add_admin(std::string_view name, std::string_view password) {
  std::string value;
  append_json_string(value, password);
  expect("add_admin", "PUT", "/_config/admins/" + percent_encode(name), value, {200});
  authenticate_as(name, password);
}

void couchdb_server::authenticate_as(std::string_view name, std::string_view password) {
  authorization_ = name.empty() ? std::string{}
                                : basic_authorization(std::string{name} + ':' + std::string{password});
}

void couchdb_server::put_security(std::string_view db, std::string_view json) {
  expect("put_security", "PUT", '/' + percent_encode(db) + "/_security", json, {200});
}

} // namespace feedrouter::test
