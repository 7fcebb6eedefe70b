// feedrouter import-openwhisk: the registrations an OpenWhisk alarms or cloudant provider keeps, written into this
// provider's store.
//
// It writes the store directly, as rotate-key does, with the service stopped, rather than through a running
// provider's API: a registration keeps exactly its OpenWhisk state (disabled AUTO or ADMIN with the provider's
// reason, maxTriggers used up, a one-shot that has fired) and its past startDate (an interval's phase), which the API
// takes from nobody (a CREATE is active, and its dates must lie ahead); its secrets are sealed by the store's own key
// as the service seals them; and the whole import needs no API of its own for an operator to protect.
//
// Per document: read it (core/openwhisk_documents), check its key with OpenWhisk (GET of the trigger, which also
// shows its feed annotation), validate it as a stored registration is validated at start-up, give a cloudant feed the
// position where its database ends now, write it unless it is there already, then disable it at its source.

#include "app/openwhisk_import.hpp"

#include <future>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "actors/sources/changes_position.hpp"
#include "app/store_check.hpp"
#include "core/alarm_spec.hpp"
#include "core/auth_key.hpp"
#include "core/crypto.hpp"
#include "core/feed_config.hpp"
#include "core/json.hpp"
#include "core/openwhisk_documents.hpp"
#include "net/http_client.hpp"
#include "net/io_runtime.hpp"
#include "store/store.hpp"

namespace feedrouter {

namespace {

/// How long one request to CouchDB, OpenWhisk, a user's database or a token service may take.
constexpr std::chrono::seconds request_timeout{15};

/// Documents read per page of the provider's database: a bound on what the import holds at once.
constexpr std::size_t page_size = 100;

/// Times a document is read and written again when its provider changed it meanwhile (409).
constexpr int conflict_retries = 5;

constexpr int exit_complete = 0;
constexpr int exit_incomplete = 1;
constexpr int exit_failed = 2;

/// Sends `req` and waits for its result.
client_result fetch(http_client& client, client_request req) {
  auto done = std::make_shared<std::promise<client_result>>();
  auto result = done->get_future();
  client.send(std::move(req), [done](client_result r) { done->set_value(std::move(r)); });
  return result.get();
}

/// The provider's CouchDB database, as --couchdb and --db name it.
struct source_database {
  url server;
  std::string authorization; ///< Basic, from the URL's user:password; empty without
  std::string db;
  std::string shown; ///< origin and database, without credentials, for the report
};

outcome<source_database> read_source(const import_request& request) {
  std::string text = request.couchdb;
  source_database source;
  // parse_url refuses user info: take "user:password@" out first.
  auto scheme_end = text.find("://");
  auto at = text.find('@', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  auto path = text.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (scheme_end != std::string::npos && at != std::string::npos && (path == std::string::npos || at < path)) {
    auto credentials = percent_decode(text.substr(scheme_end + 3, at - scheme_end - 3));
    if (!credentials)
      return field_error{"--couchdb", "holds a malformed percent-escape in its credentials"};
    source.authorization = "Basic " + base64_encode(*credentials);
    text.erase(scheme_end + 3, at - scheme_end - 2);
  }
  auto server = parse_url(text, "--couchdb");
  if (!server)
    return server.error();
  while (server->target.size() > 1 && server->target.back() == '/')
    server->target.pop_back();
  source.server = std::move(*server);
  source.db = request.db;
  source.shown = source.server.origin() + "/" + request.db;
  return source;
}

/// What became of the documents, for the summary.
struct import_counts {
  std::size_t imported = 0;
  std::size_t unchanged = 0;
  std::size_t not_imported = 0;
  std::size_t skipped = 0;
  std::size_t disabled_at_source = 0;
};

class openwhisk_importer {
public:
  openwhisk_importer(const options& opts, source_database source, http_client_ptr client, store_admin* store,
                     std::ostream& out)
    : opts_(opts), source_(std::move(source)), client_(std::move(client)), store_(store), out_(out),
      egress_(opts.allow_egress, {}), now_(now_ms()) {
    if (store_ != nullptr)
      for (auto& record : store_->load_all())
        existing_.emplace(record.trigger.key(), std::move(record));
  }

  /// Reads the provider's database page by page; returns false when it cannot be read at all.
  bool run(std::ostream& err) {
    std::string after;
    for (;;) {
      auto page = read_page(after);
      if (!page) {
        err << "feedrouter: import-openwhisk: cannot read " << source_.shown << ": " << page.error().message << '\n';
        return false;
      }
      if (page->empty())
        return true;
      for (auto& [id, doc] : *page) {
        ++index_;
        handle(doc);
        after = id;
      }
      if (page->size() < page_size)
        return true;
    }
  }

  const import_counts& counts() const noexcept {
    return counts_;
  }

private:
  // -- the provider's database --------------------------------------------------------------

  client_request source_request(std::string method, std::string target, std::string body = {}) const {
    client_request req;
    req.destination = source_.server;
    req.destination.target = (source_.server.target == "/" ? std::string{} : source_.server.target) + target;
    req.message.method = std::move(method);
    req.message.fields = {{"Accept", "application/json"}};
    if (!source_.authorization.empty())
      req.message.fields.emplace_back("Authorization", source_.authorization);
    if (!body.empty())
      req.message.fields.emplace_back("Content-Type", "application/json");
    req.message.body = std::move(body);
    req.timeout = request_timeout;
    req.owner = destination_owner::operator_config;
    return req;
  }

  std::string doc_target(const std::string& id) const {
    return "/" + percent_encode(source_.db) + "/" + percent_encode(id);
  }

  /// Returns the (id, doc) of the documents after `after` (all from the first when empty), at most page_size.
  outcome<std::vector<std::pair<std::string, std::string>>> read_page(const std::string& after) {
    std::string target = "/" + percent_encode(source_.db) + "/_all_docs?include_docs=true&limit="
                         + std::to_string(page_size);
    if (!after.empty()) {
      std::string key;
      append_json_string(key, after);
      target += "&skip=1&startkey=" + percent_encode(key);
    }
    auto result = fetch(*client_, source_request("GET", target));
    if (!result.ok())
      return field_error{"--couchdb", result.error};
    if (result.response.status != 200)
      return field_error{"--couchdb", "it answered " + std::to_string(result.response.status)};
    auto answer = parse_json_object(result.response.body, "answer");
    const auto* rows = answer ? find_member(*answer, "rows") : nullptr;
    auto elements = rows != nullptr ? json_array_elements(*rows) : std::nullopt;
    if (!elements)
      return field_error{"--couchdb", "its _all_docs answer holds no rows"};
    std::vector<std::pair<std::string, std::string>> page;
    for (const auto& element : *elements) {
      auto row = parse_json_object(element, "row");
      const auto* id = row ? find_member(*row, "id") : nullptr;
      const auto* doc = row ? find_member(*row, "doc") : nullptr;
      if (id != nullptr && doc != nullptr)
        page.emplace_back(json_as_string(*id).value_or(""), *doc);
    }
    return page;
  }

  /// Marks the document inactive at its source, as its provider marks a trigger it disabled; reads it again when the
  /// provider changed it meanwhile. Returns an error text, or an empty one.
  std::string disable_source(const std::string& id) {
    for (int attempt = 0; attempt < conflict_retries; ++attempt) {
      auto current = fetch(*client_, source_request("GET", doc_target(id)));
      if (!current.ok() || current.response.status != 200)
        return "cannot read it again: " + (current.ok() ? std::to_string(current.response.status) : current.error);
      if (!active_at_source(current.response.body))
        return {};
      auto put = fetch(*client_,
                       source_request("PUT", doc_target(id), disabled_at_source(current.response.body, now_ms())));
      if (!put.ok())
        return put.error;
      if (put.response.status == 201 || put.response.status == 202) {
        ++counts_.disabled_at_source;
        return {};
      }
      if (put.response.status != 409)
        return "CouchDB answered " + std::to_string(put.response.status);
    }
    return "it kept changing (409 " + std::to_string(conflict_retries) + " times)";
  }

  // -- OpenWhisk ------------------------------------------------------------------------------

  client_request controller_request(std::string target, const std::string& auth_key) const {
    client_request req;
    req.destination = opts_.api_host;
    while (!req.destination.target.empty() && req.destination.target.back() == '/')
      req.destination.target.pop_back();
    req.destination.target += target;
    req.message.method = "GET";
    req.message.fields = {{"Authorization", basic_authorization(auth_key)}, {"Accept", "application/json"}};
    req.timeout = request_timeout;
    req.owner = destination_owner::operator_config;
    return req;
  }

  /// Resolves the namespace "_" to the key's first namespace; an error text, or an empty one.
  std::string resolve_namespace(openwhisk_trigger& trigger) {
    if (trigger.trigger.ns != "_")
      return {};
    if (!opts_.verify_auth)
      return "its namespace is \"_\", which only OpenWhisk can resolve (not with --no-verify-auth)";
    auto result = fetch(*client_, controller_request("/api/v1/namespaces", trigger.auth_key));
    auto names = result.ok() && result.response.status == 200 ? json_as_string_array(result.response.body)
                                                               : std::nullopt;
    if (!names || names->empty())
      return "its namespace \"_\" could not be resolved with OpenWhisk";
    trigger.trigger.ns = names->front();
    return {};
  }

  /// Checks the key with OpenWhisk as a CREATE does: a key OpenWhisk refuses (401, 403, 404) makes the registration
  /// disabled, as the old provider disables such a trigger when it loads it. Returns the trigger's feed annotation
  /// through `feed`, and an error text when OpenWhisk could not say.
  std::string verify(openwhisk_trigger& trigger, std::string& feed) {
    if (!opts_.verify_auth)
      return {};
    auto target = "/api/v1/namespaces/" + percent_encode(trigger.trigger.ns) + "/triggers/"
                  + percent_encode(trigger.trigger.name);
    auto result = fetch(*client_, controller_request(target, trigger.auth_key));
    if (!result.ok())
      return "cannot check its key with OpenWhisk: " + result.error;
    auto status = result.response.status;
    if (status == 200) {
      feed = feed_annotation(result.response.body);
      return {};
    }
    if (status != 401 && status != 403 && status != 404)
      return "cannot check its key with OpenWhisk: it answered " + std::to_string(status);
    if (trigger.state == registration_state::active) {
      trigger.state = registration_state::disabled;
      trigger.reason = {reason_kind::automatic, status,
                        "Automatically disabled after receiving a " + std::to_string(status)
                          + " status code on trigger initialization"};
    }
    return {};
  }

  // -- a changes feed's position ----------------------------------------------------------------

  /// Gives a changes registration the position where its database ends now: started from there, it fires every
  /// change the old provider may not have (at least once), and none from before. A database that refuses the
  /// credentials disables it, as the provider would once it starts.
  void position(registration_record& record, const changes_spec& spec, std::vector<std::string>& notes) {
    std::string bearer;
    if (!spec.iam_api_key.empty()) {
      auto exchange = read_iam_exchange(fetch(*client_, iam_token_request(spec, request_timeout)));
      if (!exchange.token) {
        notes.push_back("position not read (" + exchange.error + "): the feed starts where its database ends when "
                        "the provider starts it");
        return;
      }
      bearer = exchange.token->access_token;
    }
    auto end = read_changes_end(fetch(*client_, changes_end_request(spec, request_timeout, bearer)));
    if (end.ok()) {
      record.status.checkpoint = to_changes_checkpoint(spec, end.seq);
      return;
    }
    if (is_database_refusal(end.status_code) && record.status.state == registration_state::active) {
      record.status.state = registration_state::disabled;
      record.status.reason = {reason_kind::automatic, end.status_code, end.error};
      return;
    }
    notes.push_back("position not read (" + end.error + "): the feed starts where its database ends when the "
                    "provider starts it");
  }

  // -- one document --------------------------------------------------------------------------------

  void report(std::string_view what, std::string_view subject, std::string_view detail = {}) {
    out_ << what << ' ' << subject;
    if (!detail.empty())
      out_ << ": " << detail;
    out_ << '\n';
  }

  /// Names a document in the report: its trigger, or its place in the database (an alarms _id holds the owner's key).
  std::string subject_of(const openwhisk_document& doc) const {
    if (doc.trigger && !doc.trigger->trigger.name.empty())
      return doc.trigger->trigger.qualified();
    return "document " + std::to_string(index_);
  }

  void handle(const std::string& json) {
    auto provider = opts_.import.kind == openwhisk_provider_kind::alarms ? openwhisk_provider::alarms
                                                                         : openwhisk_provider::cloudant;
    auto doc = read_openwhisk_document(json, provider, now_);
    if (!doc.skipped.empty()) {
      ++counts_.skipped;
      report("skipped", subject_of(doc), doc.skipped);
      return;
    }
    if (!doc.error.empty()) {
      ++counts_.not_imported;
      report("not imported", subject_of(doc), doc.error);
      return;
    }
    auto& trigger = *doc.trigger;
    std::string feed;
    auto error = resolve_namespace(trigger);
    if (error.empty())
      error = verify(trigger, feed);
    if (!error.empty()) {
      ++counts_.not_imported;
      report("not imported", subject_of(doc), error);
      return;
    }
    auto name = trigger.trigger.qualified();
    auto config = make_feed_config(trigger.feed, trigger.params, now_, validation_time::restore,
                                   trigger.trigger.key(), egress_);
    if (!config) {
      ++counts_.not_imported;
      report("not imported", name, config.error().field + ": " + config.error().message);
      return;
    }
    auto record = make_record(trigger, *config);
    if (config->changes)
      position(record, *config->changes, trigger.notes);
    write(trigger, record, name);
    if (!feed.empty())
      report("old feed annotation", name,
             feed + " (`wsk trigger delete` would call that feed's DELETE; see docs/migrating-from-openwhisk.md)");
  }

  registration_record make_record(const openwhisk_trigger& trigger, const feed_config& config) const {
    registration_record record;
    record.trigger = trigger.trigger;
    record.feed = trigger.feed;
    record.params_json = to_json_object(config.params);
    record.auth_key = trigger.auth_key;
    record.created = now_;
    auto& status = record.status;
    status.state = trigger.state;
    status.reason = trigger.reason;
    status.date_changed = trigger.date_changed;
    status.triggers_left = config.max_triggers();
    if (trigger.max_triggers_used_up)
      status.triggers_left = 0;
    // An active alarm whose schedule has ended meanwhile: disabled, as OpenWhisk's provider would on loading it.
    if (config.alarm && status.state == registration_state::active
        && !first_occurrence(*config.alarm, now_, now_, std::nullopt)) {
      status.state = registration_state::disabled;
      status.reason = {reason_kind::automatic, 0, "the schedule has no further occurrence"};
      status.date_changed = now_;
    }
    return record;
  }

  void write(openwhisk_trigger& trigger, registration_record& record, const std::string& name) {
    auto found = existing_.find(record.trigger.key());
    std::string what = trigger.kind + ", " + std::string{to_string(record.status.state)};
    if (record.status.state != registration_state::active)
      what += " (" + record.status.reason.message + ")";
    bool ours = true;
    if (found != existing_.end()) {
      ours = constant_time_equal(found->second.auth_key, record.auth_key);
      if (ours && found->second.params_json == record.params_json) {
        ++counts_.unchanged;
        report("unchanged", name, "already imported");
      } else {
        ++counts_.not_imported;
        report("not imported", name,
               ours ? "feedrouter has it already, with other parameters: left as it is"
                    : "feedrouter has it already, registered with another key: left as it is");
      }
    } else {
      if (!opts_.import.dry_run) {
        store_op op;
        op.record = record;
        if (auto failed = store_->commit({op})) {
          ++counts_.not_imported;
          report("not imported", name, "the store refused it: " + *failed);
          return;
        }
      }
      ++counts_.imported;
      report(opts_.import.dry_run ? "would import" : "imported", name, what);
      for (const auto& note : trigger.notes)
        report("  note", name, note);
    }
    if (!ours)
      return;
    if (opts_.import.disable_source) {
      if (auto error = disable_source(trigger.id); !error.empty())
        report("not disabled at source", name, error);
      else if (trigger.old_provider_may_fire && record.status.state == registration_state::active)
        report("restart the old provider", name,
               trigger.kind + " triggers may still fire from OpenWhisk's alarms provider until it restarts");
    }
  }

  const options& opts_;
  source_database source_;
  http_client_ptr client_;
  store_admin* store_;
  std::ostream& out_;
  egress_policy egress_;
  sys_ms now_;
  std::map<std::string, registration_record> existing_;
  std::size_t index_ = 0;
  import_counts counts_;
};

} // namespace

int import_openwhisk(const options& opts, std::ostream& out, std::ostream& err) {
  auto source = read_source(opts.import);
  if (!source) {
    err << "feedrouter: import-openwhisk: " << source.error().field << ": " << source.error().message << '\n';
    return exit_failed;
  }
  store_admin_ptr store;
  try {
    // Through the store interface, so that it imports into a SQLite or a PostgreSQL store alike.
    auto store_opts = store_options_of(opts);
    // A dry run writes nothing, and makes no store either.
    store_opts.create = !opts.import.dry_run;
    store = open_store(opts.store, store_opts);
  } catch (const store_open_error& e) {
    if (!opts.import.dry_run) {
      err << "feedrouter: import-openwhisk: " << e.what() << " (stop the service first: the import writes its store)"
          << '\n';
      return exit_failed;
    }
    out << "note: " << e.what() << "; compared with no registrations\n";
  }
  io_runtime io{1};
  http_client_options client_opts;
  client_opts.ca_file = opts.ca_file;
  client_opts.insecure_skip_verify = opts.insecure_skip_verify;
  // The users' databases and token services are tenants' endpoints, as when the service connects to them.
  client_opts.egress = std::make_shared<const egress_policy>(opts.allow_egress, std::vector<provider_endpoint>{});
  auto client = make_http_client(io, client_opts);
  out << "import-openwhisk: " << (opts.import.kind == openwhisk_provider_kind::alarms ? "alarms" : "cloudant")
      << " triggers of " << source->shown << " into " << store_display_name(opts.store)
      << (opts.import.dry_run ? " (dry run)" : "") << '\n';
  openwhisk_importer importer{opts, std::move(*source), client, store.get(), out};
  if (!importer.run(err))
    return exit_failed;
  const auto& counts = importer.counts();
  out << "summary: " << counts.imported << (opts.import.dry_run ? " to import, " : " imported, ") << counts.unchanged
      << " unchanged, " << counts.not_imported << " not imported, " << counts.skipped << " skipped";
  if (opts.import.disable_source)
    out << ", " << counts.disabled_at_source << " disabled at source";
  out << '\n';
  return counts.not_imported > 0 ? exit_incomplete : exit_complete;
}

} // namespace feedrouter
