#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/detail/schema.hpp"
#include "store/detail/store_key.hpp"
#include "store/pg/connection.hpp"
#include "store/store.hpp"

namespace feedrouter {

/// Keeps the provider's state in a PostgreSQL database that several instances may share (docs/storage.md): the
/// tables of the SQLite store, plus the shard leases and the instances of a cluster. Secrets are sealed under the
/// store's secrets_key, which every instance reads from a key file of the same content.
///
/// One session, used by one thread; every call blocks until the server answered. A session that was lost is opened
/// again at the next call; a batch that was in flight then fails (and, when only its COMMIT was lost, may have been
/// committed: the error says so).
///
/// Internal to store/: other layers get one through open_store() and see only `store`.
class postgres_store final : public store_admin {
public:
  // -- constants --------------------------------------------------------------

  /// The schema version (the row of table schema_version) this build creates and reads; the last step in
  /// postgres_store.cpp's migration list, numbered like the SQLite store's.
  static constexpr int schema_version = detail::schema_version;

  // -- constructors, destructors, and assignment operators --------------------

  /// Connects to the database `uri` names ("postgresql://" or "postgres://", libpq's URI form), with the password
  /// from the URI, from opts.password_file, or from libpq's password file; creates or migrates the schema in one
  /// transaction (serialised with other instances doing the same); loads the secrets key from opts.key_file, which
  /// must be named. Throws store_open_error, one line without the password, when the URI is malformed, the server
  /// cannot be reached or refuses the login, the schema is newer than this build or belongs to something else, the
  /// shard count differs, or the key does not match the store; nothing is changed then.
  postgres_store(const std::string& uri, const store_options& opts);

  ~postgres_store() override;

  postgres_store(const postgres_store&) = delete;
  postgres_store& operator=(const postgres_store&) = delete;

  /// Returns the store's name for messages: the URI's user, hosts, ports and database, without password or options.
  static std::string display_name(const std::string& uri);

  // store
  std::vector<registration_record> load_all() override;
  std::vector<registration_record> load_shards(const std::vector<std::uint32_t>& shards) override;
  std::optional<registration_record> load_registration(const trigger_ref& trigger) override;
  std::vector<registration_record> load_owned(const std::string& auth_hash, const std::string& ns) override;
  std::size_t count_registrations(const std::string& ns) override;
  std::vector<registration_record> load_page(const std::string& ns, const std::optional<trigger_ref>& after,
                                             std::size_t limit) override;
  std::vector<namespace_count> count_namespaces(const std::string& after, std::size_t limit) override;
  std::vector<dead_letter> load_dead_letters(const trigger_ref& trigger, std::size_t limit) override;
  std::optional<pending_page> load_pending(const trigger_ref& trigger, std::uint64_t from_seq, std::size_t max_rows,
                                           std::size_t max_bytes) override;
  std::optional<std::string> commit(const std::vector<store_op>& ops) override;
  commit_result commit_fenced(const std::vector<store_op>& ops) override;
  std::optional<std::string> check() override;

  // store_admin
  std::shared_ptr<const secrets_key> key() const override;
  std::size_t unreadable_secrets() const override;
  std::size_t reseal(std::shared_ptr<const secrets_key> next) override;

private:
  // -- member types -----------------------------------------------------------

  /// What to do with a change whose fencing token is stale.
  enum class fencing {
    fail_batch, ///< commit(): the whole batch fails
    leave_out,  ///< commit_fenced(): that change is left out and its trigger reported
  };

  /// Which changes of a batch carry a stale fencing token, or why the leases could not be read.
  struct lease_check {
    std::vector<bool> stale;
    std::optional<std::string> error;
  };

  // -- opening ----------------------------------------------------------------

  [[noreturn]] void fail_open(const std::string& doing, const pg::error& err);
  void connect(const std::string& uri, const store_options& opts);
  void migrate(const store_options& opts);
  int read_version();
  std::optional<std::string> read_meta(std::string_view name);
  std::optional<detail::sealing_key> read_sealing_key();
  void initialise_shards();
  void check_shard_count();
  std::optional<pg::error> write_sealing_key(const secrets_key& key);

  // -- reading ----------------------------------------------------------------

  std::vector<registration_record> load(const pg::statement& registrations, const pg::statement& pending,
                                        const pg::statement& dead_letter_seqs, const pg::statement& deliveries,
                                        const pg::params& args);
  std::vector<registration_record> load_registrations(const pg::statement& stmt, const pg::params& args);

  // -- committing -------------------------------------------------------------

  commit_result commit_batch(const std::vector<store_op>& ops, fencing mode);
  lease_check check_leases(const std::vector<store_op>& ops);
  void add_calls(const store_op& op, std::vector<pg::call>& calls) const;
  template <class Statement>
  pg::reply read(Statement&& run);
  std::optional<pg::error> begin(const char* sql);
  void rollback();

  // -- member variables -------------------------------------------------------

  std::string name_;
  std::string instance_id_;
  std::shared_ptr<const secrets_key> key_;
  /// Why writes are refused, set once for good; empty while the store is sound.
  std::string refusal_;
  /// Registrations whose secrets the last load_all() could not open.
  std::size_t unreadable_ = 0;
  std::optional<pg::connection> conn_;
};

} // namespace feedrouter
