#include "net/http_client.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/text.hpp"
#include "net/detail/asio_context.hpp"
#include "net/detail/client_common.hpp"
#include "net/detail/maybe_tls_stream.hpp"
#include "net/detail/stream_client.hpp"
#include "net/detail/tls_context.hpp"

namespace feedrouter {

namespace {

using namespace client_detail;
using tcp = asio::ip::tcp;
using steady_clock = std::chrono::steady_clock;

// -- limits and timeouts ------------------------------------------------------

/// Largest response body accepted; a larger one fails the request with "read: body limit exceeded".
constexpr std::uint64_t response_body_limit = 8 * 1024 * 1024;

/// How long resolved addresses of a host name are reused before resolving again.
constexpr std::chrono::seconds resolve_cache_ttl{60};

// -- error texts --------------------------------------------------------------

constexpr char client_stopped[] = "client stopped";

/// Returns whether `ec` is how a kept-alive connection that the server closed while idle shows up on first use.
bool is_stale_connection_error(beast::error_code ec) {
  // Over TLS, a server that closes without a close_notify alert shows up as a truncated stream.
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset
         || ec == asio::error::broken_pipe || ec == asio::error::connection_aborted
         || ec == asio::ssl::error::stream_truncated;
}

/// Returns the result of a request that failed with `kind`; `detail` is the operator's text.
client_result failed(transport_failure kind, std::string detail) {
  client_result result;
  result.error = std::move(detail);
  result.failure = kind;
  return result;
}

/// Completes a request with an error; used through asio::post so that `done` runs on an I/O thread.
void complete_with_error(http_client::completion done, std::string error) {
  done(failed(transport_failure::no_response, std::move(error)));
}

// -- exchange -----------------------------------------------------------------

/// One request on its way: what to send, whom to tell, and by when.
struct exchange {
  client_request req;
  http_client::completion done;
  steady_clock::time_point deadline;
  bool retried = false; ///< already moved once off a stale kept-alive connection
};

class origin_pool;
class connection;

using connection_ptr = std::shared_ptr<connection>;
using origin_pool_ptr = std::shared_ptr<origin_pool>;

/// What a connection needs to know about its origin; fixed when the pool is made.
struct origin_info {
  std::string host;       ///< for the resolver
  std::string port;       ///< for the resolver, as text
  std::string host_field; ///< the Host header: host[:port], the port left out when it is the scheme's default
  std::chrono::seconds idle_timeout;
  tls_context_ptr tls; ///< set for https: connections speak TLS with this context
  /// Judges every address a connection tries; null for the operator's destinations or a client without a policy.
  std::shared_ptr<const egress_policy> egress;
};

// -- connection ---------------------------------------------------------------

/// One TCP connection to an origin, possibly with TLS, carrying one exchange at a time and kept alive between them.
///
/// Everything runs on the connection's strand. Steps of an exchange, in run order:
/// run -> resolve -> connect -> handshake (https only) -> write -> read -> finish (a kept-alive connection starts
/// at write). The egress policy judges each address right before connect tries it, so a connection is only ever made
/// to an allowed address, whichever name, cache entry or DNS answer led there.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(asio::io_context& ioc, std::weak_ptr<origin_pool> pool, std::shared_ptr<const origin_info> origin);

  /// Starts `x` on this connection, from any thread.
  void start(exchange x) {
    asio::post(stream_.get_executor(), beast::bind_front_handler(&connection::run, shared_from_this(), std::move(x)));
  }

  /// Closes the connection, from any thread. Only called on idle connections.
  void close() {
    asio::post(stream_.get_executor(), beast::bind_front_handler(&connection::do_close, shared_from_this()));
  }

  /// Runs `x`; must be called on the strand (the pool calls it from within finish()).
  void run(exchange x);

  /// Notes that the pool keeps this connection idle; starts the idle timer if it is not running. On the strand.
  void go_idle();

private:
  void resolve();
  void on_resolve(beast::error_code ec, tcp::resolver::results_type results);
  void on_resolve_timeout(beast::error_code ec);
  void connect(const std::vector<tcp::endpoint>& endpoints);
  void on_connect(beast::error_code ec, const tcp::endpoint&);
  void handshake();
  void on_handshake(beast::error_code ec);
  void write();
  void on_write(beast::error_code ec, std::size_t);
  void read();
  void on_read(beast::error_code ec, std::size_t);

  /// Moves the exchange to a fresh connection: this kept-alive one was closed by the server while idle.
  void retry_on_fresh_connection();

  /// Completes the exchange and hands the connection back to the pool.
  void finish(client_result result, bool reusable);

  void arm_idle_timer(steady_clock::time_point when);
  void on_idle_timer(beast::error_code ec);
  void do_close();

  /// Returns whether a failure of this exchange may be retried on a fresh connection.
  bool may_retry(beast::error_code ec) const {
    return reused_ && !x_.retried && is_stale_connection_error(ec);
  }

  std::weak_ptr<origin_pool> pool_; ///< weak: the pool owns idle connections, not the other way round
  std::shared_ptr<const origin_info> origin_;
  maybe_tls_stream stream_;
  tcp::resolver resolver_;
  egress_gate gate_;
  asio::steady_timer resolve_timer_; ///< the resolver is not a stream operation, so the deadline needs its own timer
  asio::steady_timer idle_timer_;
  exchange x_;
  http::request<http::string_body> req_; // (Must persist until async_write completes)
  beast::flat_buffer buffer_;            // (Must persist between reads)
  std::optional<http::response_parser<http::string_body>> parser_; // one per response
  steady_clock::time_point idle_since_;
  bool connected_ = false;
  bool reused_ = false; ///< the current exchange runs on a connection that served one before
  bool busy_ = false;
  bool idle_timer_armed_ = false;
  bool closed_ = false;
};

// -- origin_pool --------------------------------------------------------------

/// The connections to one origin: at most `max_connections_per_origin`, idle ones kept for reuse, and a FIFO queue
/// of exchanges waiting for a connection.
///
/// Its state is touched from any thread (send) and from connection strands (release), so it lives under a mutex held
/// only for list operations; no user callback and no I/O run under it.
class origin_pool : public std::enable_shared_from_this<origin_pool> {
public:
  origin_pool(asio::io_context& ioc, const url& where, const http_client_options& opts, tls_context_ptr tls,
              destination_owner owner)
    : ioc_(ioc), max_connections_(std::max<std::size_t>(opts.max_connections_per_origin, 1)) {
    auto info = std::make_shared<origin_info>();
    info->host = where.host;
    info->port = std::to_string(where.port);
    info->host_field = host_field_of(where);
    info->idle_timeout = opts.idle_timeout;
    if (where.scheme == "https")
      info->tls = std::move(tls);
    if (owner == destination_owner::tenant)
      info->egress = opts.egress;
    origin_ = std::move(info);
    // An address literal needs no resolver, ever.
    beast::error_code ec;
    auto address = asio::ip::make_address(where.host, ec);
    if (!ec) {
      endpoints_.emplace_back(address, where.port);
      endpoints_expiry_ = steady_clock::time_point::max();
    }
  }

  ~origin_pool() {
    // Reached when the client is gone and no connection is busy: queued requests still get their one answer.
    for (auto& x : waiting_)
      asio::post(ioc_, beast::bind_front_handler(&complete_with_error, std::move(x.done), client_stopped));
    for (auto& c : idle_)
      c->close();
  }

  /// Runs `x` on an idle connection, a new one, or queues it; any thread.
  void submit(exchange x) {
    connection_ptr c;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (!idle_.empty()) {
        // The most recently used connection is the least likely to have been closed by the server.
        c = std::move(idle_.back());
        idle_.pop_back();
      } else if (open_ < max_connections_) {
        ++open_;
        c = make_connection();
      } else {
        waiting_.push_back(std::move(x));
        return;
      }
    }
    c->start(std::move(x));
  }

  /// Takes back `c` after its exchange: gives it the next queued exchange, keeps it idle, or lets it go. Called on
  /// c's strand.
  void release(const connection_ptr& c, bool reusable) {
    std::optional<exchange> next;
    connection_ptr fresh;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (reusable) {
        if (!waiting_.empty()) {
          next = std::move(waiting_.front());
          waiting_.pop_front();
        } else {
          idle_.push_back(c);
        }
      } else {
        --open_;
        if (!waiting_.empty() && open_ < max_connections_) {
          ++open_;
          fresh = make_connection();
          next = std::move(waiting_.front());
          waiting_.pop_front();
        }
      }
    }
    if (!next) {
      if (reusable)
        c->go_idle();
      return;
    }
    if (fresh)
      fresh->start(std::move(*next));
    else
      c->run(std::move(*next));
  }

  /// Runs `x` on a new connection that takes the slot of a stale one; any thread.
  void replace(exchange x) {
    connection_ptr c;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      c = make_connection();
    }
    c->start(std::move(x));
  }

  /// Removes `c` from the idle list for its idle timeout; returns false if it is busy again (it stays open).
  bool evict_idle(const connection* c) {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = std::find_if(idle_.begin(), idle_.end(), [c](const connection_ptr& x) { return x.get() == c; });
    if (i == idle_.end())
      return false;
    idle_.erase(i);
    --open_;
    return true;
  }

  /// Returns the cached addresses of the origin, or nothing when they are unknown or too old.
  std::optional<std::vector<tcp::endpoint>> cached_endpoints() {
    std::lock_guard<std::mutex> guard{mutex_};
    if (endpoints_.empty() || steady_clock::now() >= endpoints_expiry_)
      return std::nullopt;
    return endpoints_;
  }

  void cache_endpoints(std::vector<tcp::endpoint> endpoints) {
    std::lock_guard<std::mutex> guard{mutex_};
    endpoints_ = std::move(endpoints);
    endpoints_expiry_ = steady_clock::now() + resolve_cache_ttl;
  }

private:
  // Called with mutex_ held.
  connection_ptr make_connection() {
    return std::make_shared<connection>(ioc_, weak_from_this(), origin_);
  }

  asio::io_context& ioc_;
  const std::size_t max_connections_;
  std::shared_ptr<const origin_info> origin_;
  std::mutex mutex_;
  std::vector<connection_ptr> idle_; ///< most recently used last
  std::deque<exchange> waiting_;
  std::size_t open_ = 0; ///< connections counted against the limit: connecting, busy or idle
  std::vector<tcp::endpoint> endpoints_;
  steady_clock::time_point endpoints_expiry_;
};

// -- connection (definitions) -------------------------------------------------

connection::connection(asio::io_context& ioc, std::weak_ptr<origin_pool> pool,
                       std::shared_ptr<const origin_info> origin)
  : pool_(std::move(pool)),
    origin_(std::move(origin)),
    stream_(asio::make_strand(ioc)),
    resolver_(stream_.get_executor()),
    gate_(origin_->egress, origin_->host),
    resolve_timer_(stream_.get_executor()),
    idle_timer_(stream_.get_executor()) {
  if (origin_->tls)
    stream_.enable_tls(*origin_->tls);
}

void connection::run(exchange x) {
  x_ = std::move(x);
  busy_ = true;
  reused_ = connected_;
  build_request(req_, x_.req.message, x_.req.destination.target, origin_->host_field, true);
  // One deadline for connect, write and read together: the stream's timer applies to all operations after this.
  // A deadline that passed while the exchange waited in the queue fails the first operation with a timeout.
  stream_.tcp().expires_at(x_.deadline);
  if (connected_)
    return write();
  resolve();
}

void connection::resolve() {
  auto pool = pool_.lock();
  if (!pool)
    return finish(failed(transport_failure::no_response, client_stopped), false);
  if (auto endpoints = pool->cached_endpoints())
    return connect(*endpoints);
  resolve_timer_.expires_at(x_.deadline);
  resolve_timer_.async_wait(beast::bind_front_handler(&connection::on_resolve_timeout, shared_from_this()));
  resolver_.async_resolve(origin_->host, origin_->port,
                          beast::bind_front_handler(&connection::on_resolve, shared_from_this()));
}

void connection::on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
  // Only the deadline cancels the resolver.
  if (ec == asio::error::operation_aborted)
    return finish(failed(transport_failure::unresolved, "resolve: timeout"), false);
  resolve_timer_.cancel();
  if (ec)
    return finish(failed(transport_failure::unresolved, error_text("resolve", ec)), false);
  std::vector<tcp::endpoint> endpoints;
  endpoints.reserve(results.size());
  for (const auto& entry : results)
    endpoints.push_back(entry.endpoint());
  if (auto pool = pool_.lock())
    pool->cache_endpoints(endpoints);
  connect(endpoints);
}

void connection::on_resolve_timeout(beast::error_code ec) {
  // Cancelled because the resolver answered in time.
  if (ec == asio::error::operation_aborted)
    return;
  resolver_.cancel();
}

void connection::connect(const std::vector<tcp::endpoint>& endpoints) {
  gate_.reset();
  stream_.tcp().async_connect(
    endpoints, [self = shared_from_this()](const beast::error_code&, const tcp::endpoint& next) {
      return self->gate_.allows(next);
    },
    beast::bind_front_handler(&connection::on_connect, shared_from_this()));
}

void connection::on_connect(beast::error_code ec, const tcp::endpoint&) {
  if (ec && gate_.refused_all())
    return finish(failed(transport_failure::not_allowed, std::string{egress_refusal_text}), false);
  if (ec)
    return finish(failed(transport_failure::no_response, error_text("connect", ec)), false);
  connected_ = true;
  beast::error_code ignored;
  // Requests are small and latency matters more than packet count.
  stream_.tcp().socket().set_option(tcp::no_delay(true), ignored);
  if (stream_.tls())
    return handshake();
  write();
}

void connection::handshake() {
  auto* tls = stream_.tls();
  if (auto ec = prepare_client_tls(tls->native_handle(), origin_->host))
    return finish(failed(transport_failure::no_response, error_text("tls handshake", ec)), false);
  // The stream's deadline, set in run(), covers the handshake too.
  tls->async_handshake(asio::ssl::stream_base::client,
                       beast::bind_front_handler(&connection::on_handshake, shared_from_this()));
}

void connection::on_handshake(beast::error_code ec) {
  if (ec)
    return finish(failed(transport_failure::no_response, handshake_error_text(ec, stream_.tls()->native_handle())),
                  false);
  write();
}

void connection::write() {
  http::async_write(stream_, req_, beast::bind_front_handler(&connection::on_write, shared_from_this()));
}

void connection::on_write(beast::error_code ec, std::size_t) {
  if (ec && may_retry(ec))
    return retry_on_fresh_connection();
  if (ec)
    return finish(failed(transport_failure::no_response, error_text("write", ec)), false);
  read();
}

void connection::read() {
  parser_.emplace();
  parser_->body_limit(response_body_limit);
  parser_->header_limit(response_header_limit);
  // A response to HEAD announces a length but carries no body.
  if (req_.method() == http::verb::head)
    parser_->skip(true);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&connection::on_read, shared_from_this()));
}

void connection::on_read(beast::error_code ec, std::size_t) {
  // Not a byte of the response came: the server had closed the kept-alive connection before our request arrived.
  if (ec && may_retry(ec) && !parser_->got_some())
    return retry_on_fresh_connection();
  if (ec)
    return finish(failed(read_failure(ec), error_text("read", ec)), false);
  auto reusable = parser_->keep_alive();
  auto msg = parser_->release();
  parser_.reset();
  client_result result;
  result.response.status = static_cast<int>(msg.result_int());
  result.response.fields.reserve(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
  for (const auto& field : msg)
    result.response.fields.emplace_back(std::string{field.name_string()}, std::string{field.value()});
  result.response.body = std::move(msg.body());
  finish(std::move(result), reusable);
}

void connection::retry_on_fresh_connection() {
  do_close();
  auto pool = pool_.lock();
  if (!pool)
    return finish(failed(transport_failure::no_response, client_stopped), false);
  // The request body went into req_; take it back for the fresh connection.
  x_.req.message.body = std::move(req_.body());
  x_.retried = true;
  busy_ = false;
  // The fresh connection takes this one's slot, so the pool's count stays right.
  pool->replace(std::move(x_));
}

void connection::finish(client_result result, bool reusable) {
  auto done = std::move(x_.done);
  x_ = {};
  req_ = {};
  busy_ = false;
  if (!reusable)
    do_close();
  // Back to the pool first, so that a request sent from `done` finds this connection idle.
  if (auto pool = pool_.lock())
    pool->release(shared_from_this(), reusable);
  else
    do_close();
  done(std::move(result));
}

void connection::go_idle() {
  idle_since_ = steady_clock::now();
  if (!idle_timer_armed_)
    arm_idle_timer(idle_since_ + origin_->idle_timeout);
}

void connection::arm_idle_timer(steady_clock::time_point when) {
  idle_timer_armed_ = true;
  idle_timer_.expires_at(when);
  idle_timer_.async_wait(beast::bind_front_handler(&connection::on_idle_timer, shared_from_this()));
}

void connection::on_idle_timer(beast::error_code ec) {
  idle_timer_armed_ = false;
  if (ec == asio::error::operation_aborted || closed_)
    return;
  // Busy now: go_idle() arms the timer again when the connection comes back.
  if (busy_)
    return;
  // The timer is not reset on every use; it wakes up and re-arms for the latest idle period instead.
  auto deadline = idle_since_ + origin_->idle_timeout;
  if (steady_clock::now() < deadline)
    return arm_idle_timer(deadline);
  auto pool = pool_.lock();
  if (!pool || pool->evict_idle(this))
    do_close();
}

void connection::do_close() {
  if (closed_)
    return;
  closed_ = true;
  connected_ = false;
  beast::error_code ignored;
  // No TLS close_notify: nothing is read after it, and servers treat a closed idle connection the same either way.
  stream_.tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.tcp().close();
  resolve_timer_.cancel();
  idle_timer_.cancel();
}

// -- client -------------------------------------------------------------------

class client_impl final : public http_client {
public:
  client_impl(asio::io_context& ioc, http_client_options opts, tls_context_ptr operator_tls, tls_context_ptr tenant_tls)
    : ioc_(ioc), opts_(std::move(opts)), operator_tls_(std::move(operator_tls)), tenant_tls_(std::move(tenant_tls)) {
    // nop
  }

  // http_client

  void send(client_request req, completion done) override {
    if (auto problem = request_problem(req.destination, req.message); !problem.empty())
      return fail_later(std::move(done), std::move(problem));
    exchange x;
    x.deadline = steady_clock::now() + req.timeout;
    auto pool = pool_for(req.destination, req.owner);
    x.req = std::move(req);
    x.done = std::move(done);
    pool->submit(std::move(x));
  }

  line_stream_ptr open_stream(stream_request req, stream_handler on_update) override {
    auto egress = req.owner == destination_owner::tenant ? opts_.egress : nullptr;
    auto tls = tls_for(req.owner);
    return open_line_stream(ioc_, std::move(tls), std::move(egress), std::move(req), std::move(on_update));
  }

private:
  /// Calls `done` with `error` on an I/O thread, as the interface promises.
  void fail_later(completion done, std::string error) {
    asio::post(ioc_, beast::bind_front_handler(&complete_with_error, std::move(done), std::move(error)));
  }

  /// Returns the TLS context for destinations of `owner`: the operator's trust options (a CA file, skipping
  /// verification) are for the operator's own endpoints; a tenant's endpoint is always verified against the system's
  /// store, so that a private CA the operator trusts for its controller vouches for nothing a tenant names.
  const tls_context_ptr& tls_for(destination_owner owner) const {
    return owner == destination_owner::operator_config ? operator_tls_ : tenant_tls_;
  }

  /// Returns the pool of `where` for requests of `owner`: a tenant's requests never share a connection that was made
  /// for the operator without the egress check or with the operator's trust options.
  origin_pool_ptr pool_for(const url& where, destination_owner owner) {
    auto key = where.origin();
    if (owner == destination_owner::operator_config)
      key += " (operator)";
    std::lock_guard<std::mutex> guard{mutex_};
    auto& pool = pools_[key];
    if (!pool)
      pool = std::make_shared<origin_pool>(ioc_, where, opts_, tls_for(owner), owner);
    return pool;
  }

  asio::io_context& ioc_;
  const http_client_options opts_;
  const tls_context_ptr operator_tls_; ///< for the operator's https origins: its CA file or no verification
  const tls_context_ptr tenant_tls_;   ///< for tenants' https origins: the system's store, always verified
  std::mutex mutex_; ///< send() runs on any thread
  std::unordered_map<std::string, origin_pool_ptr> pools_;
};

} // namespace

std::string_view failure_text(transport_failure failure) noexcept {
  switch (failure) {
    case transport_failure::not_allowed:
      return egress_refusal_text;
    case transport_failure::unresolved:
      return "cannot resolve the host name";
    case transport_failure::none:
    case transport_failure::no_response:
      return "no HTTP response (cannot connect, timed out or not HTTP)";
    case transport_failure::too_large:
      return "the response is larger than the provider accepts";
    case transport_failure::connection_lost:
      return "the connection was lost";
    case transport_failure::idle:
      return "nothing arrived within the idle timeout";
  }
  return "no HTTP response";
}

http_client_ptr make_http_client(io_runtime& io, http_client_options opts) {
  // Made up front even if no https URL ever comes, so that a bad CA file is a start-up error.
  auto operator_tls = make_client_tls_context(opts.ca_file, opts.insecure_skip_verify);
  auto tenant_tls = make_client_tls_context({}, false);
  return std::make_shared<client_impl>(io_context_of(io), std::move(opts), std::move(operator_tls),
                                       std::move(tenant_tls));
}

} // namespace feedrouter
