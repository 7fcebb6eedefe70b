#pragma once

// Secrets as tenants hand them over, and how the store tests look for them where they must not be.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "store/store.hpp"
#include "store_rows.hpp"

namespace feedrouter::test {

// Secrets as tenants hand them over, one of each kind the store keeps.
inline const std::string auth_key
  = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:AuthKeyPart0123456789abcdefghijklmnopqrstuvwxyzAB";
inline const std::string webhook_secret = "whsec-WebhookSecretValue-0123456789";
inline const std::string header_token = "Bearer HeaderTokenValue-0123456789";
inline const std::string couch_password = "CouchPasswordValue-0123456789";
inline const std::string iam_key = "IamApiKeyValue-0123456789";

inline registration_record make_secret_record(std::string name, std::string feed, std::string params_json) {
  registration_record rec;
  rec.trigger = {"tenant", std::move(name)};
  rec.feed = std::move(feed);
  rec.params_json = std::move(params_json);
  rec.auth_key = auth_key;
  rec.created = sys_ms{std::chrono::milliseconds{1'700'000'000'000}};
  rec.status.date_changed = rec.created;
  return rec;
}

/// One registration per kind of secret: a webhook secret, a poll header, a CouchDB password, an IAM key.
inline std::vector<registration_record> secret_records() {
  return {
    make_secret_record("hook", "webhook", R"({"hookId":"h1","secret":")" + webhook_secret + R"("})"),
    make_secret_record("poll", "poll",
                       R"({"url":"https://api.example/items","headers":{"Authorization":")" + header_token + R"("}})"),
    make_secret_record("changes", "changes",
                       R"({"url":"https://couch.example","dbname":"orders","username":"u","password":")"
                         + couch_password + R"("})"),
    make_secret_record("iam", "changes", R"({"url":"https://cloudant.example","iamApiKey":")" + iam_key + R"("})"),
  };
}

/// The secrets of secret_records() and the forms they could leak in.
inline std::vector<std::string> secret_texts() {
  return {auth_key, auth_key.substr(auth_key.find(':') + 1), sha256_hex(auth_key), webhook_secret, header_token,
          couch_password, iam_key};
}

/// Checks that none of `secrets` appears in `bytes`, what a store keeps on disk, and that those bytes hold the
/// store's sealed values (so that the search looked where the rows are).
inline void check_nothing_readable(const std::string& bytes, const std::vector<std::string>& secrets) {
  REQUIRE(bytes.find("fr1.") != std::string::npos);
  for (const auto& secret : secrets) {
    INFO("looking for: " << secret);
    CHECK(bytes.find(secret) == std::string::npos);
  }
}

inline std::vector<store_op> puts(const std::vector<registration_record>& recs) {
  std::vector<store_op> ops;
  for (const auto& rec : recs)
    ops.push_back(put(rec));
  return ops;
}

inline registration_record find(const std::vector<registration_record>& all, const std::string& name) {
  auto i = std::find_if(all.begin(), all.end(), [&](const auto& x) { return x.trigger.name == name; });
  REQUIRE(i != all.end());
  return *i;
}

} // namespace feedrouter::test
