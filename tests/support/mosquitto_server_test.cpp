#include "tests/support/mosquitto_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace feedrouter::test {

TEST_CASE("the mosquitto test server listens on a loopback port of its own and keeps it across a restart",
          "[mosquitto_server]") {
  std::string dir;
  {
    mosquitto_server server;
    dir = server.directory();
    REQUIRE(server.running());
    CHECK(server.port() > 0);
    CHECK(server.url() == "mqtt://127.0.0.1:" + std::to_string(server.port()));
    auto port = server.port();
    server.publish("t/1", "hello");
    server.stop();
    CHECK_FALSE(server.running());
    server.start();
    CHECK(server.port() == port);
    server.publish("t/2", "again", 0);
    CHECK(server.log_text().find("mosquitto version") != std::string::npos);
    if (::geteuid() == 0) {
      // Started as root, the broker runs as the mosquitto user, which must own its data.
      struct stat info {};
      REQUIRE(::stat((dir + "/data").c_str(), &info) == 0);
      CHECK(info.st_uid != 0);
    }
  }
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("the mosquitto test server refuses anonymous clients when given users, and the publisher logs in",
          "[mosquitto_server]") {
  mosquitto_server::options opts;
  opts.anonymous = false;
  opts.users = {{"alice", "s3cret"}, {"bob", "other"}};
  mosquitto_server server{opts};
  server.publish("t", "as alice");
  CHECK(server.log_text().find("u'alice'") != std::string::npos);
}

TEST_CASE("the mosquitto test server can be killed and started again", "[mosquitto_server]") {
  mosquitto_server::options opts;
  opts.save_every_change = true;
  mosquitto_server server{opts};
  server.kill();
  CHECK_FALSE(server.running());
  server.start();
  server.publish("t", "after the kill");
}

} // namespace feedrouter::test
