#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace feedrouter {

/// One NAME=VALUE line of an environment file.
struct env_assignment {
  std::string name;
  std::string value;
  int line = 0; ///< 1-based
};

/// What reading an environment file found: its assignments in file order, and one line per problem.
struct env_file {
  std::vector<env_assignment> assignments;
  std::vector<std::string> problems;
};

/// Reads `text` as systemd's EnvironmentFile= does (systemd.exec(5)), for the forms a configuration file needs:
/// blank lines and lines starting with '#' or ';' are skipped; `NAME=VALUE` assigns, with whitespace around the name
/// and the value dropped; a value may be in single quotes (taken verbatim) or double quotes (where a backslash keeps
/// the next '"', '\\', '`' or '$'), and an unquoted value keeps the character after each backslash.
///
/// Stricter than systemd where systemd would silently do something else than the file seems to say: a line without
/// '=' (which systemd ignores), a name that is not a shell variable name, text after a closing quote, an unclosed quote
/// and a line continued with a trailing backslash are each a problem naming the line.
env_file parse_env_file(std::string_view text);

} // namespace feedrouter
