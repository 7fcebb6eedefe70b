#include "app/env_file.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("each line of an environment file that systemd would read otherwise than it seems is a problem naming it",
          "[env_file]") {
  auto file = parse_env_file("FEEDROUTER_LISTEN 127.0.0.1:80\n"
                             "1BAD=x\n"
                             "FEEDROUTER-STORE=x\n"
                             "A=\"unclosed\n"
                             "B='x' trailing\n"
                             "C=continued \\\n"
                             "GOOD=yes\n");
  CHECK(file.problems == std::vector<std::string>{
                           "line 1: not NAME=VALUE (systemd ignores the line)",
                           "line 2: '1BAD' is not a variable name",
                           "line 3: 'FEEDROUTER-STORE' is not a variable name",
                           "line 4: A: the double quote is not closed on this line (check-config reads one line per "
                           "value)",
                           "line 5: B: text after the closing quote",
                           "line 6: C: a value continued on the next line; write it on one line",
                         });
  REQUIRE(file.assignments.size() == 1);
  CHECK(file.assignments[0].name == "GOOD");
  CHECK(file.assignments[0].line == 7);
}
