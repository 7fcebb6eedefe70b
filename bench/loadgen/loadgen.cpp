// loadgen: the benchmark's own HTTP load generator, for what wrk cannot do: an open-loop constant rate (requests are
// scheduled at fixed instants whatever the answers, so a slow server shows as latency and not as a lower rate), an
// exact number of requests with a different path or body each (registrations, hooks), a per-request timestamp in the
// body (to measure the time to the sink) and a per-request GitHub-style HMAC signature.
//
//   loadgen --url http://127.0.0.1:PORT [--method POST] (--path TEMPLATE | --paths-file FILE)
//           [--body TEMPLATE | --bodies-file FILE]
//           [--header "Name: value"]... [--connections C] [--threads T] [--rate R]
//           (--requests N | --duration SECONDS) [--timeout-ms MS] [--drain-timeout-ms MS] [--max-seconds S]
//           [--hmac-secret SECRET] [--hmac-header NAME] [--capture NAME] [--records FILE]
//
// Templates may contain {seq} (the request's number, 0, 1, ...), {sent_us} (wall clock in microseconds when the
// request is written) and {sched_us} (the instant it was scheduled for). With --paths-file, request `seq` uses line
// seq % lines; --bodies-file likewise for bodies. --rate 0 (the default) is closed loop: every connection sends its next request as soon as the answer
// to the previous one arrived.
//
// Prints one JSON object on stdout: counts by status, errors, elapsed time, the achieved rate, and latency
// percentiles from the scheduled instant and from the send. --records writes one CSV line per request:
// seq,sched_us,sent_us,done_us,status[,captured] (status 0: no answer). --capture NAME takes the first string value
// of a member NAME in each answer's body (e.g. "created" of a CREATE answer).
//
// Only loopback addresses are accepted: the benchmark never sends traffic elsewhere. Exit 0 when it ran (whatever the
// server answered), 2 for bad arguments, 1 when it could not connect at all.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using std::chrono::microseconds;

constexpr int usage_error = 2;
constexpr int connect_error = 1;

constexpr std::string_view usage
  = "usage: loadgen --url http://127.0.0.1:PORT [--method M] (--path T | --paths-file F) [--body T | --bodies-file F] "
    "[--header 'N: V']... [--connections C] [--threads T] [--rate R] (--requests N | --duration S) "
    "[--timeout-ms MS] [--drain-timeout-ms MS] [--max-seconds S] [--hmac-secret S] [--hmac-header NAME] [--capture NAME] "
    "[--records FILE]";

// -- options --------------------------------------------------------------------

struct options {
  std::string host;
  std::string port;
  std::string method = "GET";
  std::vector<std::string> paths; ///< templates; request seq uses paths[seq % size]
  std::vector<std::string> bodies; ///< templates; request seq uses bodies[seq % size]; empty: no body
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t connections = 8;
  std::size_t threads = 1;
  double rate = 0; ///< requests per second; 0 = closed loop
  std::optional<std::uint64_t> requests;
  std::optional<double> duration_s;
  long timeout_ms = 10000;
  long drain_timeout_ms = 30000;
  long max_seconds = 900; ///< hard cap on the whole run, whatever else is asked
  std::string hmac_secret;
  std::string hmac_header = "X-Hub-Signature-256";
  std::string capture;
  std::string records;
};

[[noreturn]] void fail_usage(const std::string& message) {
  std::cerr << "loadgen: " << message << '\n' << usage << std::endl;
  std::exit(usage_error);
}

double parse_double(const std::string& name, const std::string& text) {
  try {
    std::size_t used = 0;
    auto value = std::stod(text, &used);
    if (used != text.size() || value < 0)
      throw std::invalid_argument{text};
    return value;
  } catch (const std::exception&) {
    fail_usage(name + " needs a number >= 0, got '" + text + "'");
  }
}

/// Splits "http://HOST:PORT" (loopback only) into host and port.
void parse_url(options& opts, const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    fail_usage("--url must start with http://, got '" + url + "'");
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  if (colon == std::string::npos)
    fail_usage("--url needs a port, got '" + url + "'");
  opts.host = rest.substr(0, colon);
  opts.port = rest.substr(colon + 1);
  if (opts.host != "localhost" && opts.host.rfind("127.", 0) != 0)
    fail_usage("--url must name a loopback address (127.x.x.x or localhost), got '" + opts.host + "'");
}

options parse_args(int argc, char** argv) {
  options opts;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "-h" || name == "--help") {
      std::cout << usage << std::endl;
      std::exit(0);
    }
    if (i + 1 == argc)
      fail_usage(name + " needs a value");
    std::string value = argv[++i];
    if (name == "--url") {
      parse_url(opts, value);
      have_url = true;
    } else if (name == "--method") {
      opts.method = value;
    } else if (name == "--path") {
      opts.paths = {value};
    } else if (name == "--paths-file") {
      std::ifstream in{value};
      if (!in)
        fail_usage("cannot read --paths-file " + value);
      opts.paths.clear();
      for (std::string line; std::getline(in, line);)
        if (!line.empty())
          opts.paths.push_back(line);
    } else if (name == "--body") {
      opts.bodies = {value};
    } else if (name == "--bodies-file") {
      std::ifstream in{value};
      if (!in)
        fail_usage("cannot read --bodies-file " + value);
      opts.bodies.clear();
      for (std::string line; std::getline(in, line);)
        if (!line.empty())
          opts.bodies.push_back(line);
      if (opts.bodies.empty())
        fail_usage("--bodies-file " + value + " has no lines");
    } else if (name == "--header") {
      auto colon = value.find(':');
      if (colon == std::string::npos || colon == 0)
        fail_usage("--header must be 'Name: value', got '" + value + "'");
      auto field = value.substr(colon + 1);
      field.erase(0, field.find_first_not_of(' '));
      opts.headers.emplace_back(value.substr(0, colon), field);
    } else if (name == "--connections") {
      opts.connections = static_cast<std::size_t>(parse_double(name, value));
    } else if (name == "--threads") {
      opts.threads = static_cast<std::size_t>(parse_double(name, value));
    } else if (name == "--rate") {
      opts.rate = parse_double(name, value);
    } else if (name == "--requests") {
      opts.requests = static_cast<std::uint64_t>(parse_double(name, value));
    } else if (name == "--duration") {
      opts.duration_s = parse_double(name, value);
    } else if (name == "--timeout-ms") {
      opts.timeout_ms = static_cast<long>(parse_double(name, value));
    } else if (name == "--drain-timeout-ms") {
      opts.drain_timeout_ms = static_cast<long>(parse_double(name, value));
    } else if (name == "--max-seconds") {
      opts.max_seconds = std::max(1L, static_cast<long>(parse_double(name, value)));
    } else if (name == "--hmac-secret") {
      opts.hmac_secret = value;
    } else if (name == "--hmac-header") {
      opts.hmac_header = value;
    } else if (name == "--capture") {
      opts.capture = value;
    } else if (name == "--records") {
      opts.records = value;
    } else {
      fail_usage("unknown argument '" + name + "'");
    }
  }
  if (!have_url)
    fail_usage("--url is required");
  if (opts.paths.empty())
    fail_usage("--path or a non-empty --paths-file is required");
  if (opts.requests.has_value() == opts.duration_s.has_value())
    fail_usage("give exactly one of --requests and --duration");
  if (opts.connections == 0 || opts.connections > 20000)
    fail_usage("--connections must be 1 to 20000");
  if (opts.threads == 0 || opts.threads > 64)
    fail_usage("--threads must be 1 to 64");
  opts.threads = std::min(opts.threads, opts.connections);
  return opts;
}

// -- templates ------------------------------------------------------------------

/// A template split into literal text and placeholders, so that filling it in is a few appends.
class text_template {
public:
  enum class slot { literal, seq, sent_us, sched_us };

  explicit text_template(const std::string& text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto open = text.find('{', pos);
      if (open == std::string::npos) {
        parts_.push_back({slot::literal, text.substr(pos)});
        break;
      }
      auto close = text.find('}', open);
      auto name = close == std::string::npos ? std::string{} : text.substr(open + 1, close - open - 1);
      slot kind = name == "seq" ? slot::seq : name == "sent_us" ? slot::sent_us : name == "sched_us" ? slot::sched_us
                                                                                                     : slot::literal;
      if (kind == slot::literal) {
        // Not a placeholder (JSON braces): keep the brace as text.
        parts_.push_back({slot::literal, text.substr(pos, open + 1 - pos)});
        pos = open + 1;
        continue;
      }
      if (open > pos)
        parts_.push_back({slot::literal, text.substr(pos, open - pos)});
      parts_.push_back({kind, {}});
      pos = close + 1;
    }
  }

  void render(std::string& out, std::uint64_t seq, std::int64_t sent_us, std::int64_t sched_us) const {
    out.clear();
    for (const auto& [kind, text] : parts_) {
      switch (kind) {
        case slot::literal:
          out += text;
          break;
        case slot::seq:
          out += std::to_string(seq);
          break;
        case slot::sent_us:
          out += std::to_string(sent_us);
          break;
        case slot::sched_us:
          out += std::to_string(sched_us);
          break;
      }
    }
  }

private:
  std::vector<std::pair<slot, std::string>> parts_;
};

std::string hmac_sha256_header(const std::string& secret, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

/// Returns the first string value of member `name` in `body`, found textually ("name":"value"); empty when absent.
std::string capture_member(const std::string& body, const std::string& name) {
  auto key = '"' + name + '"';
  auto at = body.find(key);
  if (at == std::string::npos)
    return {};
  at = body.find_first_not_of(" \t\r\n", at + key.size());
  if (at == std::string::npos || body[at] != ':')
    return {};
  at = body.find_first_not_of(" \t\r\n", at + 1);
  if (at == std::string::npos || body[at] != '"')
    return {};
  auto end = body.find('"', at + 1);
  if (end == std::string::npos)
    return {};
  auto value = body.substr(at + 1, end - at - 1);
  // Keep the CSV well-formed whatever came back.
  std::replace(value.begin(), value.end(), ',', ';');
  return value;
}

// -- clocks ---------------------------------------------------------------------

/// Wall-clock microseconds derived from the steady clock and one anchor, so that intervals never jump while the
/// values still compare with the sink's wall-clock timestamps.
struct clock_anchor {
  steady::time_point steady0 = steady::now();
  std::int64_t wall0_us
    = std::chrono::duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  std::int64_t wall_us(steady::time_point t) const {
    return wall0_us + std::chrono::duration_cast<microseconds>(t - steady0).count();
  }
};

// -- the run --------------------------------------------------------------------

struct record {
  std::uint64_t seq;
  std::int64_t sched_us;
  std::int64_t sent_us;
  std::int64_t done_us;
  int status; ///< 0: no answer (connection error, timeout)
  std::string captured;
};

struct pending {
  std::uint64_t seq;
  steady::time_point scheduled;
};

struct shared_run {
  const options& opts;
  std::vector<text_template> paths;
  std::vector<text_template> bodies;
  clock_anchor clock;
  steady::time_point start;
  steady::time_point stop_scheduling; ///< with --duration
  std::atomic<std::uint64_t> next_seq{0}; ///< closed loop: the next request number, shared by all connections
  std::atomic<std::size_t> connected{0};
  std::atomic<std::size_t> connect_failures{0};
};

class worker;

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(worker& owner, asio::io_context& io) : owner_(owner), stream_(io) {}

  void start(const tcp::resolver::results_type& endpoints);
  bool idle() const { return connected_ && !busy_; }
  void send(pending job);

private:
  void on_written(beast::error_code ec);
  void on_read(beast::error_code ec);
  void finish(int status, std::string captured);
  void reconnect();

  worker& owner_;
  beast::tcp_stream stream_;
  tcp::resolver::results_type endpoints_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  pending job_{};
  std::int64_t sent_us_ = 0;
  bool connected_ = false;
  bool busy_ = false;
};

class worker {
public:
  worker(shared_run& run, std::size_t index, std::size_t connections)
    : run_(run), index_(index), timer_(io_), connection_count_(connections), work_(asio::make_work_guard(io_)) {}

  /// Connects, then runs until every request of this worker is answered or the drain timeout passed.
  void run(const tcp::resolver::results_type& endpoints) {
    for (std::size_t i = 0; i < connection_count_; ++i) {
      connections_.push_back(std::make_shared<connection>(*this, io_));
      connections_.back()->start(endpoints);
    }
    io_.run();
  }

  /// Called by a connection once it connected or finished a request: gives it work if there is any.
  void on_idle(connection& conn) {
    if (!started_)
      return;
    if (!queue_.empty()) {
      auto job = queue_.front();
      queue_.pop_front();
      conn.send(job);
      return;
    }
    if (run_.opts.rate == 0 && !generation_done_) {
      if (auto job = next_closed_loop())
        conn.send(*job);
      else
        generation_done_ = true;
    }
    maybe_finish();
  }

  /// Starts sending: called on this worker's thread once every worker's connections are up.
  void begin() {
    asio::post(io_, [this] {
      started_ = true;
      if (run_.opts.rate > 0) {
        tick();
      } else {
        for (auto& conn : connections_)
          if (conn->idle())
            on_idle(*conn);
      }
      arm_drain_deadline();
    });
  }

  void record_result(record r) {
    records_.push_back(std::move(r));
    --outstanding_;
    maybe_finish();
  }

  void count_sent() { ++outstanding_; }

  const shared_run& shared() const { return run_; }
  shared_run& shared() { return run_; }
  std::vector<record>& records() { return records_; }
  std::size_t unsent() const { return queue_.size(); }
  std::size_t outstanding() const { return outstanding_; }
  asio::io_context& io() { return io_; }

private:
  std::optional<pending> next_closed_loop() {
    auto now = steady::now();
    if (run_.opts.duration_s && now >= run_.stop_scheduling)
      return std::nullopt;
    auto seq = run_.next_seq.fetch_add(1);
    if (run_.opts.requests && seq >= *run_.opts.requests)
      return std::nullopt;
    return pending{seq, now};
  }

  /// Open loop: request s (global numbering) is due at start + s / rate; this worker takes s = index, index + T, ...
  void tick() {
    const auto& opts = run_.opts;
    auto now = steady::now();
    const auto step = std::chrono::duration<double>(1.0 / opts.rate);
    for (;;) {
      auto seq = next_own_seq_;
      if (opts.requests && seq >= *opts.requests) {
        generation_done_ = true;
        break;
      }
      auto due = run_.start + std::chrono::duration_cast<steady::duration>(step * static_cast<double>(seq));
      if (opts.duration_s && due >= run_.stop_scheduling) {
        generation_done_ = true;
        break;
      }
      if (due > now) {
        timer_.expires_at(due);
        timer_.async_wait([this](beast::error_code ec) {
          if (!ec)
            tick();
        });
        break;
      }
      next_own_seq_ += opts.threads;
      queue_.push_back({seq, due});
    }
    for (auto& conn : connections_) {
      if (queue_.empty())
        break;
      if (conn->idle())
        on_idle(*conn);
    }
    maybe_finish();
  }

  void arm_drain_deadline() {
    // The whole run may take its scheduled time plus the drain timeout, never longer.
    steady::time_point deadline;
    if (run_.opts.duration_s)
      deadline = run_.stop_scheduling;
    else if (run_.opts.rate > 0 && run_.opts.requests)
      deadline = run_.start + std::chrono::duration_cast<steady::duration>(
                                std::chrono::duration<double>(static_cast<double>(*run_.opts.requests) / run_.opts.rate));
    else
      deadline = run_.start + std::chrono::seconds{run_.opts.max_seconds};
    deadline = std::min(deadline, run_.start + std::chrono::seconds{run_.opts.max_seconds});
    {
      deadline_timer_.emplace(io_);
      deadline_timer_->expires_at(deadline + std::chrono::milliseconds{run_.opts.drain_timeout_ms});
      deadline_timer_->async_wait([this](beast::error_code ec) {
        if (!ec)
          io_.stop();
      });
    }
  }

  void maybe_finish() {
    if (generation_done_ && queue_.empty() && outstanding_ == 0 && !finished_) {
      finished_ = true;
      work_.reset();
      io_.stop();
    }
  }

  shared_run& run_;
  std::size_t index_;
  asio::io_context io_{1};
  asio::steady_timer timer_;
  std::optional<asio::steady_timer> deadline_timer_;
  std::size_t connection_count_;
  std::vector<std::shared_ptr<connection>> connections_;
  std::deque<pending> queue_;
  std::vector<record> records_;
  std::uint64_t next_own_seq_ = 0;
  std::size_t outstanding_ = 0;
  bool started_ = false;
  bool generation_done_ = false;
  bool finished_ = false;
  asio::executor_work_guard<asio::io_context::executor_type> work_; ///< keeps run() going until the worker is done

  friend class connection;

public:
  void set_first_seq(std::uint64_t seq) { next_own_seq_ = seq; }
};

void connection::start(const tcp::resolver::results_type& endpoints) {
  endpoints_ = endpoints;
  stream_.expires_after(std::chrono::seconds{5});
  stream_.async_connect(endpoints_, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      ++self->owner_.shared().connect_failures;
      return;
    }
    self->stream_.socket().set_option(tcp::no_delay{true});
    self->connected_ = true;
    ++self->owner_.shared().connected;
    self->owner_.on_idle(*self);
  });
}

void connection::send(pending job) {
  auto& run = owner_.shared();
  job_ = job;
  busy_ = true;
  owner_.count_sent();
  auto sent = steady::now();
  sent_us_ = run.clock.wall_us(sent);
  auto sched_us = run.clock.wall_us(job.scheduled);
  const auto& opts = run.opts;
  std::string target;
  run.paths[job.seq % run.paths.size()].render(target, job.seq, sent_us_, sched_us);
  req_ = {};
  req_.method_string(opts.method);
  req_.target(target);
  req_.version(11);
  req_.set(http::field::host, opts.host + ':' + opts.port);
  for (const auto& [name, value] : opts.headers)
    req_.set(name, value);
  if (!run.bodies.empty() || opts.method == "POST" || opts.method == "PUT" || opts.method == "PATCH") {
    if (!run.bodies.empty())
      run.bodies[job.seq % run.bodies.size()].render(req_.body(), job.seq, sent_us_, sched_us);
    if (!opts.hmac_secret.empty())
      req_.set(opts.hmac_header, hmac_sha256_header(opts.hmac_secret, req_.body()));
    req_.prepare_payload();
  }
  stream_.expires_after(std::chrono::milliseconds{opts.timeout_ms});
  http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_written(ec);
  });
}

void connection::on_written(beast::error_code ec) {
  if (ec) {
    finish(0, {});
    reconnect();
    return;
  }
  parser_.emplace();
  parser_->body_limit(64 * 1024 * 1024);
  http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_read(ec);
  });
}

void connection::on_read(beast::error_code ec) {
  if (ec) {
    finish(0, {});
    reconnect();
    return;
  }
  auto& res = parser_->get();
  std::string captured;
  if (!owner_.shared().opts.capture.empty())
    captured = capture_member(res.body(), owner_.shared().opts.capture);
  auto keep = res.keep_alive();
  finish(static_cast<int>(res.result_int()), std::move(captured));
  if (!keep) {
    reconnect();
    return;
  }
  owner_.on_idle(*this);
}

void connection::finish(int status, std::string captured) {
  busy_ = false;
  auto done_us = owner_.shared().clock.wall_us(steady::now());
  owner_.record_result(
    {job_.seq, owner_.shared().clock.wall_us(job_.scheduled), sent_us_, done_us, status, std::move(captured)});
}

void connection::reconnect() {
  connected_ = false;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  stream_.expires_after(std::chrono::seconds{5});
  stream_.async_connect(endpoints_, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      ++self->owner_.shared().connect_failures;
      return;
    }
    self->stream_.socket().set_option(tcp::no_delay{true});
    self->connected_ = true;
    self->owner_.on_idle(*self);
  });
}

// -- statistics -------------------------------------------------------------------

std::int64_t percentile(std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

std::string latency_json(std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  std::ostringstream out;
  out << "{\"p50\":" << percentile(values, 50) << ",\"p90\":" << percentile(values, 90)
      << ",\"p99\":" << percentile(values, 99) << ",\"max\":" << (values.empty() ? 0 : values.back()) << '}';
  return out.str();
}

int run_all(const options& opts) {
  shared_run run{opts, {}, {}, {}, {}, {}};
  for (const auto& path : opts.paths)
    run.paths.emplace_back(path);
  for (const auto& body : opts.bodies)
    run.bodies.emplace_back(body);
  asio::io_context resolver_io;
  tcp::resolver resolver{resolver_io};
  beast::error_code ec;
  auto endpoints = resolver.resolve(opts.host, opts.port, ec);
  if (ec) {
    std::cerr << "loadgen: cannot resolve " << opts.host << ':' << opts.port << ": " << ec.message() << std::endl;
    return connect_error;
  }
  std::vector<std::unique_ptr<worker>> workers;
  for (std::size_t i = 0; i < opts.threads; ++i) {
    auto share = opts.connections / opts.threads + (i < opts.connections % opts.threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(run, i, share));
    workers.back()->set_first_seq(i);
  }
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w, &endpoints] { w->run(endpoints); });
  // Wait (bounded) for the connections, then start every worker's clock at the same instant.
  auto connect_deadline = steady::now() + std::chrono::seconds{10};
  while (run.connected.load() + run.connect_failures.load() < opts.connections && steady::now() < connect_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  if (run.connected.load() == 0) {
    std::cerr << "loadgen: cannot connect to " << opts.host << ':' << opts.port << std::endl;
    for (auto& w : workers)
      w->io().stop();
    for (auto& t : threads)
      t.join();
    return connect_error;
  }
  run.start = steady::now();
  if (opts.duration_s)
    run.stop_scheduling = run.start + std::chrono::duration_cast<steady::duration>(
                                        std::chrono::duration<double>(*opts.duration_s));
  for (auto& w : workers)
    w->begin();
  for (auto& t : threads)
    t.join();
  auto end = steady::now();

  std::vector<record> all;
  std::size_t unsent = 0;
  std::size_t unanswered = 0;
  for (auto& w : workers) {
    unsent += w->unsent();
    unanswered += w->outstanding();
    auto& mine = w->records();
    all.insert(all.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
  }
  std::sort(all.begin(), all.end(), [](const record& x, const record& y) { return x.seq < y.seq; });
  std::map<int, std::size_t> statuses;
  std::vector<std::int64_t> from_sched;
  std::vector<std::int64_t> from_sent;
  std::vector<std::int64_t> lag;
  std::int64_t first_sent = 0;
  std::int64_t last_done = 0;
  for (const auto& r : all) {
    ++statuses[r.status];
    if (r.status != 0) {
      from_sched.push_back(r.done_us - r.sched_us);
      from_sent.push_back(r.done_us - r.sent_us);
    }
    lag.push_back(r.sent_us - r.sched_us);
    first_sent = first_sent == 0 ? r.sent_us : std::min(first_sent, r.sent_us);
    last_done = std::max(last_done, r.done_us);
  }
  if (!opts.records.empty()) {
    std::ofstream out{opts.records};
    out << "seq,sched_us,sent_us,done_us,status" << (opts.capture.empty() ? "" : ",captured") << '\n';
    for (const auto& r : all) {
      out << r.seq << ',' << r.sched_us << ',' << r.sent_us << ',' << r.done_us << ',' << r.status;
      if (!opts.capture.empty())
        out << ',' << r.captured;
      out << '\n';
    }
  }
  auto elapsed = std::chrono::duration<double>(end - run.start).count();
  auto active = last_done > first_sent ? static_cast<double>(last_done - first_sent) / 1e6 : elapsed;
  std::size_t ok = 0;
  for (const auto& [status, count] : statuses)
    if (status >= 200 && status < 300)
      ok += count;
  std::ostringstream json;
  json << "{\"requests\":" << all.size() << ",\"ok\":" << ok << ",\"status\":{";
  bool first = true;
  for (const auto& [status, count] : statuses) {
    json << (first ? "" : ",") << '"' << status << "\":" << count;
    first = false;
  }
  json << "},\"unsent\":" << unsent << ",\"unanswered\":" << unanswered
       << ",\"connect_failures\":" << run.connect_failures.load() << ",\"connections\":" << opts.connections
       << ",\"threads\":" << opts.threads << ",\"target_rate\":" << opts.rate << ",\"elapsed_s\":" << elapsed
       << ",\"active_s\":" << active << ",\"rate\":" << (active > 0 ? static_cast<double>(all.size()) / active : 0)
       << ",\"first_sent_us\":" << first_sent << ",\"last_done_us\":" << last_done
       << ",\"latency_from_scheduled_us\":" << latency_json(std::move(from_sched))
       << ",\"latency_from_sent_us\":" << latency_json(std::move(from_sent))
       << ",\"send_lag_us\":" << latency_json(std::move(lag)) << '}';
  std::cout << json.str() << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  try {
    return run_all(opts);
  } catch (const std::exception& e) {
    std::cerr << "loadgen: " << e.what() << std::endl;
    return connect_error;
  }
}
