#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <string_view>
#include <utility>

#include "core/log.hpp"
#include "store/detail/sqlite_rows.hpp"
#include "store/secrets_key_file.hpp"

// The secrets part of the SQLite store: which key seals it, sealing an older file's plaintext, opening what load_all
// reads, and sealing everything again under a new key.

namespace feedrouter {

using namespace detail;

namespace {

/// The meta row that holds the check value of the key the store is sealed with (secrets_key::check_value()).
constexpr std::string_view key_check_name = "key_check";

/// The meta row that holds that key's id, so that an error can name it.
constexpr std::string_view key_id_name = "key_id";

constexpr const char* select_secrets_sql = "SELECT namespace, name, params_json, auth_key FROM registrations";

constexpr const char* update_secrets_sql
  = "UPDATE registrations SET params_json = ?, auth_key = ?, auth_lookup = ? WHERE namespace = ? AND name = ?";

constexpr const char* select_meta_sql = "SELECT name, value FROM meta";

constexpr const char* put_meta_sql = "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)";

} // namespace

// -- opening --------------------------------------------------------------------

std::optional<sqlite_store::sealing_key> sqlite_store::read_sealing_key() {
  if (read_user_version() < sealed_since_version)
    return std::nullopt;
  auto stmt = prepare(select_meta_sql);
  sealing_key result;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    auto name = column_text(stmt.get(), 0);
    if (name == key_check_name)
      result.check_value = column_text(stmt.get(), 1);
    else if (name == key_id_name)
      result.id = column_text(stmt.get(), 1);
  }
  if (rc != SQLITE_DONE)
    fail_open(rc, "reading which key sealed the store");
  if (result.check_value.empty())
    return std::nullopt;
  return result;
}

void sqlite_store::load_key(const std::string& file) {
  auto sealed_with = read_sealing_key();
  if (file.empty()) {
    // An in-memory store without a key file: nothing outlives it, its key included.
    key_ = std::make_shared<const secrets_key>(secrets_key::generate());
    return;
  }
  if (!key_file_exists(file)) {
    if (sealed_with)
      throw store_open_error("store '" + path_ + "' is sealed with secrets key " + sealed_with->id
                             + ", but the key file '" + file + "' does not exist: restore that file from its backup "
                             "(a new key cannot read the store)");
    auto created = std::make_shared<const secrets_key>(secrets_key::generate());
    create_key_file(file, *created);
    log(log_level::debug, "created secrets key file '", file, "' (key ", created->id(), ") for store '", path_, "'");
    key_ = std::move(created);
    return;
  }
  key_ = std::make_shared<const secrets_key>(read_key_file(file));
  if (sealed_with && sealed_with->check_value != key_->check_value()) {
    auto unfinished = pending_key_file(file);
    auto hint = key_file_exists(unfinished)
                  ? " (a key rotation that stopped half-way left its new key in '" + unfinished + "')"
                  : std::string{};
    throw store_open_error("secrets key file '" + file + "' holds key " + key_->id() + ", but store '" + path_
                           + "' is sealed with key " + sealed_with->id
                           + ": start with the key file the store was sealed with" + hint);
  }
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
  auto put = prepare(put_meta_sql);
  for (auto [name, value] : {std::pair{key_check_name, std::string_view{key.check_value()}},
                             std::pair{key_id_name, std::string_view{key.id()}}}) {
    binder args{put.get()};
    args.text(name).text(value);
    if (auto err = run(put.get(), args.result()))
      return "recording the secrets key failed: " + *err;
  }
  return std::nullopt;
}

// -- reading ----------------------------------------------------------------------

void sqlite_store::open_secrets(std::vector<registration_record>& records) {
  std::size_t unreadable = 0;
  std::string first;
  for (auto& rec : records) {
    auto params = key_->open(rec.params_json, rec.trigger, secret_column::params_json);
    auto auth_key = key_->open(rec.auth_key, rec.trigger, secret_column::auth_key);
    if (params && auth_key) {
      rec.params_json = std::move(*params);
      rec.auth_key = std::move(*auth_key);
      continue;
    }
    // The sealed values stay in the store untouched: only a new CREATE replaces them.
    rec.params_json.clear();
    rec.auth_key.clear();
    disable_loaded(rec, "its secrets cannot be opened with the store's key (an altered or damaged row); create it "
                        "again");
    if (unreadable++ == 0)
      first = rec.trigger.key();
  }
  unreadable_ = unreadable;
  if (unreadable > 0)
    log(log_level::error, "store '", path_, "': the secrets of ", unreadable,
        " registrations cannot be opened with key ", key_->id(), " (the first: ", first,
        "); they stay disabled until created again");
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
