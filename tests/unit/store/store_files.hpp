#pragma once

// Store files as the SQLite store tests create, read and tamper with them behind the store's back.

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace feedrouter::test {

/// A fresh directory under /tmp, removed with its contents when the test ends.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = "/tmp/feedrouter-store-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

  std::string file(const std::string& name) const {
    return path_ + '/' + name;
  }

  std::string spec(const std::string& name) const {
    return "sqlite:" + file(name);
  }

private:
  std::string path_;
};

/// Runs `sql` on `path` with a plain SQLite connection (the store must be closed); returns SQLite's error, if any.
inline std::optional<std::string> raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::optional<std::string> error;
  char* text = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
    error = sqlite3_errmsg(db);
  else if (sqlite3_exec(db, sql, nullptr, nullptr, &text) != SQLITE_OK)
    error = text != nullptr ? text : "unknown error";
  sqlite3_free(text);
  sqlite3_close(db);
  return error;
}

// The queries below open the file read-write, although they only read: a read-write connection removes the WAL and
// shared-memory files it used when it closes, as the store does, so that they do not show up as changes.

/// Returns the single value `sql` yields as text, read with a plain SQLite connection (the store must be closed);
/// empty when there is none.
inline std::string query_text(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  std::string result;
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr)
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

/// Returns the single integer `sql` yields, read with a plain SQLite connection (the store must be closed); -1 when
/// there is none.
inline std::int64_t query_int(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t result = -1;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK
      && sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    result = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

/// Returns the integers of the first column of every row `sql` yields, read with a plain SQLite connection (the
/// store must be closed).
inline std::vector<std::int64_t> query_ints(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::vector<std::int64_t> result;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK
      && sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW)
      result.push_back(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

/// Returns the text of the first column of every row `sql` yields, read with a plain SQLite connection (the store
/// must be closed).
inline std::vector<std::string> query_texts(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> result;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK
      && sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW)
      result.emplace_back(sqlite3_column_text(stmt, 0) != nullptr
                            ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                            : "");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

/// Returns the bytes of a file; empty when it does not exist.
inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary};
  out << bytes;
}

/// Returns the permission bits of a file, or nullopt when it does not exist.
inline std::optional<unsigned> file_mode(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return std::nullopt;
  return static_cast<unsigned>(info.st_mode & 07777);
}

/// Overwrites page `page` (1-based) of a database file with bytes no b-tree page can start with. The file may be
/// open in a store: file locks do not keep other writers out, which is how damage reaches a running store.
inline void clobber_page(const std::string& path, std::int64_t page, std::int64_t page_size) {
  std::fstream file{path, std::ios::in | std::ios::out | std::ios::binary};
  file.seekp((page - 1) * page_size);
  std::string garbage(static_cast<std::size_t>(page_size), '\xff');
  file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

/// The bytes and modification time of a file and the names in its directory: what a refused open must not change.
struct file_snapshot {
  std::string bytes;
  std::int64_t mtime_ns = 0;
  std::vector<std::string> names;
};

inline file_snapshot take_snapshot(const temp_dir& dir, const std::string& name) {
  file_snapshot result;
  result.bytes = read_file(dir.file(name));
  struct stat info {};
  if (::stat(dir.file(name).c_str(), &info) == 0)
    result.mtime_ns = std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
  for (const auto& entry : std::filesystem::directory_iterator{dir.path()})
    result.names.push_back(entry.path().filename().string());
  std::sort(result.names.begin(), result.names.end());
  return result;
}

inline void check_unchanged(const file_snapshot& before, const file_snapshot& after) {
  CHECK(before.bytes.size() == after.bytes.size());
  CHECK((before.bytes == after.bytes));
  CHECK(before.mtime_ns == after.mtime_ns);
  CHECK(before.names == after.names);
}

} // namespace feedrouter::test
