#include "app/check_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <openssl/crypto.h>

#include "app/admin_key.hpp"
#include "app/env_file.hpp"
#include "app/store_check.hpp"
#include "store/secrets_key_file.hpp"

namespace feedrouter {

namespace {

constexpr std::string_view env_prefix = "FEEDROUTER_";

/// What parse_options() starts every line of a usage error with; a problem line gets it once, when printed.
constexpr std::string_view program_prefix = "feedrouter: ";

using problem_list = std::vector<std::string>;

std::string without_program_prefix(const std::string& text) {
  return text.compare(0, program_prefix.size(), program_prefix) == 0 ? text.substr(program_prefix.size()) : text;
}

/// What reading the --config file gave: its problems, and the settings parsed again with its assignments applied to
/// the environment (nullopt when they do not parse).
struct applied_config {
  problem_list problems;
  std::optional<options> settings;
};

applied_config apply_config_file(int argc, char** argv, const options& opts) {
  const auto& file = opts.config_file;
  applied_config result;
  std::ifstream in{file};
  if (!in) {
    result.problems.push_back("--config: cannot read '" + file + "': " + std::strerror(errno));
    result.settings = opts;
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_env_file(text.str());
  for (const auto& problem : parsed.problems)
    result.problems.push_back("--config '" + file + "' " + problem);
  for (const auto& assignment : parsed.assignments)
    ::setenv(assignment.name.c_str(), assignment.value.c_str(), 1);
  auto again = parse_options(argc, argv);
  if (auto* failed = std::get_if<exit_request>(&again))
    result.problems.push_back(without_program_prefix(failed->text));
  else
    result.settings = std::get<options>(std::move(again));
  return result;
}

/// Returns a problem for each FEEDROUTER_* variable in the environment that no flag reads.
problem_list check_variable_names(const options& opts) {
  std::vector<std::string> unknown;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text{*entry};
    auto name = text.substr(0, text.find('='));
    if (name.substr(0, env_prefix.size()) != env_prefix)
      continue;
    auto known = std::find(opts.environment_names.begin(), opts.environment_names.end(), name);
    if (known == opts.environment_names.end())
      unknown.emplace_back(name);
  }
  std::sort(unknown.begin(), unknown.end());
  problem_list problems;
  for (const auto& name : unknown)
    problems.push_back(name + ": no setting reads this variable (a misspelt name is ignored by the service)");
  return problems;
}

problem_list check_ca_file(const options& opts) {
  if (opts.ca_file.empty())
    return {};
  if (std::ifstream in{opts.ca_file}; !in)
    return {"--ca-file: cannot read '" + opts.ca_file + "': " + std::strerror(errno)};
  return {};
}

/// Reads the admin key file as a start would; its content is never shown.
problem_list check_admin_key_file(const options& opts) {
  if (opts.admin_key_file.empty())
    return {};
  try {
    auto key = read_admin_key_file(opts.admin_key_file);
    OPENSSL_cleanse(key.data(), key.size());
    return {};
  } catch (const std::runtime_error& e) {
    return {std::string{"--admin-key-file: "} + e.what()};
  }
}

/// Reads the secrets key file on its own, for a store that cannot be opened to check it against.
problem_list check_key_file(const options& opts) {
  try {
    auto file = secrets_key_file_of(opts.store, store_options_of(opts));
    if (file.empty())
      return {};
    if (!key_file_exists(file))
      return {"secrets key file '" + file + "' does not exist: the store cannot be opened without it"};
    static_cast<void>(read_key_file(file));
    return {};
  } catch (const store_open_error& e) {
    return {e.what()};
  }
}

/// What checking the store found: problems, or the line that says what it is.
struct store_findings {
  problem_list problems;
  std::string line;
};

store_findings check_store(const options& opts) {
  auto verdict = check_store_soundness(opts);
  switch (verdict.what) {
    case store_verdict::kind::sound:
      return {{}, verdict.line};
    case store_verdict::kind::missing:
      return {{}, "store '" + store_display_name(opts.store)
                    + "' does not exist yet: the service creates it on its first start"};
    case store_verdict::kind::in_use: {
      problem_list problems{verdict.line + " (a running feedrouter?): stop it to check the store itself; the other "
                                           "settings and the secrets key file were checked"};
      auto key = check_key_file(opts);
      problems.insert(problems.end(), key.begin(), key.end());
      return {std::move(problems), {}};
    }
    case store_verdict::kind::unsound:
      break;
  }
  return {{verdict.line}, {}};
}

void append(problem_list& to, problem_list more) {
  to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

} // namespace

int run_check_config(int argc, char** argv, options opts, std::ostream& out, std::ostream& err) {
  constexpr int problems_found = 2;
  problem_list problems;
  std::optional<options> settings{std::move(opts)};
  if (!settings->config_file.empty()) {
    auto applied = apply_config_file(argc, argv, *settings);
    problems = std::move(applied.problems);
    settings = std::move(applied.settings);
  }
  std::string store_line;
  if (settings) {
    append(problems, check_variable_names(*settings));
    append(problems, check_ca_file(*settings));
    append(problems, check_admin_key_file(*settings));
    auto store = check_store(*settings);
    append(problems, std::move(store.problems));
    store_line = std::move(store.line);
  }
  for (const auto& problem : problems)
    err << program_prefix << problem << '\n';
  err.flush();
  if (!problems.empty())
    return problems_found;
  out << "settings are sound: listening on " << settings->listen_host << ':' << settings->listen_port
      << ", firing at " << settings->api_host.origin() << '\n'
      << store_line << std::endl;
  return 0;
}

} // namespace feedrouter
