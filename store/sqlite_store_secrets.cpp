#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <string_view>
#include <utility>

#include "core/log.hpp"
#include "store/detail/loaded_records.hpp"
#include "store/detail/sqlite_rows.hpp"

// The secrets part of the SQLite store: which key seals it, sealing an older file's plaintext, opening what load_all
// reads, and sealing everything again under a new key.

namespace feedrouter {

using namespace detail;

namespace {

constexpr const char* select_secrets_sql = "SELECT namespace, name, params_json, auth_key FROM registrations";

constexpr const char* update_secrets_sql
  = "UPDATE registrations SET params_json = ?, auth_key = ?, auth_lookup = ? WHERE namespace = ? AND name = ?";

} // namespace

// -- opening --------------------------------------------------------------------

std::optional<sealing_key> sqlite_store::read_sealing_key() {
  if (read_user_version() < sealed_since_version)
    return std::nullopt;
  auto check_value = read_meta(key_check_meta);
  if (!check_value || check_value->empty())
    return std::nullopt;
  return sealing_key{read_meta(key_id_meta).value_or(""), std::move(*check_value)};
}

void sqlite_store::load_key(const std::string& file) {
  key_ = load_store_key(file, read_sealing_key(), path_);
}

void sqlite_store::seal_plaintext_rows() {
  auto fail = [this](const std::string& what) {
    throw store_open_error("cannot open store '" + path_ + "': " + what);
  };
  std::vector<plain_secrets> rows;
  auto select = prepare(select_secrets_sql);
  if (auto err = for_each_row(db_.get(), select.get(), [&](sqlite3_stmt* stmt) {
        rows.push_back({{column_text(stmt, 0), column_text(stmt, 1)}, column_text(stmt, 2), column_text(stmt, 3)});
      }))
    fail("reading the secrets to seal failed: " + err->message);
  if (auto err = write_sealed(rows, *key_))
    fail(*err);
  if (auto err = write_sealing_key(*key_))
    fail(*err);
}

std::optional<std::string> sqlite_store::write_sealed(const std::vector<plain_secrets>& rows, const secrets_key& key) {
  auto update = prepare(update_secrets_sql);
  for (const auto& x : rows) {
    auto params = key.seal(x.params_json, x.trigger, secret_column::params_json);
    auto auth_key = key.seal(x.auth_key, x.trigger, secret_column::auth_key);
    auto lookup = key.hash_auth_key(x.auth_key);
    binder args{update.get()};
    args.text(params).text(auth_key).text(lookup).key(x.trigger);
    if (auto err = run(update.get(), args.result()))
      return "sealing the secrets of " + x.trigger.key() + " failed: " + *err;
  }
  return std::nullopt;
}

std::optional<std::string> sqlite_store::write_sealing_key(const secrets_key& key) {
  for (auto [name, value] : {std::pair{key_check_meta, std::string_view{key.check_value()}},
                             std::pair{key_id_meta, std::string_view{key.id()}}}) {
    if (auto err = write_meta(name, value))
      return "recording the secrets key failed: " + *err;
  }
  return std::nullopt;
}

// -- store_admin ----------------------------------------------------------------

std::shared_ptr<const secrets_key> sqlite_store::key() const {
  return key_;
}

std::size_t sqlite_store::unreadable_secrets() const {
  return unreadable_;
}

std::size_t sqlite_store::reseal(std::shared_ptr<const secrets_key> next) {
  auto fail = [this](const std::string& what) {
    rollback();
    throw store_open_error("cannot re-seal store '" + path_ + "': " + what);
  };
  if (auto err = run(begin_.get(), SQLITE_OK))
    fail(*err);
  std::vector<plain_secrets> rows;
  std::string unreadable;
  auto select = prepare(select_secrets_sql);
  auto read = for_each_row(db_.get(), select.get(), [&](sqlite3_stmt* stmt) {
    trigger_ref trigger{column_text(stmt, 0), column_text(stmt, 1)};
    auto params = key_->open(column_text(stmt, 2), trigger, secret_column::params_json);
    auto auth_key = key_->open(column_text(stmt, 3), trigger, secret_column::auth_key);
    if (params && auth_key)
      rows.push_back({std::move(trigger), std::move(*params), std::move(*auth_key)});
    else if (unreadable.empty())
      unreadable = trigger.key();
  });
  if (read)
    fail(read->message);
  // A value the current key cannot open would be lost for good under the next one: the operator decides first.
  if (!unreadable.empty())
    fail("the secrets of " + unreadable + " cannot be opened with key " + key_->id()
         + "; delete that registration first");
  if (auto err = write_sealed(rows, *next))
    fail(*err);
  if (auto err = write_sealing_key(*next))
    fail(*err);
  if (auto err = run(commit_.get(), SQLITE_OK))
    fail(*err);
  key_ = std::move(next);
  erase_free_space();
  return rows.size();
}

} // namespace feedrouter
