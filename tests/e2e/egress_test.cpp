// The egress perimeter seen from outside (docs/architecture.md section 9): what a tenant may make the provider connect
// to, and what the provider tells the tenant about it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "net/http_server.hpp"
#include "net/io_runtime.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/mqtt_support.hpp"
#include "tests/e2e/temp_dir.hpp"
#include "tests/e2e/webhook_client.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/unit/net/self_signed_cert.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a failed poll or connection may take to show in READ; reached only when something is broken.
constexpr auto error_timeout = 15s;

constexpr char secret[] = "SECRET_TOKEN=hunter2";

/// What the tenant is shown for any destination that gave no HTTP response.
constexpr char no_response[] = "no HTTP response (cannot connect, timed out or not HTTP)";

/// An internal service that fails every request with `status` and an error body full of secrets.
class leaky_server {
public:
  explicit leaky_server(int status) {
    http_server::options opts;
    opts.port = 0;
    server_ = start_http_server(io_, opts, [status](http_request, http_server::responder respond) {
      http_response res;
      res.status = status;
      res.fields.emplace_back("Content-Type", "application/json");
      res.body = std::string{R"({"error":"internal","reason":"internal stacktrace: )"} + secret + R"("})";
      respond(std::move(res));
    });
  }

  ~leaky_server() {
    server_->stop();
    io_.stop();
  }

  std::string url(const std::string& target = "") const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + target;
  }

private:
  io_runtime io_{1};
  http_server_ptr server_;
};

/// A JSON endpoint on 127.0.0.1 that speaks https with a given certificate and counts the requests it answers.
class tls_item_server {
public:
  explicit tls_item_server(const self_signed& cert) {
    http_server::options opts;
    opts.port = 0;
    opts.tls_cert_file = cert.cert_file;
    opts.tls_key_file = cert.key_file;
    server_ = start_http_server(io_, opts, [this](http_request, http_server::responder respond) {
      ++requests_;
      http_response res;
      res.fields.emplace_back("Content-Type", "application/json");
      res.body = R"({"items":[{"id":1}],"total_rows":1,"update_seq":"1-a"})";
      respond(std::move(res));
    });
  }

  ~tls_item_server() {
    server_->stop();
    io_.stop();
  }

  std::string url(const std::string& target = "") const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + target;
  }

  int requests() const {
    return requests_.load();
  }

private:
  io_runtime io_{1};
  http_server_ptr server_;
  std::atomic<int> requests_{0};
};

/// A TCP service on 127.0.0.1 that is not HTTP: it accepts connections and either greets them with a banner (as SSH
/// or SMTP do) or stays silent. Its port is open, which a tenant must not be able to tell from a closed one.
class tcp_service {
public:
  enum class greeting { banner, silent };

  explicit tcp_service(greeting how) : how_(how) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, SOMAXCONN) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread{[this] { accept_loop(); }};
  }

  ~tcp_service() {
    // Shutting the listener down wakes the blocked accept().
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
    for (int fd : accepted_)
      ::close(fd);
  }

  std::uint16_t port() const noexcept {
    return port_;
  }

private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0)
        return;
      if (how_ == greeting::banner) {
        constexpr char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
        (void)!::write(fd, banner, sizeof banner - 1);
      }
      accepted_.push_back(fd);
    }
  }

  greeting how_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<int> accepted_; ///< kept open (silent) or open after the banner, as a real service would
};

/// Returns a port of 127.0.0.1 that nothing listens on: bound for a moment, then released.
std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string poll_body(const std::string& url, const std::string& more = {}) {
  return R"({"feed":"poll","url":")" + url + R"(","intervalSeconds":60,"timeoutSeconds":1)"
         + (more.empty() ? "" : "," + more) + "}";
}

std::string changes_body(const std::string& url, const std::string& since) {
  return R"({"feed":"changes","url":")" + url + R"(","dbname":"orders","since":)" + since + "}";
}

/// Creates `trigger` in the fake controller and PUTs `body` for it; returns the answer.
http_response create(e2e_fixture& fx, feedrouter_process& fr, const trigger_ref& trigger, const std::string& body) {
  fx.controller().add_trigger(trigger, std::string{alice_key});
  return fr.call(api_request("PUT", trigger_path(trigger), alice_key, body));
}

/// Waits until READ of `trigger` shows a lastSourceError and returns it.
std::string wait_for_source_error(feedrouter_process& fr, const trigger_ref& trigger) {
  std::string view;
  poll_until(
    [&] {
      view = read_registration(fr, trigger);
      return json_string_at(view, "/status/lastSourceError").has_value();
    },
    error_timeout);
  INFO(view);
  auto error = json_string_at(view, "/status/lastSourceError");
  REQUIRE(error);
  return *error;
}

void check_refused_naming_url(const http_response& answer) {
  INFO(answer.body);
  CHECK(answer.status == 400);
  CHECK(json_string_at(answer.body, "/field") == std::string{"url"});
  CHECK(json_string_at(answer.body, "/error").value_or("").find("not allowed by the egress policy")
        != std::string::npos);
}

} // namespace

TEST_CASE("a poll or changes feed of a loopback, unspecified or metadata address in any spelling is refused at CREATE",
          "[e2e][egress]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter_with_default_egress();
  int n = 0;
  for (std::string url : {"http://127.0.0.1:5984/", "http://[::1]:5984/", "http://0.0.0.0:5984/",
                          "http://localhost:5984/", "http://2130706433:5984/", "http://127.1:5984/",
                          "http://0x7f.0.0.1:5984/", "http://[::ffff:127.0.0.1]:5984/", "http://169.254.169.254/",
                          "http://10.0.0.1/", "http://192.168.0.1/"}) {
    INFO(url);
    const trigger_ref poll{"alice", "poll-" + std::to_string(++n)};
    check_refused_naming_url(create(fx, *fr, poll, poll_body(url)));
    const trigger_ref changes{"alice", "changes-" + std::to_string(n)};
    check_refused_naming_url(create(fx, *fr, changes, changes_body(url, "0")));
  }
  // Nothing was stored: the namespace lists no registration.
  auto listed = fr->call(api_request("GET", "/v1/triggers/alice", alice_key));
  CHECK(listed.body.find("poll-") == std::string::npos);
  fr->stop_cleanly();
}

TEST_CASE("an UPDATE to a refused url is refused naming url, and the registration keeps its old one",
          "[e2e][egress]") {
  e2e_fixture fx;
  leaky_server elsewhere{200};
  auto fr = fx.start_feedrouter();
  const trigger_ref trigger{"alice", "moving"};
  REQUIRE(create(fx, *fr, trigger, poll_body(elsewhere.url("/items"))).status == 201);
  auto patched = fr->call(api_request("PATCH", trigger_path(trigger), alice_key, R"({"url":"http://[::1]/items"})"));
  check_refused_naming_url(patched);
  auto view = read_registration(*fr, trigger);
  CHECK(json_string_at(view, "/config/url") == elsewhere.url("/items"));
  fr->stop_cleanly();
}

TEST_CASE("the provider's own port is refused even where loopback is allowed", "[e2e][egress]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  auto own_port = fr->base_url().substr(fr->base_url().rfind(':') + 1);
  int n = 0;
  for (std::string host : {"127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]", "0.0.0.0"}) {
    INFO(host);
    const trigger_ref trigger{"alice", "itself-" + std::to_string(++n)};
    auto answer = create(fx, *fr, trigger, poll_body("http://" + host + ":" + own_port + "/metrics"));
    check_refused_naming_url(answer);
    CHECK(json_string_at(answer.body, "/error").value_or("").find("this provider's own address")
          != std::string::npos);
  }
  fr->stop_cleanly();
}

TEST_CASE("a changes CREATE against a failing database shows its status, never its error body", "[e2e][egress]") {
  e2e_fixture fx;
  leaky_server database{500};
  auto fr = fx.start_feedrouter();
  const trigger_ref trigger{"alice", "leaky"};
  auto answer = create(fx, *fr, trigger, changes_body(database.url(), R"("now")"));
  INFO(answer.body);
  CHECK(answer.status == 400);
  CHECK(json_string_at(answer.body, "/field") == std::string{"url"});
  CHECK(json_string_at(answer.body, "/error")
        == std::string{"url: cannot read where the database ends: the database answered 500"});
  CHECK(answer.body.find("SECRET") == std::string::npos);
  CHECK(answer.body.find("stacktrace") == std::string::npos);
  fr->stop_cleanly();
  CHECK(fr->process().stderr_text().find("SECRET") == std::string::npos);
}

TEST_CASE("a source error after start shows no body, in READ or in the log", "[e2e][egress]") {
  e2e_fixture fx;
  leaky_server database{500};
  leaky_server api{503};
  auto fr = fx.start_feedrouter();
  const trigger_ref changes{"alice", "leaky-changes"};
  REQUIRE(create(fx, *fr, changes, changes_body(database.url(), "0")).status == 201);
  const trigger_ref poll{"alice", "leaky-poll"};
  REQUIRE(create(fx, *fr, poll, poll_body(api.url("/items"))).status == 201);
  CHECK(wait_for_source_error(*fr, changes) == "the database answered 500");
  CHECK(wait_for_source_error(*fr, poll) == "the polled URL answered 503");
  for (const auto& trigger : {changes, poll})
    CHECK(read_registration(*fr, trigger).find("SECRET") == std::string::npos);
  fr->stop_cleanly();
  CHECK(fr->process().stderr_text().find("SECRET") == std::string::npos);
}

TEST_CASE("open, silent and closed ports give the tenant the same text", "[e2e][egress]") {
  e2e_fixture fx;
  tcp_service banner{tcp_service::greeting::banner};
  tcp_service silent{tcp_service::greeting::silent};
  auto closed = closed_port();
  auto fr = fx.start_feedrouter();
  auto url_of = [](std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port) + "/"; };
  // Polls: the first one runs at once and fails within its 1 s timeout.
  std::vector<std::string> poll_errors;
  int n = 0;
  for (auto port : {banner.port(), silent.port(), closed}) {
    const trigger_ref trigger{"alice", "probe-" + std::to_string(++n)};
    REQUIRE(create(fx, *fr, trigger, poll_body(url_of(port))).status == 201);
    poll_errors.push_back(wait_for_source_error(*fr, trigger));
  }
  CHECK(poll_errors == std::vector<std::string>(3, std::string{"GET failed: "} + no_response));
  // A since=now CREATE reads the database's end before it answers: its 400 must not tell the ports apart either.
  std::vector<std::string> create_errors;
  for (auto port : {banner.port(), closed}) {
    const trigger_ref trigger{"alice", "probe-" + std::to_string(++n)};
    auto answer = create(fx, *fr, trigger, changes_body(url_of(port), R"("now")"));
    CHECK(answer.status == 400);
    create_errors.push_back(json_string_at(answer.body, "/error").value_or(""));
  }
  CHECK(create_errors
        == std::vector<std::string>(2, std::string{"url: cannot read where the database ends: "} + no_response));
  fr->stop_cleanly();
}

TEST_CASE("poll headers may not set Host or a hop-by-hop header", "[e2e][egress]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  int n = 0;
  for (std::string header : {"Host", "Connection", "Transfer-Encoding", "Upgrade", "Proxy-Authorization", "TE"}) {
    INFO(header);
    const trigger_ref trigger{"alice", "header-" + std::to_string(++n)};
    auto answer = create(fx, *fr, trigger,
                         poll_body("http://127.0.0.1:9/", R"("headers":{")" + header + R"(":"metadata.internal"})"));
    CHECK(answer.status == 400);
    CHECK(json_string_at(answer.body, "/field") == std::string{"headers"});
    CHECK(json_string_at(answer.body, "/error").value_or("").find("\"" + header + "\"") != std::string::npos);
  }
  fr->stop_cleanly();
}

TEST_CASE("a stored registration that a stricter policy refuses starts disabled, naming the policy, and is kept",
          "[e2e][egress]") {
  e2e_fixture fx;
  leaky_server api{200};
  const trigger_ref trigger{"alice", "grandfathered"};
  {
    auto fr = fx.start_feedrouter();
    REQUIRE(create(fx, *fr, trigger, poll_body(api.url("/items"))).status == 201);
    fr->stop_cleanly();
  }
  auto fr = fx.start_feedrouter_with_default_egress();
  auto view = read_registration(*fr, trigger);
  INFO(view);
  CHECK(json_string_at(view, "/status/state") == std::string{"disabled"});
  CHECK(json_string_at(view, "/status/reason/kind") == std::string{"AUTO"});
  CHECK(json_string_at(view, "/status/reason/message").value_or("").find("not allowed by the egress policy")
        != std::string::npos);
  fr->stop_cleanly();
  // Nothing was lost: with the policy widened again, the registration runs as before.
  auto widened = fx.start_feedrouter();
  auto after = read_registration(*widened, trigger);
  INFO(after);
  CHECK(json_string_at(after, "/status/state") == std::string{"active"});
  widened->stop_cleanly();
}

TEST_CASE("the CA file of --ca-file verifies the controller only: a tenant's poll, changes or mqtts endpoint with a "
          "certificate it signs is refused", "[e2e][egress][tls]") {
  temp_dir certs;
  // Readable by mosquitto, which drops to a user of its own when started as root.
  using std::filesystem::perms;
  std::filesystem::permissions(certs.path(), perms::owner_all | perms::group_read | perms::group_exec
                                               | perms::others_read | perms::others_exec);
  auto cert = make_self_signed_cert(certs.path(), "localhost");
  e2e_fixture fx{{cert.cert_file, cert.key_file}};
  REQUIRE(fx.controller().url().rfind("https://", 0) == 0);
  auto fr = fx.start_feedrouter({"--ca-file", cert.cert_file});
  // The controller, verified with the CA file: the authKey check of the CREATE and the fires go through.
  const trigger_ref alarm{"alice", "tls-alarm"};
  REQUIRE(create(fx, *fr, alarm, R"({"feed":"alarm","cron":"* * * * * *","maxTriggers":1})").status == 201);
  CHECK(fx.wait_for_fires_of(alarm, 1, error_timeout));
  // A tenant's endpoint with a certificate from the same CA: the system's store does not know it.
  tls_item_server endpoint{cert};
  const trigger_ref poll{"alice", "tls-poll"};
  REQUIRE(create(fx, *fr, poll, poll_body(endpoint.url("/items"))).status == 201);
  CHECK(wait_for_source_error(*fr, poll) == std::string{"GET failed: "} + no_response);
  auto changes = create(fx, *fr, {"alice", "tls-changes"}, changes_body(endpoint.url(), R"("now")"));
  CHECK(changes.status == 400);
  CHECK(json_string_at(changes.body, "/field") == std::string{"url"});
  CHECK(endpoint.requests() == 0);
  mosquitto_server::options broker_opts;
  broker_opts.tls = std::make_pair(cert.cert_file, cert.key_file);
  mosquitto_server broker{broker_opts};
  auto mqtts = create(fx, *fr, {"alice", "tls-mqtt"}, mqtt_create_body(broker, "t"));
  INFO(mqtts.body);
  CHECK(mqtts.status == 400);
  CHECK(json_string_at(mqtts.body, "/field") == std::string{"url"});
  fr->stop_cleanly();
}
