#include "store/key_rotation.hpp"

#include <unistd.h>

#include <memory>

#include "store/secrets_key_file.hpp"

namespace feedrouter {

key_rotation rotate_secrets_key(const std::string& spec, const store_options& opts) {
  auto key_file = secrets_key_file_of(spec, opts);
  if (key_file.empty())
    throw store_open_error("rotate-key: store '" + spec + "' lives in memory and has no key file");
  // Opening checks that the key file matches the store: any KEY_FILE.new is left from a rotation that never sealed.
  auto existing = opts;
  existing.create = false;
  auto db = open_store(spec, existing);
  key_rotation result;
  result.key_file = key_file;
  result.old_id = db->key()->id();
  auto next = std::make_shared<const secrets_key>(secrets_key::generate());
  result.new_id = next->id();
  auto pending = pending_key_file(key_file);
  ::unlink(pending.c_str());
  create_key_file(pending, *next);
  // reseal() throws only before its commit, with the store still on the old key: the new one can go.
  try {
    result.resealed = db->reseal(next);
  } catch (...) {
    ::unlink(pending.c_str());
    throw;
  }
  db.reset();
  result.retired_file = retired_key_file(key_file, result.old_id);
  // Rotated away from this key before (and back to it since): the retired file holds it already.
  if (!key_file_exists(result.retired_file))
    link_key_file(key_file, result.retired_file);
  else if (read_key_file(result.retired_file).check_value() != read_key_file(key_file).check_value())
    throw store_open_error("rotate-key: the store is sealed with key " + result.new_id + " now, which is in '"
                           + pending + "', but '" + result.retired_file + "' holds another key: copy the old key '"
                           + key_file + "' elsewhere, then move '" + pending + "' to '" + key_file + "'");
  replace_key_file(pending, key_file);
  return result;
}

} // namespace feedrouter
