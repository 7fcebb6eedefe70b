#include "store/store.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>

#include "core/shard.hpp"
#include "store/postgres_store.hpp"
#include "store/secrets_key_file.hpp"
#include "store/sqlite_store.hpp"

namespace feedrouter {

namespace {

constexpr std::string_view sqlite_prefix = "sqlite:";

/// The schemes of a libpq connection URI.
constexpr std::string_view postgres_prefixes[] = {"postgresql://", "postgres://"};

bool is_postgres(std::string_view spec) {
  return std::any_of(std::begin(postgres_prefixes), std::end(postgres_prefixes),
                     [&](auto prefix) { return spec.substr(0, prefix.size()) == prefix; });
}

/// Returns the PATH of a "sqlite:PATH" spec; throws store_open_error for any other spec.
std::string sqlite_path_of(const std::string& spec) {
  std::string_view text{spec};
  if (text.substr(0, sqlite_prefix.size()) != sqlite_prefix || text.size() == sqlite_prefix.size())
    throw store_open_error("invalid --store value '" + spec + "': expected sqlite:PATH or postgresql://...");
  return std::string{text.substr(sqlite_prefix.size())};
}

} // namespace

std::vector<registration_record> store::load_shards(const std::vector<std::uint32_t>& shards) {
  auto result = load_all();
  result.erase(std::remove_if(result.begin(), result.end(),
                              [&](const auto& rec) {
                                return std::find(shards.begin(), shards.end(), shard_of(rec.trigger)) == shards.end();
                              }),
               result.end());
  return result;
}

std::optional<registration_record> store::load_registration(const trigger_ref& trigger) {
  for (auto& rec : load_shards({shard_of(trigger)}))
    if (rec.trigger == trigger) {
      rec.pending = {};
      rec.deliveries.clear();
      return std::move(rec);
    }
  return std::nullopt;
}

std::vector<registration_record> store::load_owned(const std::string& auth_hash, const std::string& ns) {
  auto result = load_all();
  result.erase(std::remove_if(result.begin(), result.end(),
                              [&](const auto& rec) {
                                return rec.auth_hash != auth_hash || (!ns.empty() && rec.trigger.ns != ns);
                              }),
               result.end());
  for (auto& rec : result) {
    rec.pending = {};
    rec.deliveries.clear();
  }
  return result;
}

std::size_t store::count_registrations(const std::string& ns) {
  auto all = load_all();
  return static_cast<std::size_t>(
    std::count_if(all.begin(), all.end(), [&](const auto& rec) { return rec.trigger.ns == ns; }));
}

std::vector<registration_record> store::load_page(const std::string& ns, const std::optional<trigger_ref>& after,
                                                 std::size_t limit) {
  std::vector<registration_record> result;
  // load_all() is ordered by namespace, then name.
  for (auto& rec : load_all()) {
    if (result.size() == limit)
      break;
    if ((!ns.empty() && rec.trigger.ns != ns)
        || (after && std::tie(rec.trigger.ns, rec.trigger.name) <= std::tie(after->ns, after->name)))
      continue;
    rec.pending = {};
    result.push_back(std::move(rec));
  }
  return result;
}

std::vector<namespace_count> store::count_namespaces(const std::string& after, std::size_t limit) {
  std::vector<namespace_count> result;
  for (const auto& rec : load_all()) {
    if (rec.trigger.ns <= after)
      continue;
    if (result.empty() || result.back().ns != rec.trigger.ns) {
      if (result.size() == limit)
        break;
      result.push_back({rec.trigger.ns, 0});
    }
    ++result.back().registrations;
  }
  return result;
}

bool is_shared_store(const std::string& spec) {
  return is_postgres(spec);
}

std::string secrets_key_file_of(const std::string& spec, const store_options& opts) {
  if (is_postgres(spec)) {
    if (opts.key_file.empty())
      throw store_open_error("store '" + store_display_name(spec)
                             + "' needs --secrets-key-file: every instance sharing a PostgreSQL store seals with the "
                               "same key, kept in a file of the same content on each");
    return opts.key_file;
  }
  auto path = sqlite_path_of(spec);
  if (!opts.key_file.empty() || path == ":memory:")
    return opts.key_file;
  return default_key_file(path);
}

std::string store_display_name(const std::string& spec) {
  return is_postgres(spec) ? postgres_store::display_name(spec) : spec;
}

store_admin_ptr open_store(const std::string& spec, const store_options& opts) {
  auto resolved = opts;
  resolved.key_file = secrets_key_file_of(spec, opts);
  if (is_postgres(spec))
    return std::make_unique<postgres_store>(spec, resolved);
  return std::make_unique<sqlite_store>(sqlite_path_of(spec), resolved);
}

} // namespace feedrouter
