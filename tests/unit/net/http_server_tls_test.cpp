#include "net/http_server.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "raw_http_client.hpp"
#include "self_signed_cert.hpp"

using namespace std::chrono_literals;

using Catch::Matchers::StartsWith;
using feedrouter::http_request;
using feedrouter::http_response;
using feedrouter::http_server;
using feedrouter::io_runtime;
using feedrouter::start_http_server;
using feedrouter::test::make_self_signed_cert;
using feedrouter::test::raw_http_client;
using feedrouter::test::self_signed;

namespace {

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

http_server::options tls_options(std::string cert_file, std::string key_file) {
  http_server::options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.tls_cert_file = std::move(cert_file);
  opts.tls_key_file = std::move(key_file);
  return opts;
}

void ignore_request(http_request, http_server::responder respond) {
  respond({});
}

} // namespace

TEST_CASE("a TLS server closes a plain HTTP connection without answering", "[http_server][tls]") {
  temp_cert cert;
  io_runtime io{1};
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto server = start_http_server(io, tls_options(cert.files.cert_file, cert.files.key_file),
                                  [calls](http_request, http_server::responder respond) {
                                    ++*calls;
                                    respond({});
                                  });
  raw_http_client client{server->port()};
  client.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(client.wait_closed(5s));
  CHECK(*calls == 0);
}

TEST_CASE("TLS files that cannot be used are a start-up error", "[http_server][tls]") {
  temp_cert cert;
  io_runtime io{1};
  auto missing = cert.files.dir + "/missing.pem";
  SECTION("a missing certificate") {
    CHECK_THROWS_WITH(start_http_server(io, tls_options(missing, cert.files.key_file), ignore_request),
                      "cannot read TLS certificate " + missing + ": No such file or directory");
  }
  SECTION("a missing key") {
    CHECK_THROWS_WITH(start_http_server(io, tls_options(cert.files.cert_file, missing), ignore_request),
                      "cannot read TLS key " + missing + ": No such file or directory");
  }
  SECTION("a key file that holds a certificate") {
    CHECK_THROWS_WITH(start_http_server(io, tls_options(cert.files.cert_file, cert.files.cert_file), ignore_request),
                      StartsWith("cannot load TLS key " + cert.files.cert_file
                                 + ": expected an unencrypted PEM private key ("));
  }
  SECTION("a key of another certificate") {
    temp_cert other{"other.example"};
    CHECK_THROWS_WITH(start_http_server(io, tls_options(cert.files.cert_file, other.files.key_file), ignore_request),
                      "TLS key " + other.files.key_file + " does not match certificate " + cert.files.cert_file);
  }
  SECTION("a certificate without a key") {
    CHECK_THROWS_WITH(start_http_server(io, tls_options(cert.files.cert_file, ""), ignore_request),
                      "TLS needs both a certificate file and a key file");
  }
}
