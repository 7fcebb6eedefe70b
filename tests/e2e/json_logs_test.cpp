#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "core/auth_key.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/item_list_server.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a fire may take to show (a poll interval of 1 s, a retry after a 503); reached only when broken.
constexpr auto fire_timeout = 10s;

constexpr std::string_view webhook_secret = "whsec-4f1e9c0b7a3d-never-log-me";
constexpr std::string_view poll_header_value = "Bearer poll-token-81c2e5d7-never-log-me";
constexpr std::string_view couch_password = "couch-password-5a0d3f-never-log-me";

/// One line of the log, parsed: its string members and its integer members.
struct log_line {
  std::string text;
  std::map<std::string, std::string> strings;
  std::map<std::string, std::int64_t> numbers;

  std::string msg() const {
    auto i = strings.find("msg");
    return i == strings.end() ? std::string{} : i->second;
  }
};

/// Parses every line of `log` as one JSON object of strings and integers; fails the test on a line that is not.
std::vector<log_line> parse_lines(const std::string& log) {
  simdjson::dom::parser parser;
  std::vector<log_line> lines;
  std::istringstream in{log};
  std::string text;
  while (std::getline(in, text)) {
    INFO("line: " << text);
    REQUIRE(simdjson::validate_utf8(text.data(), text.size()));
    simdjson::dom::object object;
    REQUIRE(parser.parse(text).get(object) == simdjson::SUCCESS);
    log_line line{text, {}, {}};
    for (auto field : object) {
      std::string_view string_value;
      std::int64_t number = 0;
      if (field.value.get(string_value) == simdjson::SUCCESS)
        line.strings.emplace(std::string{field.key}, std::string{string_value});
      else if (field.value.get(number) == simdjson::SUCCESS)
        line.numbers.emplace(std::string{field.key}, number);
      else
        FAIL("member " << field.key << " is neither a string nor an integer");
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

bool is_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

} // namespace

TEST_CASE("with --log-format json every line at debug is one JSON object, each fire has a line with its activationId, "
          "and no line holds a secret", "[e2e][logs]") {
  e2e_fixture fx;
  const trigger_ref hooked{"alice", "hooked"};
  const trigger_ref polled{"alice", "polled"};
  const trigger_ref couch{"alice", "couch"};
  for (const auto& trigger : {hooked, polled, couch})
    fx.controller().add_trigger(trigger, std::string{alice_key});
  // The first fire of the webhook is refused once, so that a failed attempt is logged too.
  fx.controller().script(hooked, {fake_controller::scripted_answer::with_status(503)});
  item_list_server items;
  auto fr = fx.start_feedrouter({"--log-format", "json", "--log-level", "debug"});

  auto hook = create_webhook(*fr, hooked, "hmac-sha256", R"("secret":")" + std::string{webhook_secret} + '"');
  auto poll_body = R"({"feed":"poll","url":")" + items.url() + R"(","intervalSeconds":1,"itemsPointer":"/items",)"
                   + R"("idPointer":"/id","headers":{"X-Api-Token":")" + std::string{poll_header_value} + R"("}})";
  REQUIRE(fr->call(api_request("PUT", trigger_path(polled), alice_key, poll_body)).status == 201);
  // Nothing listens on port 1: the feed fails and retries, with its credentials in every attempt.
  auto couch_body = R"({"feed":"changes","url":"http://127.0.0.1:1","dbname":"db","since":"0","username":"admin",)"
                    + std::string{R"("password":")"} + std::string{couch_password} + R"("})";
  REQUIRE(fr->call(api_request("PUT", trigger_path(couch), alice_key, couch_body)).status == 201);
  post_event(*fr, hook, R"({"n":1})");
  post_event(*fr, hook, R"({"n":2})");
  REQUIRE(poll_until([&] { return items.polls() >= 1; }, fire_timeout));
  items.add(1);
  REQUIRE(fx.wait_for_fires_of(hooked, 2, fire_timeout));
  REQUIRE(fx.wait_for_fires_of(polled, 1, fire_timeout));
  fr->stop_cleanly();

  auto lines = parse_lines(fr->process().stderr_text());
  REQUIRE_FALSE(lines.empty());
  const std::vector<std::string> secrets{std::string{alice_key}, std::string{alice_key.substr(alice_key.find(':') + 1)},
                                         basic_authorization(alice_key).substr(std::string_view{"Basic "}.size()),
                                         std::string{webhook_secret},
                                         std::string{poll_header_value}, std::string{couch_password}};
  std::map<std::string, int> fired_per_trigger;
  int failed_hook_attempts = 0;
  for (const auto& line : lines) {
    INFO("line: " << line.text);
    CHECK(line.strings.count("ts") == 1);
    CHECK(line.strings.count("level") == 1);
    CHECK(line.strings.count("msg") == 1);
    for (const auto& secret : secrets)
      CHECK(line.text.find(secret) == std::string::npos);
    if (line.msg() == "fired") {
      CHECK(line.strings.at("namespace") == "alice");
      CHECK((line.strings.at("feed") == "webhook" || line.strings.at("feed") == "poll"));
      CHECK(line.numbers.at("statusCode") == 202);
      CHECK(line.numbers.at("attempt") >= 1);
      const auto& activation = line.strings.at("activationId");
      CHECK(activation.size() == 32);
      CHECK(is_hex(activation));
      ++fired_per_trigger[line.strings.at("trigger")];
    } else if (line.msg() == "fire failed" && line.strings.at("trigger") == hooked.name) {
      CHECK(line.numbers.at("statusCode") == 503);
      CHECK(line.numbers.at("attempt") == 1);
      ++failed_hook_attempts;
    }
  }
  // One line per fire the controller accepted, and one for the attempt it refused.
  CHECK(fired_per_trigger[hooked.name] == 2);
  CHECK(fired_per_trigger[polled.name] == 1);
  CHECK(failed_hook_attempts == 1);
}
