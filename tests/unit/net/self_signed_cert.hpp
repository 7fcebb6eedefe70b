#pragma once

#include <string>
#include <string_view>

namespace feedrouter::test {

/// PEM files of a self-signed certificate and its private key, and the directory they are in.
struct self_signed {
  std::string cert_file;
  std::string key_file;
  std::string dir;
};

/// Generates a fresh key pair (ECDSA P-256) and a self-signed certificate for `name`, valid from now for a day, and
/// writes them as `<dir>/<name>.crt` and `<dir>/<name>.key`. The certificate names `name` as subjectAltName DNS
/// name; for "localhost" it also names IP addresses 127.0.0.1 and ::1. An empty `dir` means a new directory under
/// the system's temporary directory; the caller removes it (e.g. std::filesystem::remove_all(cert.dir)). Throws
/// std::runtime_error on failure.
self_signed make_self_signed_cert(std::string_view dir, std::string_view name = "localhost");

} // namespace feedrouter::test
