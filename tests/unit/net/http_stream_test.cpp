#include "net/http_client.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/url.hpp"
#include "net/http_message.hpp"
#include "net/io_runtime.hpp"
#include "raw_http_server.hpp"
#include "self_signed_cert.hpp"

using namespace std::chrono_literals;

using feedrouter::http_client;
using feedrouter::http_client_options;
using feedrouter::http_request;
using feedrouter::io_runtime;
using feedrouter::line_stream_ptr;
using feedrouter::make_http_client;
using feedrouter::parse_url;
using feedrouter::stream_request;
using feedrouter::stream_update;
using feedrouter::test::make_self_signed_cert;
using feedrouter::test::raw_http_server;
using feedrouter::test::self_signed;

namespace {

/// Bound on every wait in these tests; reached only when something is broken.
constexpr auto test_deadline = 10s;

/// Pause between the pieces of a response, so that each piece tends to arrive in a read of its own. Pacing only:
/// every assertion holds whatever the pieces' arrival.
constexpr auto piece_gap = 50ms;

constexpr std::string_view chunked_head
  = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

constexpr std::string_view last_chunk = "0\r\n\r\n";

/// Returns `data` framed as one chunk of a chunked body.
std::string chunk(std::string_view data) {
  std::ostringstream out;
  out << std::hex << data.size() << "\r\n" << data << "\r\n";
  return out.str();
}

stream_request make_stream_request(const std::string& url_text, std::string method = "GET", std::string body = {}) {
  auto where = parse_url(url_text, "url");
  REQUIRE(where);
  stream_request req;
  req.destination = *where;
  req.message.method = std::move(method);
  req.message.body = std::move(body);
  return req;
}

/// Splits a request as raw_http_server received it into method, target, fields and body.
http_request parse_raw_request(std::string_view raw) {
  http_request req;
  auto head_end = raw.find("\r\n\r\n");
  REQUIRE(head_end != std::string_view::npos);
  req.body = std::string{raw.substr(head_end + 4)};
  auto head = raw.substr(0, head_end + 2);
  auto line_end = head.find("\r\n");
  auto request_line = head.substr(0, line_end);
  auto first = request_line.find(' ');
  auto second = request_line.find(' ', first + 1);
  req.method = std::string{request_line.substr(0, first)};
  req.target = std::string{request_line.substr(first + 1, second - first - 1)};
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    line_end = head.find("\r\n");
    auto line = head.substr(0, line_end);
    auto colon = line.find(':');
    REQUIRE(colon != std::string_view::npos);
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    req.fields.emplace_back(std::string{line.substr(0, colon)}, std::string{value});
    head.remove_prefix(line_end + 2);
  }
  return req;
}

/// Collects a stream's updates for the test thread. The handler shares the queue's state, so a test that gives up
/// early leaves no handler writing into a destroyed object, and it tells the queue when the stream lets go of it:
/// from then on no update can come.
class update_queue {
public:
  update_queue() : state_(std::make_shared<state>()) {
    // nop
  }

  /// Returns the handler for one stream.
  http_client::stream_handler handler() const {
    auto token = std::make_shared<release_token>(state_);
    return [s = state_, token](stream_update u) { s->push(std::move(u)); };
  }

  /// Returns the oldest update not yet taken, waiting up to `timeout` for one.
  std::optional<stream_update> pop(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> guard{state_->mutex};
    if (!state_->changed.wait_for(guard, timeout, [this] { return !state_->updates.empty(); }))
      return std::nullopt;
    auto u = std::move(state_->updates.front());
    state_->updates.pop_front();
    return u;
  }

  /// Returns how many updates came and were not taken yet.
  std::size_t size() const {
    std::lock_guard<std::mutex> guard{state_->mutex};
    return state_->updates.size();
  }

  /// Blocks until the stream destroyed its handler, or `timeout` passed; returns whether it did.
  bool wait_for_release(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> guard{state_->mutex};
    return state_->changed.wait_for(guard, timeout, [this] { return state_->released; });
  }

private:
  struct state {
    void push(stream_update u) {
      {
        std::lock_guard<std::mutex> guard{mutex};
        updates.push_back(std::move(u));
      }
      changed.notify_all();
    }

    std::mutex mutex;
    std::condition_variable changed;
    std::deque<stream_update> updates;
    bool released = false;
  };

  /// Lives as long as some copy of a handler does.
  struct release_token {
    explicit release_token(std::shared_ptr<state> s) : s(std::move(s)) {
      // nop
    }

    ~release_token() {
      {
        std::lock_guard<std::mutex> guard{s->mutex};
        s->released = true;
      }
      s->changed.notify_all();
    }

    release_token(const release_token&) = delete;
    release_token& operator=(const release_token&) = delete;

    std::shared_ptr<state> s;
  };

  std::shared_ptr<state> state_;
};

/// Takes the next update, failing the test when none comes in time.
stream_update next_update(update_queue& updates) {
  auto u = updates.pop(test_deadline);
  REQUIRE(u);
  return std::move(*u);
}

/// Calls read() and returns the update it yields.
stream_update read_update(const line_stream_ptr& stream, update_queue& updates) {
  stream->read();
  return next_update(updates);
}

/// Queues `bytes` on the first connection of `server` and waits until they went into its socket.
void write_flushed(raw_http_server& server, std::string bytes) {
  server.write(0, std::move(bytes));
  REQUIRE(server.wait_for_flushed(0, test_deadline));
}

/// Opens a stream to `server` (behavior::hold), waits for its request, sends a 200 chunked head and checks the
/// first update.
line_stream_ptr open_chunked_stream(http_client& client, raw_http_server& server, stream_request req,
                                    update_queue& updates) {
  auto stream = client.open_stream(std::move(req), updates.handler());
  REQUIRE(server.wait_for_requests(1, test_deadline));
  server.write(0, std::string{chunked_head});
  auto head = next_update(updates);
  REQUIRE(head.error == "");
  REQUIRE(head.status == 200);
  return stream;
}

/// A self-signed certificate in a fresh directory that is removed with it.
struct temp_cert {
  temp_cert() : files(make_self_signed_cert("", "localhost")) {
    // nop
  }

  ~temp_cert() {
    std::error_code ignored;
    std::filesystem::remove_all(files.dir, ignored);
  }

  temp_cert(const temp_cert&) = delete;
  temp_cert& operator=(const temp_cert&) = delete;

  self_signed files;
};

} // namespace

TEST_CASE("a stream reports the response head first and its lines only when read", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  auto req = make_stream_request(server.url("/db/_changes?feed=continuous&heartbeat=10000&since=now"));
  req.message.fields.emplace_back("Authorization", "Basic dXNlcjprZXk=");
  req.message.fields.emplace_back("Accept", "application/json");
  update_queue updates;
  auto stream = client->open_stream(std::move(req), updates.handler());
  REQUIRE(server.wait_for_requests(1, test_deadline));
  // The head and the first lines in one write: the lines wait in the client until read() asks for them.
  server.write(0, std::string{chunked_head} + chunk("{\"seq\":1}\n{\"seq\":2}\n"));
  auto head = next_update(updates);
  CHECK(head.error == "");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.lines.empty());
  CHECK_FALSE(head.ended);
  CHECK(updates.size() == 0);
  auto first = read_update(stream, updates);
  CHECK(first.error == "");
  CHECK(first.status == 0);
  CHECK(first.lines == std::vector<std::string>{"{\"seq\":1}", "{\"seq\":2}"});
  CHECK_FALSE(first.ended);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  auto sent = parse_raw_request(requests[0]);
  CHECK(sent.method == "GET");
  CHECK(sent.target == "/db/_changes?feed=continuous&heartbeat=10000&since=now");
  CHECK(sent.field("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(sent.field("Authorization") == "Basic dXNlcjprZXk=");
  CHECK(sent.field("Accept") == "application/json");
  CHECK(sent.body.empty());
  stream->close();
}

TEST_CASE("a stream sends the method, fields and body given", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  const std::string body = R"({"doc_ids":["a","b"]})";
  auto req = make_stream_request(server.url("/db/_changes?feed=continuous&filter=_doc_ids"), "POST", body);
  req.message.fields.emplace_back("Content-Type", "application/json");
  req.message.fields.emplace_back("Authorization", "Bearer t0ken");
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, std::move(req), updates);
  server.write(0, chunk("{\"seq\":\"1-a\",\"id\":\"a\"}\n"));
  auto first = read_update(stream, updates);
  CHECK(first.error == "");
  CHECK(first.lines == std::vector<std::string>{"{\"seq\":\"1-a\",\"id\":\"a\"}"});
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  auto sent = parse_raw_request(requests[0]);
  CHECK(sent.method == "POST");
  CHECK(sent.target == "/db/_changes?feed=continuous&filter=_doc_ids");
  CHECK(sent.field("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(sent.field("Content-Type") == "application/json");
  CHECK(sent.field("Authorization") == "Bearer t0ken");
  CHECK(sent.field("Content-Length") == std::to_string(body.size()));
  CHECK(sent.body == body);
  stream->close();
}

TEST_CASE("a stream joins lines split across chunks and writes, and skips heartbeats", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, make_stream_request(server.url("/db/_changes")), updates);

  // One line in three chunks; the second chunk also split between its size line and its data.
  stream->read();
  write_flushed(server, chunk("{\"seq\":1,"));
  std::this_thread::sleep_for(piece_gap);
  auto second = chunk("\"id\":\"do");
  auto size_line = second.find('\n') + 1;
  write_flushed(server, second.substr(0, size_line));
  std::this_thread::sleep_for(piece_gap);
  write_flushed(server, second.substr(size_line));
  std::this_thread::sleep_for(piece_gap);
  server.write(0, chunk("c-1\"}\n"));
  auto joined = next_update(updates);
  CHECK(joined.error == "");
  CHECK(joined.lines == std::vector<std::string>{"{\"seq\":1,\"id\":\"doc-1\"}"});
  CHECK_FALSE(joined.ended);

  // Several lines in one chunk, with CRLF line ends.
  server.write(0, chunk("{\"seq\":2}\r\n{\"seq\":3}\r\n{\"seq\":4}\r\n"));
  auto several = read_update(stream, updates);
  CHECK(several.error == "");
  CHECK(several.lines == std::vector<std::string>{"{\"seq\":2}", "{\"seq\":3}", "{\"seq\":4}"});

  // A CRLF split between two chunks.
  stream->read();
  write_flushed(server, chunk("{\"seq\":5}\r"));
  std::this_thread::sleep_for(piece_gap);
  server.write(0, chunk("\n"));
  auto split_crlf = next_update(updates);
  CHECK(split_crlf.error == "");
  CHECK(split_crlf.lines == std::vector<std::string>{"{\"seq\":5}"});

  // A read that gets only heartbeats keeps waiting for a real line.
  stream->read();
  write_flushed(server, chunk("\n") + chunk("\r\n") + chunk("\n\n"));
  std::this_thread::sleep_for(piece_gap);
  CHECK(updates.size() == 0);
  server.write(0, chunk("{\"seq\":6}\n"));
  auto after_heartbeats = next_update(updates);
  CHECK(after_heartbeats.error == "");
  CHECK(after_heartbeats.lines == std::vector<std::string>{"{\"seq\":6}"});
  CHECK_FALSE(after_heartbeats.ended);

  // The last chunk ends the stream, and the client closes its connection.
  server.write(0, std::string{last_chunk});
  auto end = read_update(stream, updates);
  CHECK(end.error == "");
  CHECK(end.lines.empty());
  CHECK(end.ended);
  CHECK(server.wait_for_close(0, test_deadline));
}

TEST_CASE("a response with a Content-Length ends after its last line, even one without a line break",
          "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  update_queue updates;
  auto stream = client->open_stream(make_stream_request(server.url("/db/_changes")), updates.handler());
  REQUIRE(server.wait_for_requests(1, test_deadline));
  const std::string body = "{\"seq\":1}\n\n{\"seq\":2}\n{\"seq\":3}";
  server.write(0, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
                    + "\r\n\r\n" + body);
  auto head = next_update(updates);
  CHECK(head.error == "");
  CHECK(head.status == 200);
  CHECK(head.lines.empty());
  CHECK_FALSE(head.ended);
  auto lines = read_update(stream, updates);
  CHECK(lines.error == "");
  CHECK(lines.lines == std::vector<std::string>{"{\"seq\":1}", "{\"seq\":2}"});
  CHECK_FALSE(lines.ended);
  auto end = read_update(stream, updates);
  CHECK(end.error == "");
  CHECK(end.lines == std::vector<std::string>{"{\"seq\":3}"});
  CHECK(end.ended);
  CHECK(server.wait_for_close(0, test_deadline));
}

TEST_CASE("a non-2xx response head ends the stream with its status and body", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  update_queue updates;
  auto stream = client->open_stream(make_stream_request(server.url("/missing/_changes")), updates.handler());
  REQUIRE(server.wait_for_requests(1, test_deadline));
  const std::string body = R"({"error":"not_found","reason":"Database does not exist."})";
  server.write(0, "HTTP/1.1 404 Object Not Found\r\nContent-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto refused = next_update(updates);
  CHECK(refused.error == "");
  CHECK(refused.status == 404);
  CHECK(refused.body == body);
  CHECK(refused.lines.empty());
  CHECK(refused.ended);
  // The client closes its connection after the one update, and no other follows.
  CHECK(server.wait_for_close(0, test_deadline));
  stream.reset();
  CHECK(updates.wait_for_release(test_deadline));
  CHECK(updates.size() == 0);
}

TEST_CASE("a refused stream connection is reported as a connect error", "[http_stream]") {
  io_runtime io{1};
  std::string url_text;
  {
    raw_http_server gone{raw_http_server::behavior::hold};
    url_text = gone.url("/db/_changes");
  }
  auto client = make_http_client(io);
  update_queue updates;
  auto stream = client->open_stream(make_stream_request(url_text), updates.handler());
  auto failed = next_update(updates);
  CHECK(failed.error == "connect: Connection refused");
  CHECK(failed.status == 0);
  CHECK(failed.lines.empty());
  CHECK_FALSE(failed.ended);
}

TEST_CASE("a stream request with a malformed method fails on an I/O thread without reaching the network",
          "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  update_queue updates;
  auto test_thread = std::this_thread::get_id();
  std::thread::id handler_thread;
  auto on_update = [&handler_thread, inner = updates.handler()](stream_update u) {
    handler_thread = std::this_thread::get_id();
    inner(std::move(u));
  };
  auto stream = client->open_stream(make_stream_request(server.url("/db/_changes"), "GET /x HTTP/1.1\r\nX:"),
                                    on_update);
  auto failed = next_update(updates);
  CHECK(failed.error.rfind("invalid method", 0) == 0);
  CHECK(failed.status == 0);
  // Written before the update was queued, read after it was taken: ordered by the queue's mutex.
  CHECK(handler_thread != test_thread);
  CHECK(server.connections() == 0);
}

TEST_CASE("a stream whose server falls silent fails with an idle timeout", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  auto req = make_stream_request(server.url("/db/_changes"));
  req.idle_timeout = 300ms;
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, std::move(req), updates);
  server.write(0, chunk("{\"seq\":1}\n"));
  auto first = read_update(stream, updates);
  CHECK(first.error == "");
  CHECK(first.lines == std::vector<std::string>{"{\"seq\":1}"});
  auto silent = read_update(stream, updates);
  CHECK(silent.error == "idle timeout");
  CHECK(silent.status == 0);
  CHECK(silent.lines.empty());
  CHECK_FALSE(silent.ended);
  CHECK(server.wait_for_close(0, test_deadline));
}

TEST_CASE("heartbeats keep a stream alive beyond its idle timeout", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  auto req = make_stream_request(server.url("/db/_changes?feed=continuous&heartbeat=50"));
  // Heartbeats twenty times as often as the idle timeout: only a stall of the test's threads for a whole idle
  // timeout could starve the stream. How long they go on is measured, not counted, so they cover three idle
  // timeouts however slowly the loop runs.
  constexpr auto idle_timeout = 1000ms;
  constexpr auto heartbeat = 50ms;
  constexpr int idle_timeouts_covered = 3;
  req.idle_timeout = idle_timeout;
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, std::move(req), updates);
  stream->read();
  const auto started = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - started < idle_timeouts_covered * idle_timeout) {
    server.write(0, chunk("\n"));
    std::this_thread::sleep_for(heartbeat);
  }
  CHECK(updates.size() == 0);
  server.write(0, chunk("{\"seq\":7}\n"));
  auto line = next_update(updates);
  CHECK(line.error == "");
  CHECK(line.lines == std::vector<std::string>{"{\"seq\":7}"});
  CHECK_FALSE(line.ended);
  stream->close();
}

TEST_CASE("a line growing beyond max_line fails the stream", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  auto req = make_stream_request(server.url("/db/_changes"));
  constexpr std::size_t max_line = 1024;
  req.max_line = max_line;
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, std::move(req), updates);
  // A line of exactly max_line bytes is fine.
  const std::string longest(max_line, 'a');
  server.write(0, chunk(longest + "\n"));
  auto first = read_update(stream, updates);
  CHECK(first.error == "");
  CHECK(first.lines == std::vector<std::string>{longest});
  // A line that goes on and on fails before its end comes.
  stream->read();
  write_flushed(server, chunk(std::string(max_line / 2, 'b')));
  std::this_thread::sleep_for(piece_gap);
  server.write(0, chunk(std::string(max_line, 'b')));
  auto failed = next_update(updates);
  CHECK(failed.error == "line longer than 1024 bytes");
  CHECK(failed.lines.empty());
  CHECK(server.wait_for_close(0, test_deadline));
}

// The limit holds for every line, not only for the part of one still waiting for its line break at the end of a read.
TEST_CASE("a complete line longer than max_line fails the stream", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  auto req = make_stream_request(server.url("/db/_changes"));
  constexpr std::size_t max_line = 100; // a line twice as long fits in one socket read
  req.max_line = max_line;
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, std::move(req), updates);
  SECTION("in one chunk") {
    server.write(0, chunk(std::string(2 * max_line, 'c') + "\n{\"seq\":1}\n"));
    auto failed = read_update(stream, updates);
    CHECK(failed.error == "line longer than 100 bytes");
    CHECK(failed.lines.empty());
  }
  SECTION("ending in a later read") {
    stream->read();
    write_flushed(server, chunk(std::string(max_line - 1, 'c')));
    std::this_thread::sleep_for(piece_gap);
    server.write(0, chunk("cc\n"));
    auto failed = next_update(updates);
    CHECK(failed.error == "line longer than 100 bytes");
    CHECK(failed.lines.empty());
  }
}

TEST_CASE("close() after the head closes the connection and no update follows", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, make_stream_request(server.url("/db/_changes")), updates);
  SECTION("with no read pending") {
    stream->close();
    REQUIRE(server.wait_for_close(0, test_deadline));
    server.write(0, chunk("{\"seq\":1}\n"));
    stream->read(); // after close(): does nothing
    stream->close(); // idempotent
  }
  SECTION("with a read pending") {
    stream->read();
    stream->close();
    REQUIRE(server.wait_for_close(0, test_deadline));
    server.write(0, chunk("{\"seq\":1}\n"));
  }
  // Once the stream let go of its handler, nothing can call it any more.
  stream.reset();
  REQUIRE(updates.wait_for_release(test_deadline));
  CHECK(updates.size() == 0);
}

TEST_CASE("a reader that does not read holds the sender back through TCP flow control", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  update_queue updates;
  auto stream = open_chunked_stream(*client, server, make_stream_request(server.url("/db/_changes")), updates);
  // More than the socket buffers can hold: net.ipv4.tcp_rmem allows up to 32 MiB, tcp_wmem 4 MiB.
  constexpr std::size_t total_bytes = 48 * 1024 * 1024;
  constexpr std::size_t chunk_bytes = 64 * 1024;
  // With nothing taken by the reader, the writes would all be through in milliseconds on loopback.
  constexpr auto stall_window = 1s;
  auto line_of = [](std::size_t i) {
    auto n = std::to_string(i);
    return R"({"seq":")" + n + R"(-g1AAAAFTeJzLYWBgYMpgTmHgz8tPSTV0MDQy1zMAQsMcoEwiQ","id":"doc-)" + n
           + R"(","changes":[{"rev":"1-967a00dff5e02add41819138abb3284d"}]})";
  };
  std::size_t lines_sent = 0;
  std::size_t bytes_sent = 0;
  while (bytes_sent < total_bytes) {
    std::string data;
    while (data.size() < chunk_bytes)
      data += line_of(lines_sent++) + '\n';
    bytes_sent += data.size();
    server.write(0, chunk(data));
  }
  server.write(0, std::string{last_chunk});
  CHECK_FALSE(server.wait_for_flushed(0, stall_window));
  auto stalled_at = server.bytes_written(0);
  INFO("the server got " << stalled_at << " bytes out before the client read");
  CHECK(stalled_at < bytes_sent);
  // Reading takes the rest, in order and complete.
  std::size_t lines_read = 0;
  std::size_t mismatches = 0;
  bool ended = false;
  while (!ended) {
    auto u = read_update(stream, updates);
    REQUIRE(u.error == "");
    for (const auto& line : u.lines)
      mismatches += line == line_of(lines_read++) ? 0 : 1;
    ended = u.ended;
  }
  CHECK(lines_read == lines_sent);
  CHECK(mismatches == 0);
  CHECK(server.wait_for_flushed(0, test_deadline));
}

TEST_CASE("a server that never sends the response head fails the stream with a timeout", "[http_stream]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::hold};
  auto client = make_http_client(io);
  auto req = make_stream_request(server.url("/db/_changes"));
  req.connect_timeout = 300ms;
  update_queue updates;
  auto stream = client->open_stream(std::move(req), updates.handler());
  REQUIRE(server.wait_for_requests(1, test_deadline));
  auto failed = next_update(updates);
  CHECK(failed.error == "timeout");
  CHECK(failed.status == 0);
  CHECK_FALSE(failed.ended);
  CHECK(server.wait_for_close(0, test_deadline));
}

TEST_CASE("a stream reads lines over TLS", "[http_stream]") {
  io_runtime io{1};
  temp_cert cert;
  raw_http_server server{raw_http_server::behavior::hold, cert.files.cert_file, cert.files.key_file};
  http_client_options opts;
  opts.ca_file = cert.files.cert_file;
  auto client = make_http_client(io, opts);
  update_queue updates;
  // The CA file verifies the operator's endpoints (such as the CouchDB an import reads) only.
  auto req = make_stream_request(server.url("/db/_changes"));
  req.owner = feedrouter::destination_owner::operator_config;
  auto stream = open_chunked_stream(*client, server, std::move(req), updates);
  server.write(0, chunk("{\"seq\":1}\n{\"seq\":2}\n"));
  auto lines = read_update(stream, updates);
  CHECK(lines.error == "");
  CHECK(lines.lines == std::vector<std::string>{"{\"seq\":1}", "{\"seq\":2}"});
  server.write(0, std::string{last_chunk});
  auto end = read_update(stream, updates);
  CHECK(end.error == "");
  CHECK(end.lines.empty());
  CHECK(end.ended);
}

TEST_CASE("a tenant's stream is verified against the system's store, not the operator's CA file", "[http_stream]") {
  io_runtime io{1};
  temp_cert cert;
  raw_http_server server{raw_http_server::behavior::hold, cert.files.cert_file, cert.files.key_file};
  http_client_options opts;
  opts.ca_file = cert.files.cert_file;
  auto client = make_http_client(io, opts);
  update_queue updates;
  auto stream = client->open_stream(make_stream_request(server.url("/db/_changes")), updates.handler());
  auto failed = next_update(updates);
  CHECK(failed.error.rfind("tls handshake: certificate verify failed", 0) == 0);
  CHECK(failed.failure == feedrouter::transport_failure::no_response);
  CHECK(server.requests().empty());
}
