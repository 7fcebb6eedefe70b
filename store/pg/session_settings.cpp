#include "store/pg/session_settings.hpp"

#include <libpq-fe.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>

#include "store/pg/connection.hpp"
#include "store/store.hpp"

namespace feedrouter::pg {

namespace {

/// Largest password file read: a password file holds one line.
constexpr std::size_t max_password_file_size = 1024;

/// Permission bits a password file must not have: any access by group or others.
constexpr mode_t group_other_bits = S_IRWXG | S_IRWXO;

/// Reads the password in `path`: its first line. Throws store_open_error naming the file when it cannot be read,
/// is not a regular file, may be accessed by group or others, or holds no password.
std::string read_password_file(const std::string& path) {
  auto fail = [&](const std::string& what) { return store_open_error("store password file '" + path + "': " + what); };
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    throw fail("cannot open: " + std::generic_category().message(errno));
  if (!S_ISREG(info.st_mode))
    throw fail("is not a regular file");
  if ((info.st_mode & group_other_bits) != 0)
    throw fail("may be accessed by group or others; allow its owner only: chmod 600 '" + path + "'");
  if (static_cast<std::size_t>(info.st_size) > max_password_file_size)
    throw fail("is larger than a password (" + std::to_string(max_password_file_size) + " bytes at most)");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw fail("cannot open: " + std::generic_category().message(errno));
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto line_end = text.find_first_of("\r\n");
  if (line_end != std::string::npos)
    text.resize(line_end);
  if (text.empty())
    throw fail("holds no password on its first line");
  return text;
}

} // namespace

std::unordered_map<std::string, std::string> parse_uri(const std::string& uri,
                                                       const std::vector<std::string>& secrets) {
  char* message = nullptr;
  auto* parsed = PQconninfoParse(uri.c_str(), &message);
  if (parsed == nullptr) {
    // The message may quote a part of the URI, the password among them.
    auto text = message != nullptr ? pg::one_line(message, secrets) : std::string{"out of memory"};
    PQfreemem(message);
    throw store_open_error("invalid --store value: " + text);
  }
  std::unordered_map<std::string, std::string> result;
  for (auto* option = parsed; option->keyword != nullptr; ++option)
    if (option->val != nullptr)
      result.emplace(option->keyword, option->val);
  PQconninfoFree(parsed);
  return result;
}

std::string raw_uri_password(const std::string& uri) {
  auto start = uri.find("://");
  if (start == std::string::npos)
    return {};
  start += 3;
  auto at = uri.find('@', start);
  auto slash = uri.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at))
    return {};
  auto colon = uri.find(':', start);
  if (colon == std::string::npos || colon > at)
    return {};
  return uri.substr(colon + 1, at - colon - 1);
}

session_settings settings_for(const std::string& uri, const std::string& password_file, const std::string& store_name,
                              const std::string& application, std::chrono::seconds connect_timeout) {
  session_settings result;
  result.secrets.push_back(raw_uri_password(uri));
  auto parts = parse_uri(uri, result.secrets);
  auto given = parts.find("password");
  if (given != parts.end())
    result.secrets.push_back(given->second);
  result.keywords.emplace_back("dbname", uri);
  if (!password_file.empty()) {
    if (given != parts.end())
      throw store_open_error("store '" + store_name + "': the URI holds a password and --store-password-file names "
                             "another source: give the password once");
    auto password = read_password_file(password_file);
    result.secrets.push_back(password);
    result.keywords.emplace_back("password", std::move(password));
  }
  // After the URI, so that these win over it; the fallback name and a time-out apply only where the URI sets none.
  result.keywords.emplace_back("fallback_application_name", application);
  result.keywords.emplace_back("client_encoding", "UTF8");
  if (parts.count("connect_timeout") == 0)
    result.keywords.emplace_back("connect_timeout", std::to_string(connect_timeout.count()));
  return result;
}

} // namespace feedrouter::pg
