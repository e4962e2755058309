#include "rpc/tls.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"

namespace adaline {
namespace {

// The PEM text of `path`, which must hold a block whose type contains `kind`
// ("CERTIFICATE" or "PRIVATE KEY").
absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag,
                                    const char* kind) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot read --", flag, " ", path));
  }
  std::string text;
  char buffer[4096];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    text.append(buffer, read);
  std::fclose(file);
  const size_t begin = text.find("-----BEGIN ");
  if (begin == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", path, " is not a PEM file"));
  }
  const size_t end = text.find("-----", begin + 11);
  if (end == std::string::npos ||
      text.substr(begin, end - begin).find(kind) == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " ", path, " holds no ", kind, " (it starts with ",
        text.substr(
            begin,
            std::min<size_t>(end == std::string::npos ? 40 : end - begin, 60)),
        "-----)"));
  }
  return text;
}

// A key that is not the certificate's would fail deep inside gRPC with a
// message that names neither ("empty address list", "cannot listen").
absl::Status CheckKeyMatches(const std::string& certificate_pem,
                             const std::string& key_pem,
                             const TlsFiles& files) {
  auto bio_of = [](const std::string& text) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
  };
  auto certificate_bio = bio_of(certificate_pem);
  std::unique_ptr<X509, decltype(&X509_free)> certificate(
      PEM_read_bio_X509(certificate_bio.get(), nullptr, nullptr, nullptr),
      &X509_free);
  if (certificate == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-cert ", files.certificate, " holds no readable certificate"));
  }
  auto key_bio = bio_of(key_pem);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
      &EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", files.key,
                     " holds no readable private key (is it encrypted?)"));
  }
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the private key in --tls-key ", files.key,
                     " does not belong to the certificate in --tls-cert ",
                     files.certificate));
  }
  return absl::OkStatus();
}

struct KeyPair {
  std::string certificate;
  std::string key;
};

// --tls-cert and --tls-key, which go together.
absl::StatusOr<KeyPair> ReadKeyPair(const TlsFiles& files) {
  if (files.certificate.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  absl::StatusOr<std::string> certificate =
      ReadPem(files.certificate, "tls-cert", "CERTIFICATE");
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<std::string> key =
      ReadPem(files.key, "tls-key", "PRIVATE KEY");
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckKeyMatches(*certificate, *key, files); !s.ok()) {
    return s;
  }
  return KeyPair{*std::move(certificate), *std::move(key)};
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files) {
  if (files.certificate.empty() && files.key.empty()) {
    if (!files.client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<KeyPair> pair = ReadKeyPair(files);
  if (!pair.ok()) return pair.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({pair->key, pair->certificate});
  if (!files.client_ca.empty()) {
    absl::StatusOr<std::string> client_ca =
        ReadPem(files.client_ca, "tls-client-ca", "CERTIFICATE");
    if (!client_ca.ok()) return client_ca.status();
    options.pem_root_certs = *client_ca;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& files) {
  if (files.ca.empty()) {
    if (!files.certificate.empty() || !files.key.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate (--tls-cert, --tls-key) needs --tls-ca");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = ReadPem(files.ca, "tls-ca", "CERTIFICATE");
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *ca;
  if (!files.certificate.empty() || !files.key.empty()) {
    absl::StatusOr<KeyPair> pair = ReadKeyPair(files);
    if (!pair.ok()) return pair.status();
    options.pem_cert_chain = pair->certificate;
    options.pem_private_key = pair->key;
  }
  return grpc::SslCredentials(options);
}

}  // namespace adaline
