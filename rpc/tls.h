// TLS for the parameter server and its clients, from PEM files named by
// flags: the server's certificate and key, the clients' CA, and for mutual
// TLS a CA that client certificates must chain to. Stateless functions that
// read the files on each call; safe from any thread.
#ifndef ADALINE_RPC_TLS_H_
#define ADALINE_RPC_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace adaline {

struct TlsFiles {
  std::string certificate;  // --tls-cert: this side's certificate chain
  std::string key;          // --tls-key: its private key
  std::string ca;  // --tls-ca (clients): CA of the server's certificate
  std::string
      client_ca;  // --tls-client-ca (server): require client certificates
};

// TLS server credentials, or insecure ones when no certificate is named.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

// TLS channel credentials when --tls-ca is named, else insecure ones.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& files);

}  // namespace adaline

#endif  // ADALINE_RPC_TLS_H_
