// The lease store of a PostgreSQL store (store/lease_store.hpp): the tables shard_lease and instances that
// postgres_store.cpp's schema creates, on a session of the lease manager's own.

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "store/lease_store.hpp"
#include "store/pg/connection.hpp"
#include "store/pg/session_settings.hpp"
#include "store/postgres_store.hpp"

namespace feedrouter {

namespace {

/// The channel of every notification between instances; the payload says who and why, for the curious operator.
constexpr const char* channel = "feedrouter_shards";

/// What the lease manager's sessions are called on the server (pg_stat_activity) unless the URI names them.
constexpr std::string_view lease_application = "feedrouter-leases";
constexpr std::string_view listen_application = "feedrouter-listen";

/// The shortest connect time-out libpq honours.
constexpr std::chrono::seconds min_connect_timeout{2};

/// How long the listener's session may take to connect: its calls wait for notifications, not for an answer.
constexpr std::chrono::seconds listen_connect_timeout{10};

// -- statements -------------------------------------------------------------------

constexpr pg::statement heartbeat_stmt{
  "fr_heartbeat",
  "INSERT INTO instances (id, url, started_at, last_heartbeat) VALUES ($1, $2, now(), now()) "
  "ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, last_heartbeat = now()"};

constexpr pg::statement forget_stmt{
  "fr_forget_instances",
  "DELETE FROM instances WHERE id <> $1 AND last_heartbeat < now() - $2::bigint * interval '1 millisecond'"};

// Only a lease that has not expired is renewed: one that did may be another instance's at any moment, and this
// instance gave it up when its own deadline passed, which is earlier.
constexpr pg::statement renew_stmt{
  "fr_renew_leases",
  "UPDATE shard_lease SET expires_at = now() + $2::bigint * interval '1 millisecond' "
  "WHERE owner = $1 AND expires_at > now() "
  "AND (shard, epoch) IN (SELECT * FROM unnest($3::integer[], $4::bigint[])) RETURNING shard, epoch"};

// SKIP LOCKED: instances acquiring at once take different shards instead of waiting for each other; a lease whose row
// a store transaction holds FOR SHARE is skipped until that commit ended.
constexpr pg::statement acquire_stmt{
  "fr_acquire_leases",
  "WITH picked AS (SELECT shard, owner FROM shard_lease "
  "WHERE owner IS NULL OR expires_at IS NULL OR expires_at <= now() ORDER BY shard LIMIT $2 FOR UPDATE SKIP LOCKED) "
  "UPDATE shard_lease l SET owner = $1, epoch = l.epoch + 1, expires_at = now() + $3::bigint * interval '1 "
  "millisecond' FROM picked WHERE l.shard = picked.shard "
  "RETURNING l.shard, l.epoch, picked.owner IS NOT NULL AND picked.owner <> $1"};

constexpr pg::statement release_stmt{
  "fr_release_leases",
  "UPDATE shard_lease SET owner = NULL, expires_at = NULL WHERE owner = $1 "
  "AND (shard, epoch) IN (SELECT * FROM unnest($2::integer[], $3::bigint[]))"};

constexpr pg::statement notify_stmt{"fr_notify", "SELECT pg_notify($1, $2)"};

constexpr pg::statement leave_stmt{"fr_leave", "DELETE FROM instances WHERE id = $1"};

constexpr pg::statement instances_stmt{
  "fr_instances",
  "SELECT id, url, (extract(epoch FROM started_at) * 1000)::bigint, "
  "(extract(epoch FROM now() - last_heartbeat) * 1000)::bigint FROM instances ORDER BY id"};

constexpr pg::statement shards_stmt{
  "fr_shard_owners",
  "SELECT shard, coalesce(owner, ''), epoch, coalesce((extract(epoch FROM expires_at - now()) * 1000)::bigint, 0) "
  "FROM shard_lease ORDER BY shard"};

constexpr pg::statement counts_stmt{
  "fr_registrations_by_owner",
  "SELECT CASE WHEN l.owner IS NOT NULL AND l.expires_at > now() THEN l.owner ELSE '' END, count(*) "
  "FROM registrations r JOIN shard_lease l ON l.shard = r.shard GROUP BY 1"};

// The namespaces with registrations in some shards, with how many they have there and in all shards.
constexpr pg::statement splits_stmt{
  "fr_namespace_splits",
  "SELECT namespace, count(*) FILTER (WHERE shard = ANY($1::integer[])), count(*) FROM registrations "
  "GROUP BY namespace HAVING count(*) FILTER (WHERE shard = ANY($1::integer[])) > 0"};

const std::vector<pg::statement> prepared_statements{
  heartbeat_stmt, forget_stmt,    renew_stmt,     acquire_stmt, release_stmt, notify_stmt,
  leave_stmt,     instances_stmt, shards_stmt,    counts_stmt,  splits_stmt,
};

/// Returns the shards and the epochs of `leases` as two PostgreSQL array literals, bound as two parameters.
std::pair<std::string, std::string> lease_arrays(const std::vector<shard_lease_ref>& leases) {
  std::string shards = "{";
  std::string epochs = "{";
  for (const auto& lease : leases) {
    if (shards.size() > 1) {
      shards += ',';
      epochs += ',';
    }
    shards += std::to_string(lease.shard);
    epochs += std::to_string(lease.epoch);
  }
  return {shards + "}", epochs + "}"};
}

std::string one_line_errno(const char* what) {
  return std::string{what} + ": " + std::strerror(errno);
}

/// Opens a session with `settings`; throws store_open_error naming the store when it cannot.
pg::connection open_session(const pg::session_settings& settings, const std::string& name) {
  auto opened = pg::connection::open(settings.keywords, settings.secrets);
  if (auto* err = std::get_if<pg::error>(&opened))
    throw store_open_error("cannot connect to store '" + name + "': " + err->message);
  return std::move(std::get<pg::connection>(opened));
}

// -- the lease store ----------------------------------------------------------------

class postgres_lease_store final : public lease_store {
public:
  postgres_lease_store(pg::connection conn, lease_store_options opts) : conn_(std::move(conn)), opts_(std::move(opts)) {
    // nop
  }

  /// Sets the session's time-outs and prepares its statements; throws store_open_error when it cannot.
  void prepare(const std::string& name) {
    auto timeout = std::to_string(opts_.timing.renew_interval().count());
    // A statement that waits longer than a renewal interval (a lock, a slow server) fails instead of holding up the
    // heartbeat: the leases' deadlines keep running meanwhile.
    if (auto err = conn_.run_on_connect({"SET statement_timeout = " + timeout, "SET lock_timeout = " + timeout}))
      throw store_open_error("cannot open the leases of store '" + name + "': " + err->message);
    if (auto err = conn_.prepare_on_connect(prepared_statements))
      throw store_open_error("cannot open the leases of store '" + name + "': " + err->message);
  }

  // lease_store
  std::optional<std::string> heartbeat() override {
    pg::params beat;
    beat.text(opts_.instance_id).text(opts_.url);
    if (auto err = run(heartbeat_stmt, beat).error; !err.empty())
      return err;
    pg::params forget;
    forget.text(opts_.instance_id).integer(opts_.forget_after.count());
    if (auto err = run(forget_stmt, forget).error; !err.empty())
      return err;
    return std::nullopt;
  }

  lease_reply<std::vector<shard_lease_ref>> renew(const std::vector<shard_lease_ref>& leases) override {
    lease_reply<std::vector<shard_lease_ref>> result;
    if (leases.empty()) {
      result.value.emplace();
      return result;
    }
    auto [shards, epochs] = lease_arrays(leases);
    pg::params args;
    args.text(opts_.instance_id).integer(opts_.timing.ttl.count()).text(shards).text(epochs);
    auto answer = run(renew_stmt, args);
    if (!answer.rows)
      return {std::nullopt, std::move(answer.error)};
    result.value.emplace();
    for (int row = 0; row < answer.rows->rows(); ++row)
      result.value->push_back(lease_at(*answer.rows, row));
    std::sort(result.value->begin(), result.value->end(),
              [](const shard_lease_ref& x, const shard_lease_ref& y) { return x.shard < y.shard; });
    return result;
  }

  lease_reply<std::vector<acquired_lease>> acquire(std::size_t n) override {
    lease_reply<std::vector<acquired_lease>> result;
    if (n == 0) {
      result.value.emplace();
      return result;
    }
    pg::params args;
    args.text(opts_.instance_id).integer(static_cast<std::int64_t>(n)).integer(opts_.timing.ttl.count());
    auto answer = run(acquire_stmt, args);
    if (!answer.rows)
      return {std::nullopt, std::move(answer.error)};
    result.value.emplace();
    for (int row = 0; row < answer.rows->rows(); ++row)
      result.value->push_back({lease_at(*answer.rows, row), answer.rows->view(row, 2) == "t"});
    std::sort(result.value->begin(), result.value->end(),
              [](const acquired_lease& x, const acquired_lease& y) { return x.lease.shard < y.lease.shard; });
    // The others learn the new owner at once: requests waiting for a takeover go there.
    if (!result.value->empty())
      notify("acquired " + std::to_string(result.value->size()) + " shards");
    return result;
  }

  std::optional<std::string> release(const std::vector<shard_lease_ref>& leases) override {
    if (leases.empty())
      return std::nullopt;
    auto [shards, epochs] = lease_arrays(leases);
    pg::params args;
    args.text(opts_.instance_id).text(shards).text(epochs);
    if (auto err = run(release_stmt, args).error; !err.empty())
      return err;
    return notify("released " + std::to_string(leases.size()) + " shards");
  }

  std::optional<std::string> announce() override {
    return notify("joined");
  }

  std::optional<std::string> leave() override {
    pg::params args;
    args.text(opts_.instance_id);
    if (auto err = run(leave_stmt, args).error; !err.empty())
      return err;
    return notify("left");
  }

  lease_reply<lease_picture> picture() override {
    lease_reply<lease_picture> result;
    auto instances = run(instances_stmt, {});
    if (!instances.rows)
      return {std::nullopt, std::move(instances.error)};
    auto shards = run(shards_stmt, {});
    if (!shards.rows)
      return {std::nullopt, std::move(shards.error)};
    lease_picture picture;
    for (int row = 0; row < instances.rows->rows(); ++row) {
      const auto& rows = *instances.rows;
      picture.instances.push_back({rows.text(row, 0), rows.text(row, 1),
                                   sys_ms{std::chrono::milliseconds{rows.integer(row, 2)}},
                                   std::chrono::milliseconds{rows.integer(row, 3)}});
    }
    for (int row = 0; row < shards.rows->rows(); ++row) {
      const auto& rows = *shards.rows;
      picture.shards.push_back({static_cast<std::uint32_t>(rows.integer(row, 0)), rows.text(row, 1),
                                rows.integer(row, 2), std::chrono::milliseconds{rows.integer(row, 3)}});
    }
    result.value = std::move(picture);
    return result;
  }

  lease_reply<std::map<std::string, std::size_t>> registrations_by_owner() override {
    lease_reply<std::map<std::string, std::size_t>> result;
    auto answer = run(counts_stmt, {});
    if (!answer.rows)
      return {std::nullopt, std::move(answer.error)};
    result.value.emplace();
    for (int row = 0; row < answer.rows->rows(); ++row)
      (*result.value)[answer.rows->text(row, 0)] = static_cast<std::size_t>(answer.rows->integer(row, 1));
    return result;
  }

  lease_reply<std::vector<namespace_split>> namespace_splits(const std::vector<shard_lease_ref>& held) override {
    lease_reply<std::vector<namespace_split>> result;
    if (held.empty()) {
      result.value.emplace();
      return result;
    }
    pg::params args;
    args.text(lease_arrays(held).first);
    auto answer = run(splits_stmt, args);
    if (!answer.rows)
      return {std::nullopt, std::move(answer.error)};
    result.value.emplace();
    for (int row = 0; row < answer.rows->rows(); ++row)
      result.value->push_back({answer.rows->text(row, 0), static_cast<std::size_t>(answer.rows->integer(row, 1)),
                               static_cast<std::size_t>(answer.rows->integer(row, 2))});
    return result;
  }

private:
  /// A statement's rows, or why it failed.
  struct answer {
    std::optional<pg::result> rows;
    std::string error;
  };

  static shard_lease_ref lease_at(const pg::result& rows, int row) {
    return {static_cast<std::uint32_t>(rows.integer(row, 0)), rows.integer(row, 1)};
  }

  /// Runs one statement on the session, opening it again first when the server ended it. Not run again after a
  /// failure: an acquisition whose answer was lost may have taken leases (they expire, unrenewed).
  answer run(const pg::statement& stmt, const pg::params& args) {
    if (auto err = conn_.ensure_open())
      return {std::nullopt, err->message};
    auto reply = conn_.exec(stmt, args);
    if (!reply)
      return {std::nullopt, reply.error().message};
    return {std::move(*reply), {}};
  }

  std::optional<std::string> notify(const std::string& what) {
    pg::params args;
    args.text(channel).text(opts_.instance_id + " " + what);
    if (auto err = run(notify_stmt, args).error; !err.empty())
      return err;
    return std::nullopt;
  }

  pg::connection conn_;
  lease_store_options opts_;
};

// -- the listener -----------------------------------------------------------------------

class postgres_lease_listener final : public lease_listener {
public:
  postgres_lease_listener(pg::connection conn, int wake_fd) : conn_(std::move(conn)), wake_fd_(wake_fd) {
    // nop
  }

  ~postgres_lease_listener() override {
    ::close(wake_fd_);
  }

  // lease_listener
  wake wait(std::chrono::milliseconds timeout) override {
    if (auto err = conn_.ensure_open()) {
      error_ = err->message;
      return wake::failed;
    }
    if (reopened_) {
      // Whatever was notified while the session was down is lost: the caller looks at the leases now.
      reopened_ = false;
      return wake::notified;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto arrived = conn_.take_notifications();
      if (auto* err = std::get_if<pg::error>(&arrived))
        return lost(err->message);
      if (!std::get<std::vector<std::string>>(arrived).empty())
        return wake::notified;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return wake::timeout;
      pollfd fds[] = {{conn_.socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      auto ready = ::poll(fds, 2, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR)
        return lost(one_line_errno("poll"));
      if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
        std::uint64_t count = 0;
        // Reading resets the counter: interrupts that came together end one wait.
        if (::read(wake_fd_, &count, sizeof count) < 0 && errno != EAGAIN)
          return lost(one_line_errno("read"));
        return wake::interrupted;
      }
    }
  }

  void interrupt() override {
    std::uint64_t one = 1;
    // A full counter (never, in practice) still wakes the waiter.
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  }

  std::string last_error() const override {
    return error_;
  }

  /// LISTENs now and after every reconnect; throws store_open_error when it cannot.
  void listen(const std::string& name) {
    if (auto err = conn_.run_on_connect({std::string{"LISTEN "} + channel}))
      throw store_open_error("cannot listen to the leases of store '" + name + "': " + err->message);
  }

private:
  wake lost(std::string error) {
    error_ = std::move(error);
    // The next wait() opens the session again (ensure_open) and LISTENs there.
    reopened_ = true;
    return wake::failed;
  }

  pg::connection conn_;
  int wake_fd_;
  std::string error_;
  bool reopened_ = false;
};

} // namespace

lease_store_ptr open_lease_store(const std::string& spec, const store_options& store_opts, lease_store_options opts) {
  auto name = postgres_store::display_name(spec);
  auto interval = std::chrono::duration_cast<std::chrono::seconds>(opts.timing.renew_interval());
  auto settings = pg::settings_for(spec, store_opts.password_file, name, std::string{lease_application},
                                   std::max(min_connect_timeout, interval));
  // Unanswered sends on a server gone silent fail after a renewal interval rather than the kernel's minutes.
  settings.keywords.emplace_back("tcp_user_timeout", std::to_string(opts.timing.renew_interval().count()));
  auto store = std::make_unique<postgres_lease_store>(open_session(settings, name), std::move(opts));
  store->prepare(name);
  return store;
}

lease_listener_ptr open_lease_listener(const std::string& spec, const store_options& store_opts) {
  auto name = postgres_store::display_name(spec);
  auto settings =
    pg::settings_for(spec, store_opts.password_file, name, std::string{listen_application}, listen_connect_timeout);
  auto wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0)
    throw store_open_error("cannot listen to the leases of store '" + name + "': " + one_line_errno("eventfd"));
  auto session = [&] {
    try {
      return open_session(settings, name);
    } catch (...) {
      ::close(wake_fd);
      throw;
    }
  }();
  auto listener = std::make_unique<postgres_lease_listener>(std::move(session), wake_fd);
  listener->listen(name);
  return listener;
}

} // namespace feedrouter
