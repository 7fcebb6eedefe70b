#include "app/store_check.hpp"

namespace feedrouter {

store_options store_options_of(const options& opts) {
  store_options result;
  result.key_file = opts.secrets_key_file;
  result.password_file = opts.store_password_file;
  result.init_store = opts.init_store;
  result.full_check = opts.mode == run_mode::check_store || opts.mode == run_mode::check_config;
  // Checking or rotating a store that is not there must not make one.
  result.create = opts.mode == run_mode::serve;
  return result;
}

store_verdict check_store_soundness(const options& opts) {
  using kind = store_verdict::kind;
  try {
    auto db = open_store(opts.store, store_options_of(opts));
    auto records = db->load_all();
    auto name = store_display_name(opts.store);
    if (auto unreadable = db->unreadable_secrets(); unreadable > 0)
      return {kind::unsound, "store '" + name + "': the secrets of " + std::to_string(unreadable) + " of "
                               + std::to_string(records.size()) + " registrations do not open with key "
                               + db->key()->id() + " (altered or damaged rows)"};
    return {kind::sound, "store '" + name + "' is sound: " + std::to_string(records.size())
                           + " registrations, secrets key " + db->key()->id()};
  } catch (const store_missing_error& e) {
    return {kind::missing, e.what()};
  } catch (const store_in_use_error& e) {
    return {kind::in_use, e.what()};
  } catch (const store_open_error& e) {
    return {kind::unsound, e.what()};
  }
}

} // namespace feedrouter
