#include "server/remote_parameters.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/sharding.h"

namespace adaline {
namespace {

constexpr int kMaxMessageBytes = 256 << 20;

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// Errors that a restarted or reachable-again shard can cure.
bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsAborted(status) || absl::IsCancelled(status) ||
         (absl::IsUnknown(status) && !status.message().empty());
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxMessageBytes);
  // Reconnect quickly after a shard restarts.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(
      address,
      credentials != nullptr ? credentials : grpc::InsecureChannelCredentials(),
      arguments);
}

void Authenticate(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

struct RemoteParameters::Shard {
  uint32_t index = 0;
  std::string address;
  std::unique_ptr<adaline::v1::ParameterServer::Stub> stub;
  // The next request: the keys to pull and, when `push_staged`, the
  // gradients of the last batch. Reused from batch to batch.
  adaline::v1::ExchangeRequest request;
  adaline::v1::ExchangeResponse response;
  std::vector<uint32_t> positions;  // of request's pull keys in the caller's
  bool push_staged = false;
  // The push message while it is not in `request`, kept for its buffers.
  std::unique_ptr<adaline::v1::PushRequest> spare_push =
      std::make_unique<adaline::v1::PushRequest>();
  // The open exchange stream.
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<adaline::v1::ExchangeRequest,
                                           adaline::v1::ExchangeResponse>>
      stream;
  // This round's progress. The watchdog's thread reads `in_round` (written
  // only while it is disarmed) and `answered`.
  bool in_round = false;
  bool written = false;
  std::atomic<bool> answered{false};

  std::string Name() const {
    return absl::StrCat("shard ", index, " at ", address);
  }
  bool HasWork() const { return push_staged || request.pull().keys_size() > 0; }
};

RemoteParameters::RemoteParameters(const std::vector<std::string>& addresses,
                                   ClientOptions options)
    : RemoteParameters(
          [&addresses, &options] {
            std::vector<std::shared_ptr<grpc::Channel>> channels;
            for (const std::string& address : addresses) {
              channels.push_back(MakeChannel(address, options.credentials));
            }
            return channels;
          }(),
          addresses, options) {}

RemoteParameters::RemoteParameters(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<std::string>& names, ClientOptions options)
    : options_(options),
      watchdog_([this] { CancelStreams(/*unanswered_only=*/true); },
                std::min(options.call_timeout / 4, absl::Milliseconds(250))) {
  for (size_t i = 0; i < channels.size(); ++i) {
    auto shard = std::make_unique<Shard>();
    shard->index = static_cast<uint32_t>(i);
    shard->address = names[i];
    shard->stub = adaline::v1::ParameterServer::NewStub(channels[i]);
    shard->spare_push->set_drop_new_keys_if_full(
        options_.drop_new_keys_if_full);
    shards_.push_back(std::move(shard));
  }
}

RemoteParameters::~RemoteParameters() {
  CancelStreams(/*unanswered_only=*/false);
}

void RemoteParameters::CancelStreams(bool unanswered_only) {
  for (auto& shard : shards_) {
    if (shard->context == nullptr) continue;
    if (unanswered_only && (!shard->in_round || shard->answered.load()))
      continue;
    shard->context->TryCancel();
  }
}

template <typename Attempt>
absl::Status RemoteParameters::WithRetry(Shard& shard, const char* what,
                                         Attempt attempt) {
  absl::Status status = attempt();
  if (status.ok() || !IsTransient(status)) return status;
  const absl::Time give_up = absl::Now() + options_.retry_timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Time next_report = absl::Now();
  while (!status.ok() && IsTransient(status)) {
    if (absl::Now() >= give_up) {
      return absl::UnavailableError(
          absl::StrCat(shard.Name(), " was unreachable for ",
                       absl::FormatDuration(options_.retry_timeout), " (", what,
                       "): ", status.message()));
    }
    if (options_.log != nullptr && absl::Now() >= next_report) {
      std::fprintf(options_.log, "adaline: waiting for %s (%s): %s\n",
                   shard.Name().c_str(), what,
                   std::string(status.message()).c_str());
      std::fflush(options_.log);
      next_report = absl::Now() + absl::Seconds(10);
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
    status = attempt();
  }
  if (status.ok() && options_.log != nullptr) {
    std::fprintf(options_.log, "adaline: %s is back\n", shard.Name().c_str());
  }
  return status;
}

void RemoteParameters::OpenStream(Shard& shard) {
  if (shard.stream != nullptr) return;
  shard.context = std::make_unique<grpc::ClientContext>();
  Authenticate(*shard.context, options_.token);
  shard.stream = shard.stub->Exchange(shard.context.get());
}

void RemoteParameters::Write(Shard& shard) {
  shard.written = shard.stream->Write(shard.request);
  if (shard.written && shard.push_staged) {
    // Sent: never sent again, so no batch is applied twice.
    shard.spare_push.reset(shard.request.release_push());
    shard.push_staged = false;
  }
}

void RemoteParameters::Read(Shard& shard) {
  shard.answered.store(shard.written && shard.stream->Read(&shard.response));
}

absl::Status RemoteParameters::CloseStream(Shard& shard, bool expired) {
  if (shard.stream == nullptr) return absl::OkStatus();
  shard.stream->WritesDone();
  absl::Status status = FromGrpc(shard.stream->Finish());
  shard.stream.reset();
  shard.context.reset();
  if (expired && (status.ok() || absl::IsCancelled(status))) {
    return absl::DeadlineExceededError(absl::StrCat(
        "no answer in ", absl::FormatDuration(options_.call_timeout)));
  }
  return status;
}

absl::Status RemoteParameters::ExchangeAlone(Shard& shard) {
  OpenStream(shard);
  shard.answered.store(false);
  watchdog_.Arm(absl::Now() + options_.call_timeout);
  Write(shard);
  Read(shard);
  const bool expired = watchdog_.Disarm();
  if (shard.answered) return absl::OkStatus();
  absl::Status status = CloseStream(shard, expired);
  if (status.ok()) status = absl::UnavailableError("exchange stream closed");
  return status;
}

absl::Status RemoteParameters::ExchangeAll() {
  for (auto& shard : shards_) {
    shard->in_round = shard->HasWork();
    shard->written = false;
    shard->answered.store(false);
    // Streams open before the watchdog is armed: it may cancel them.
    if (shard->in_round) OpenStream(*shard);
  }
  // All shards at once: every request is written before any answer is read.
  watchdog_.Arm(absl::Now() + options_.call_timeout);
  for (auto& shard : shards_) {
    if (shard->in_round) Write(*shard);
  }
  for (auto& shard : shards_) {
    if (shard->in_round) Read(*shard);
  }
  const bool expired = watchdog_.Disarm();
  // Failures one by one, retried while they may pass.
  for (auto& shard : shards_) {
    if (!shard->in_round || shard->answered) continue;
    absl::Status status = CloseStream(*shard, expired);
    if (status.ok()) status = absl::UnavailableError("exchange stream closed");
    if (IsTransient(status)) {
      status =
          WithRetry(*shard, "exchange", [&] { return ExchangeAlone(*shard); });
    }
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(shard->Name(), ": ", status.message()));
    }
  }
  for (auto& shard : shards_) {
    const int asked = shard->request.pull().keys_size();
    if (!shard->in_round || asked == 0) continue;
    if (shard->response.pull().weights_size() != asked) {
      return absl::InternalError(absl::StrCat(
          shard->Name(), " answered ", shard->response.pull().weights_size(),
          " weights for ", asked, " keys"));
    }
  }
  return absl::OkStatus();
}

absl::Status RemoteParameters::Pull(absl::Span<const uint64_t> keys,
                                    absl::Span<float> weights) {
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  for (auto& shard : shards_) {
    shard->request.mutable_pull()->clear_keys();
    shard->positions.clear();
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    Shard& shard = *shards_[ShardOf(keys[i], count)];
    shard.request.mutable_pull()->add_keys(keys[i]);
    shard.positions.push_back(static_cast<uint32_t>(i));
  }
  if (absl::Status s = ExchangeAll(); !s.ok()) return s;
  for (auto& shard : shards_) {
    const auto& pulled = shard->response.pull().weights();
    for (size_t i = 0; i < shard->positions.size(); ++i) {
      weights[shard->positions[i]] = pulled[static_cast<int>(i)];
    }
  }
  return absl::OkStatus();
}

absl::Status RemoteParameters::Flush() {
  bool staged = false;
  for (auto& shard : shards_) {
    staged |= shard->push_staged;
    shard->request.mutable_pull()->clear_keys();
  }
  return staged ? ExchangeAll() : absl::OkStatus();
}

absl::Status RemoteParameters::Push(absl::Span<const uint64_t> keys,
                                    absl::Span<const float> gradients) {
  // Two pushes in a row: the first goes alone.
  if (absl::Status s = Flush(); !s.ok()) return s;
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  for (auto& shard : shards_) {
    adaline::v1::PushRequest* push = shard->spare_push.release();
    push->clear_keys();
    push->clear_gradients();
    shard->request.set_allocated_push(push);
    shard->push_staged = true;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    adaline::v1::PushRequest& push =
        *shards_[ShardOf(keys[i], count)]->request.mutable_push();
    push.add_keys(keys[i]);
    push.add_gradients(gradients[i]);
  }
  return absl::OkStatus();
}

absl::Status RemoteParameters::Finish() {
  absl::Status result = Flush();
  for (auto& shard : shards_) {
    absl::Status status = CloseStream(*shard, /*expired=*/false);
    if (!status.ok()) {
      result.Update(absl::Status(
          status.code(), absl::StrCat(shard->Name(), ": ", status.message())));
    }
  }
  return result;
}

absl::StatusOr<std::vector<adaline::v1::StatsResponse>>
RemoteParameters::Stats() {
  std::vector<adaline::v1::StatsResponse> all(shards_.size());
  for (size_t s = 0; s < shards_.size(); ++s) {
    Shard& shard = *shards_[s];
    absl::Status status = WithRetry(shard, "stats", [&] {
      grpc::ClientContext context;
      context.set_deadline(
          absl::ToChronoTime(absl::Now() + options_.call_timeout));
      Authenticate(context, options_.token);
      return FromGrpc(
          shard.stub->Stats(&context, adaline::v1::StatsRequest(), &all[s]));
    });
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(shard.Name(), ": ", status.message()));
    }
  }
  return all;
}

}  // namespace adaline
