#include "app/env_file.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

std::vector<std::string> values(const env_file& file) {
  std::vector<std::string> result;
  for (const auto& assignment : file.assignments)
    result.push_back(assignment.name + "=" + assignment.value);
  return result;
}

} // namespace

TEST_CASE("an environment file assigns NAME=VALUE lines and skips blanks and comments", "[env_file]") {
  auto file = parse_env_file("# settings\n"
                             "\n"
                             "; another comment\n"
                             "FEEDROUTER_LISTEN=127.0.0.1:8080\n"
                             "  FEEDROUTER_LOG_LEVEL = debug  \r\n"
                             "#FEEDROUTER_STORE=sqlite:/var/lib/feedrouter/feedrouter.db\n"
                             "FEEDROUTER_PUBLIC_URL=\n");
  CHECK(file.problems.empty());
  CHECK(values(file) == std::vector<std::string>{"FEEDROUTER_LISTEN=127.0.0.1:8080", "FEEDROUTER_LOG_LEVEL=debug",
                                                 "FEEDROUTER_PUBLIC_URL="});
  CHECK(file.assignments[1].line == 5);
}

TEST_CASE("an environment file takes quoted values as systemd does", "[env_file]") {
  auto file = parse_env_file("A='single $quoted \\ text'\n"
                             "B=\"a \\\"double\\\" \\$ \\\\ \\n\"\n"
                             "C=un\\ quoted\\\\\n"
                             "D=  \"  kept spaces  \"  \n");
  CHECK(file.problems.empty());
  CHECK(values(file) == std::vector<std::string>{"A=single $quoted \\ text", "B=a \"double\" $ \\ \\n",
                                                 "C=un quoted\\", "D=  kept spaces  "});
}
