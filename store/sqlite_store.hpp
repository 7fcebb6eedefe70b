#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/detail/schema.hpp"
#include "store/detail/store_key.hpp"
#include "store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace feedrouter {

/// Keeps the provider's state in one SQLite file (WAL, synchronous=NORMAL), locked exclusively for the lifetime of
/// the object so that no second process (or second store in this process) can use the same file. The file and its
/// WAL are private to their owner (0600); secrets are sealed under the store's secrets_key.
///
/// The file is watched: once it is deleted or replaced, or SQLite reports damage or an I/O error, every later write
/// is refused (check() says why), so that nothing is reported committed that a restart would not find.
///
/// Internal to store/: other layers get one through open_store() and see only `store`.
class sqlite_store final : public store_admin {
public:
  // -- constants --------------------------------------------------------------

  /// The schema version (PRAGMA user_version) this build creates and reads; the last step in sqlite_store.cpp's
  /// migration list.
  static constexpr int schema_version = detail::schema_version;

  /// The first schema version whose secrets are sealed; migrating to it seals the plaintext of older files.
  static constexpr int sealed_since_version = detail::sealed_since_version;

  /// The first schema version with a shard column; migrating to it computes the shard of every registration.
  static constexpr int sharded_since_version = detail::sharded_since_version;

  // -- constructors, destructors, and assignment operators --------------------

  /// Opens the database at `path` (":memory:" for a private in-memory one), creating the file and schema when
  /// missing, checking its integrity, loading the secrets key from opts.key_file (created when missing and the store
  /// is not sealed yet; empty: a key of the object's own) and migrating an older schema. Throws
  /// store_open_error when the file is empty, cannot be opened, is not a SQLite database, is locked, is damaged, has
  /// a newer schema, or does not match the key; the file is left untouched then.
  sqlite_store(const std::string& path, const store_options& opts);

  ~sqlite_store() override;

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  // store
  std::vector<registration_record> load_all() override;
  std::vector<registration_record> load_shards(const std::vector<std::uint32_t>& shards) override;
  std::vector<dead_letter> load_dead_letters(const trigger_ref& trigger, std::size_t limit) override;
  std::optional<pending_page> load_pending(const trigger_ref& trigger, std::uint64_t from_seq, std::size_t max_rows,
                                           std::size_t max_bytes) override;
  std::optional<std::string> commit(const std::vector<store_op>& ops) override;
  std::optional<std::string> check() override;

  // store_admin
  std::shared_ptr<const secrets_key> key() const override;
  std::size_t unreadable_secrets() const override;
  std::size_t reseal(std::shared_ptr<const secrets_key> next) override;

private:
  // -- member types -----------------------------------------------------------

  struct db_closer {
    void operator()(sqlite3* db) const noexcept;
  };

  struct stmt_finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };

  /// What tells one file from another: a file put in the store's place has another device or inode.
  struct file_identity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;

    friend bool operator==(const file_identity& x, const file_identity& y) {
      return x.device == y.device && x.inode == y.inode;
    }
  };

  /// A registration's secrets in plaintext, on their way to be sealed.
  struct plain_secrets {
    trigger_ref trigger;
    std::string params_json;
    std::string auth_key;
  };

  using db_ptr = std::unique_ptr<sqlite3, db_closer>;
  using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

  // -- opening ----------------------------------------------------------------

  [[noreturn]] void fail_open(int rc, const std::string& doing) const;
  void refuse_empty_file(bool init_store) const;
  void open_private(bool create);
  void exec_or_fail(const char* sql, const std::string& doing);
  int read_user_version();
  void lock_and_check_version();
  void check_integrity(bool full);
  void restrict_file_modes() const;
  void enable_wal();
  std::optional<std::string> read_meta(std::string_view name);
  std::optional<std::string> write_meta(std::string_view name, std::string_view value);
  std::optional<detail::sealing_key> read_sealing_key();
  void load_key(const std::string& file);
  void migrate();
  void seal_plaintext_rows();
  void assign_shards();
  void check_shard_count();
  std::optional<std::string> write_sealed(const std::vector<plain_secrets>& rows, const secrets_key& key);
  std::optional<std::string> write_sealing_key(const secrets_key& key);
  void erase_free_space();
  stmt_ptr prepare(const char* sql);

  // -- watching ---------------------------------------------------------------

  std::optional<file_identity> read_identity() const;
  void refuse_writes(const std::string& reason);
  void note_failure(int rc);

  // -- reading ----------------------------------------------------------------

  std::vector<registration_record> load(sqlite3_stmt* registrations, sqlite3_stmt* pending,
                                        sqlite3_stmt* dead_letter_seqs, sqlite3_stmt* deliveries,
                                        const std::string& shards_json);

  // -- committing -------------------------------------------------------------

  std::optional<std::string> apply(const store_op& op);
  std::optional<std::string> put_delivery(const trigger_ref& trigger, const taken_delivery& delivery);
  std::optional<std::string> erase_registration(const trigger_ref& trigger);
  std::optional<std::string> run(sqlite3_stmt* stmt, int bind_rc);
  void rollback();

  // -- member variables -------------------------------------------------------

  std::string path_;
  std::shared_ptr<const secrets_key> key_;
  /// The file opened; nullopt for an in-memory database.
  std::optional<file_identity> identity_;
  /// Why writes are refused, set once for good; empty while the store is sound.
  std::string refusal_;
  /// Registrations whose secrets the last load_all() could not open.
  std::size_t unreadable_ = 0;
  db_ptr db_; // declared before the statements: they are finalized first
  stmt_ptr begin_;
  stmt_ptr commit_;
  stmt_ptr rollback_;
  stmt_ptr put_registration_;
  stmt_ptr put_status_;
  stmt_ptr erase_;
  stmt_ptr erase_events_of_;
  stmt_ptr erase_dead_letters_of_;
  stmt_ptr erase_deliveries_of_;
  stmt_ptr put_event_;
  stmt_ptr erase_event_;
  stmt_ptr put_dead_letter_;
  stmt_ptr erase_dead_letter_;
  stmt_ptr put_delivery_;
  stmt_ptr prune_deliveries_;
  stmt_ptr select_all_;
  stmt_ptr select_pending_;
  stmt_ptr select_dead_letter_seqs_;
  stmt_ptr select_deliveries_;
  stmt_ptr select_shards_;
  stmt_ptr select_shards_pending_;
  stmt_ptr select_shards_dead_letter_seqs_;
  stmt_ptr select_shards_deliveries_;
  stmt_ptr select_dead_letters_;
  stmt_ptr select_pending_of_;
};

} // namespace feedrouter
