#include "client/channel.h"

#include "rpc/auth.h"

namespace adaline {

absl::StatusOr<ChannelOptions> MakeChannelOptions(
    const TlsFiles& tls, const std::string& token_file) {
  ChannelOptions options;
  absl::StatusOr<std::string> token = ReadClientToken(token_file);
  if (!token.ok()) return token.status();
  options.token = *std::move(token);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  options.credentials = *std::move(credentials);
  return options;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelOptions& options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_message_bytes);
  arguments.SetMaxSendMessageSize(options.max_message_bytes);
  // Reconnect quickly after a shard restarts.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address,
                                   options.credentials != nullptr
                                       ? options.credentials
                                       : grpc::InsecureChannelCredentials(),
                                   arguments);
}

std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::vector<std::string>& addresses, const ChannelOptions& options) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  channels.reserve(addresses.size());
  for (const std::string& address : addresses) {
    channels.push_back(MakeChannel(address, options));
  }
  return channels;
}

void Authenticate(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

}  // namespace adaline
