#include "self_signed_cert.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace feedrouter::test {

namespace {

/// How long the certificate is valid from now; long enough for any test run.
constexpr long validity_seconds = 24 * 60 * 60;

/// How far before now the certificate starts to be valid, in case clocks disagree a little.
constexpr long backdate_seconds = 60;

/// Bits of the random serial number; RFC 5280 allows up to 20 octets, and positive.
constexpr int serial_bits = 64;

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;

/// Throws with `what` and the reason of the latest OpenSSL error.
[[noreturn]] void fail(const std::string& what) {
  auto code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  throw std::runtime_error("self-signed certificate: " + what + ": " + (reason != nullptr ? reason : "unknown"));
}

void check(int openssl_result, const char* what) {
  if (openssl_result != 1)
    fail(what);
}

/// Returns a directory to write into: `dir`, created if missing, or a new one under the temporary directory.
std::string prepare_dir(std::string_view dir) {
  if (!dir.empty()) {
    std::filesystem::create_directories(dir);
    return std::string{dir};
  }
  auto pattern = (std::filesystem::temp_directory_path() / "feedrouter-tls-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr)
    throw std::runtime_error("self-signed certificate: cannot create a directory in " + pattern + ": "
                             + std::strerror(errno));
  return buffer.data();
}

/// Adds the extension `nid` with the value `value`, written as in openssl.cnf, to `cert`.
void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  // Self-signed: the certificate is its own issuer, which authorityKeyIdentifier refers to.
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  extension_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
  if (!ext)
    fail("extension " + value);
  check(X509_add_ext(cert, ext.get(), -1), "add extension");
}

/// Returns the subjectAltName value for `name`.
std::string alt_names_of(std::string_view name) {
  std::string result = "DNS:" + std::string{name};
  // Tests connect to the loopback address as often as to the name.
  if (name == "localhost")
    result += ",IP:127.0.0.1,IP:::1";
  return result;
}

x509_ptr make_certificate(EVP_PKEY* key, std::string_view name) {
  x509_ptr cert{X509_new()};
  if (!cert)
    fail("X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3), "version");
  bignum_ptr serial{BN_new()};
  if (!serial)
    fail("BN_new");
  check(BN_rand(serial.get(), serial_bits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "serial");
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr)
    fail("serial");
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -backdate_seconds) == nullptr
      || X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity_seconds) == nullptr)
    fail("validity");
  auto* subject = X509_get_subject_name(cert.get());
  std::string common_name{name};
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0),
        "subject");
  check(X509_set_issuer_name(cert.get(), subject), "issuer");
  check(X509_set_pubkey(cert.get(), key), "public key");
  // A server certificate, not a CA: a client that trusts it lists the certificate itself as its CA file.
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), NID_authority_key_identifier, "keyid:always");
  add_extension(cert.get(), NID_subject_alt_name, alt_names_of(name));
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0)
    fail("sign");
  return cert;
}

bio_ptr open_for_writing(const std::string& path) {
  bio_ptr bio{BIO_new_file(path.c_str(), "w")};
  if (!bio)
    fail("cannot write " + path);
  return bio;
}

} // namespace

self_signed make_self_signed_cert(std::string_view dir, std::string_view name) {
  self_signed result;
  result.dir = prepare_dir(dir);
  result.cert_file = (std::filesystem::path{result.dir} / (std::string{name} + ".crt")).string();
  result.key_file = (std::filesystem::path{result.dir} / (std::string{name} + ".key")).string();
  pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  if (!key)
    fail("key generation");
  auto cert = make_certificate(key.get(), name);
  {
    auto bio = open_for_writing(result.cert_file);
    check(PEM_write_bio_X509(bio.get(), cert.get()), "write certificate");
  }
  auto bio = open_for_writing(result.key_file);
  check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), "write key");
  return result;
}

} // namespace feedrouter::test
