#include "store/detail/store_key.hpp"

#include "core/log.hpp"
#include "store/secrets_key_file.hpp"
#include "store/store.hpp"

namespace feedrouter::detail {

std::shared_ptr<const secrets_key> load_store_key(const std::string& file,
                                                  const std::optional<sealing_key>& sealed_with,
                                                  const std::string& store_name) {
  if (file.empty())
    return std::make_shared<const secrets_key>(secrets_key::generate());
  if (!key_file_exists(file)) {
    if (sealed_with)
      throw store_open_error("store '" + store_name + "' is sealed with secrets key " + sealed_with->id
                             + ", but the key file '" + file + "' does not exist: restore that file from its backup "
                             "(a new key cannot read the store)");
    auto created = std::make_shared<const secrets_key>(secrets_key::generate());
    create_key_file(file, *created);
    log(log_level::debug, "created secrets key file '", file, "' (key ", created->id(), ") for store '", store_name,
        "'");
    return created;
  }
  auto key = std::make_shared<const secrets_key>(read_key_file(file));
  if (sealed_with && sealed_with->check_value != key->check_value()) {
    auto unfinished = pending_key_file(file);
    auto hint = key_file_exists(unfinished)
                  ? " (a key rotation that stopped half-way left its new key in '" + unfinished + "')"
                  : std::string{};
    throw store_open_error("secrets key file '" + file + "' holds key " + key->id() + ", but store '" + store_name
                           + "' is sealed with key " + sealed_with->id
                           + ": start with the key file the store was sealed with" + hint);
  }
  return key;
}

} // namespace feedrouter::detail
