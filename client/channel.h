// How every adaline client reaches a shard: a channel per address with the
// message limit and quick reconnects, TLS or not, and the caller's token
// sent with each call. Stateless functions; safe from any thread.
#ifndef ADALINE_CLIENT_CHANNEL_H_
#define ADALINE_CLIENT_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/tls.h"
#include "rpc/wire.h"

namespace adaline {

struct ChannelOptions {
  // TLS or not; null is insecure.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Sent as "authorization: Bearer TOKEN" when not empty.
  std::string token;
  int max_message_bytes = kDefaultMaxMessageBytes;
};

// Credentials from the TLS files and the token from `token_file` (or the
// ADALINE_TOKEN environment variable): what --tls-* and --auth-token-file
// ask for. Fails naming the file that cannot be used.
absl::StatusOr<ChannelOptions> MakeChannelOptions(
    const TlsFiles& tls, const std::string& token_file);

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelOptions& options);
std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::vector<std::string>& addresses, const ChannelOptions& options);

// Adds `token` to a call's metadata, if there is one.
void Authenticate(grpc::ClientContext& context, const std::string& token);

}  // namespace adaline

#endif  // ADALINE_CLIENT_CHANNEL_H_
