#include "net/http_client.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "core/url.hpp"
#include "net/http_server.hpp"
#include "net/io_runtime.hpp"
#include "raw_http_server.hpp"
#include "self_signed_cert.hpp"

using namespace std::chrono_literals;

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using feedrouter::client_request;
using feedrouter::client_result;
using feedrouter::destination_owner;
using feedrouter::http_client;
using feedrouter::http_client_options;
using feedrouter::http_request;
using feedrouter::http_response;
using feedrouter::http_server;
using feedrouter::io_runtime;
using feedrouter::make_http_client;
using feedrouter::parse_url;
using feedrouter::start_http_server;
using feedrouter::test::make_self_signed_cert;
using feedrouter::test::raw_http_server;
using feedrouter::test::self_signed;

namespace {

/// Bound on every wait in these tests; reached only when something is broken.
constexpr auto test_deadline = 10s;

/// A self-signed certificate in a fresh directory that is removed with it.
struct temp_cert {
  explicit temp_cert(std::string_view name = "localhost") : files(make_self_signed_cert("", name)) {
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

/// Returns a request to `url_text`, by default for one of the operator's endpoints: the trust options these tests
/// set (a CA file, insecure_skip_verify) are for those alone.
client_request make_request(const std::string& url_text, std::string method = "GET",
                            destination_owner owner = destination_owner::operator_config) {
  auto where = parse_url(url_text, "url");
  REQUIRE(where);
  client_request req;
  req.destination = *where;
  req.message.method = std::move(method);
  req.owner = owner;
  return req;
}

/// Returns a request to a tenant's endpoint `url_text`.
client_request tenant_request(const std::string& url_text) {
  return make_request(url_text, "GET", destination_owner::tenant);
}

/// Sends `req` and waits for its result.
client_result send_and_wait(http_client& client, client_request req) {
  auto result = std::make_shared<std::promise<client_result>>();
  auto future = result->get_future();
  client.send(std::move(req), [result](client_result r) { result->set_value(std::move(r)); });
  REQUIRE(future.wait_for(test_deadline) == std::future_status::ready);
  return future.get();
}

/// Starts a TLS server on 127.0.0.1 that answers every request with its target.
feedrouter::http_server_ptr start_tls_echo_server(io_runtime& io, const self_signed& cert) {
  http_server::options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.tls_cert_file = cert.cert_file;
  opts.tls_key_file = cert.key_file;
  return start_http_server(io, opts, [](http_request req, http_server::responder respond) {
    http_response res;
    res.fields.emplace_back("Content-Type", "text/plain");
    res.body = req.target;
    respond(std::move(res));
  });
}

std::string https_url(std::string_view host, std::uint16_t port, std::string_view target) {
  return "https://" + std::string{host} + ":" + std::to_string(port) + std::string{target};
}

http_client_options trusting(const self_signed& cert) {
  http_client_options opts;
  opts.ca_file = cert.cert_file;
  return opts;
}

} // namespace

TEST_CASE("the client verifies an https server against its CA file", "[http_client][tls]") {
  temp_cert cert;
  io_runtime io{1};
  auto server = start_tls_echo_server(io, cert.files);
  auto client = make_http_client(io, trusting(cert.files));
  SECTION("by IP address") {
    auto result = send_and_wait(*client, make_request(https_url("127.0.0.1", server->port(), "/by-ip")));
    REQUIRE(result.error.empty());
    CHECK(result.response.status == 200);
    CHECK(result.response.body == "/by-ip");
  }
  SECTION("by host name") {
    auto result = send_and_wait(*client, make_request(https_url("localhost", server->port(), "/by-name")));
    REQUIRE(result.error.empty());
    CHECK(result.response.body == "/by-name");
  }
}

TEST_CASE("the operator's CA file verifies the operator's endpoints only: a tenant's server with a certificate it "
          "signs is refused, on a connection of its own", "[http_client][tls]") {
  temp_cert cert;
  raw_http_server server{raw_http_server::behavior::answer, cert.files.cert_file, cert.files.key_file};
  io_runtime io{1};
  auto client = make_http_client(io, trusting(cert.files));
  auto controller = send_and_wait(*client, make_request(server.url("/controller")));
  REQUIRE(controller.error.empty());
  CHECK(controller.response.body == "/controller");
  // The same origin named by a tenant: verified against the system's store, which does not know the CA.
  auto tenant = send_and_wait(*client, tenant_request(server.url("/tenant")));
  CHECK_THAT(tenant.error, StartsWith("tls handshake: certificate verify failed"));
  CHECK(tenant.failure == feedrouter::transport_failure::no_response);
  CHECK(server.requests().size() == 1);
  // Not the operator's kept-alive connection, either.
  CHECK(server.connections() == 2);
}

TEST_CASE("insecure_skip_verify never applies to a tenant's https server", "[http_client][tls]") {
  temp_cert cert{"other.example"};
  io_runtime io{1};
  auto server = start_tls_echo_server(io, cert.files);
  http_client_options opts;
  opts.insecure_skip_verify = true;
  auto client = make_http_client(io, opts);
  REQUIRE(send_and_wait(*client, make_request(https_url("127.0.0.1", server->port(), "/dev"))).ok());
  auto tenant = send_and_wait(*client, tenant_request(https_url("127.0.0.1", server->port(), "/tenant")));
  CHECK_THAT(tenant.error, StartsWith("tls handshake: certificate verify failed"));
}

TEST_CASE("the client rejects a self-signed server when it trusts the default store", "[http_client][tls]") {
  temp_cert cert;
  io_runtime io{1};
  auto server = start_tls_echo_server(io, cert.files);
  auto client = make_http_client(io);
  auto result = send_and_wait(*client, make_request(https_url("127.0.0.1", server->port(), "/")));
  CHECK_THAT(result.error, StartsWith("tls handshake: certificate verify failed"));
  CHECK_THAT(result.error, Contains("self-signed certificate"));
}

TEST_CASE("insecure_skip_verify accepts a self-signed server", "[http_client][tls]") {
  temp_cert cert{"other.example"};
  io_runtime io{1};
  auto server = start_tls_echo_server(io, cert.files);
  http_client_options opts;
  opts.insecure_skip_verify = true;
  auto client = make_http_client(io, opts);
  // Neither the chain nor the name is checked: the certificate is for another name, too.
  auto result = send_and_wait(*client, make_request(https_url("127.0.0.1", server->port(), "/dev")));
  REQUIRE(result.error.empty());
  CHECK(result.response.body == "/dev");
}

TEST_CASE("a trusted certificate for another name fails verification", "[http_client][tls]") {
  temp_cert cert{"other.example"};
  io_runtime io{1};
  auto server = start_tls_echo_server(io, cert.files);
  auto client = make_http_client(io, trusting(cert.files));
  SECTION("by IP address") {
    auto result = send_and_wait(*client, make_request(https_url("127.0.0.1", server->port(), "/")));
    CHECK(result.error == "tls handshake: certificate verify failed (IP address mismatch)");
  }
  SECTION("by host name") {
    auto result = send_and_wait(*client, make_request(https_url("localhost", server->port(), "/")));
    CHECK(result.error == "tls handshake: certificate verify failed (hostname mismatch)");
  }
}

TEST_CASE("the client sends SNI for host names but not for IP addresses", "[http_client][tls]") {
  temp_cert cert;
  raw_http_server server{raw_http_server::behavior::answer, cert.files.cert_file, cert.files.key_file};
  io_runtime io{1};
  auto client = make_http_client(io, trusting(cert.files));
  REQUIRE(send_and_wait(*client, make_request(https_url("localhost", server.port(), "/"))).ok());
  REQUIRE(send_and_wait(*client, make_request(https_url("127.0.0.1", server.port(), "/"))).ok());
  CHECK(server.server_names() == std::vector<std::string>{"localhost", ""});
}

TEST_CASE("the client reuses one kept-alive TLS connection for sequential requests", "[http_client][tls]") {
  temp_cert cert;
  raw_http_server server{raw_http_server::behavior::answer, cert.files.cert_file, cert.files.key_file};
  io_runtime io{2};
  auto client = make_http_client(io, trusting(cert.files));
  constexpr int count = 50;
  for (int i = 0; i < count; ++i) {
    auto target = "/tls-seq/" + std::to_string(i);
    auto result = send_and_wait(*client, make_request(server.url(target)));
    REQUIRE(result.error.empty());
    CHECK(result.response.body == target);
  }
  CHECK(server.connections() == 1);
  CHECK(server.server_names().size() == 1);
}

TEST_CASE("a kept-alive TLS connection closed by the server is retried transparently", "[http_client][tls]") {
  temp_cert cert;
  raw_http_server server{raw_http_server::behavior::close_after_answer, cert.files.cert_file, cert.files.key_file};
  io_runtime io{1};
  auto client = make_http_client(io, trusting(cert.files));
  constexpr int count = 5;
  for (int i = 0; i < count; ++i) {
    auto target = "/tls-retry/" + std::to_string(i);
    auto result = send_and_wait(*client, make_request(server.url(target), "POST"));
    REQUIRE(result.error.empty());
    CHECK(result.response.body == target);
  }
  // The first request opens a connection; every later one finds it closed and retries once on a fresh one.
  CHECK(server.connections() == count);
}

TEST_CASE("concurrent https requests share a bounded pool of TLS connections", "[http_client][tls]") {
  temp_cert cert;
  io_runtime io{2};
  auto server = start_tls_echo_server(io, cert.files);
  auto opts = trusting(cert.files);
  opts.max_connections_per_origin = 4;
  auto client = make_http_client(io, opts);
  constexpr std::size_t count = 200;
  std::vector<std::future<client_result>> results;
  for (std::size_t i = 0; i < count; ++i) {
    auto promise = std::make_shared<std::promise<client_result>>();
    results.push_back(promise->get_future());
    client->send(make_request(https_url("127.0.0.1", server->port(), "/c/" + std::to_string(i))),
                 [promise](client_result r) { promise->set_value(std::move(r)); });
  }
  for (std::size_t i = 0; i < count; ++i) {
    REQUIRE(results[i].wait_for(test_deadline) == std::future_status::ready);
    auto result = results[i].get();
    REQUIRE(result.error.empty());
    CHECK(result.response.body == "/c/" + std::to_string(i));
  }
}

TEST_CASE("a TLS handshake that never completes times out", "[http_client][tls]") {
  // A plain server waits for a request head that a ClientHello never contains.
  raw_http_server server{raw_http_server::behavior::never_answer};
  io_runtime io{1};
  http_client_options opts;
  opts.insecure_skip_verify = true;
  auto client = make_http_client(io, opts);
  auto req = make_request(https_url("127.0.0.1", server.port(), "/"));
  req.timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto result = send_and_wait(*client, std::move(req));
  CHECK(result.error == "timeout");
  CHECK(std::chrono::steady_clock::now() - started >= 200ms);
}

TEST_CASE("an https request to a plain HTTP server fails its handshake", "[http_client][tls]") {
  io_runtime io{1};
  auto server = start_http_server(io, {"127.0.0.1", 0}, [](http_request, http_server::responder respond) {
    respond({});
  });
  http_client_options opts;
  opts.insecure_skip_verify = true;
  auto client = make_http_client(io, opts);
  auto result = send_and_wait(*client, make_request(https_url("127.0.0.1", server->port(), "/")));
  CHECK_THAT(result.error, StartsWith("tls handshake: "));
}

TEST_CASE("a CA file that cannot be loaded is a start-up error", "[http_client][tls]") {
  io_runtime io{1};
  temp_cert cert;
  http_client_options opts;
  SECTION("missing") {
    opts.ca_file = cert.files.dir + "/missing.pem";
    CHECK_THROWS_WITH(make_http_client(io, opts),
                      "cannot read CA file " + opts.ca_file + ": No such file or directory");
  }
  SECTION("without a certificate") {
    opts.ca_file = cert.files.dir + "/empty.pem";
    std::ofstream{opts.ca_file} << "not a certificate\n";
    CHECK_THROWS_WITH(make_http_client(io, opts), "cannot load CA file " + opts.ca_file
                                                    + ": expected PEM certificates (no certificate or crl found)");
  }
}
