#include "server/remote_parameters.h"

#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/sharding.h"

namespace adaline {
namespace {

// Waits for `count` callbacks. (absl::BlockingCounter would do, but
// ThreadSanitizer cannot see Debian's uninstrumented Abseil synchronise.)
class CountDown {
 public:
  explicit CountDown(int count) : count_(count) {}
  void Decrement() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--count_ == 0) zero_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    zero_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable zero_;
  int count_;
};

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
  // Reused per call.
  adaline::v1::PullRequest pull_request;
  adaline::v1::PullResponse pull_response;
  std::vector<uint32_t> positions;  // of pull_request's keys in the caller's
  adaline::v1::PushRequest push_request;
  // The open push stream.
  std::unique_ptr<grpc::ClientContext> push_context;
  std::unique_ptr<grpc::ClientWriter<adaline::v1::PushRequest>> push_stream;
  adaline::v1::PushResponse push_response;
  uint64_t batches_written = 0;
  uint64_t batches_applied = 0;

  std::string Name() const {
    return absl::StrCat("shard ", index, " at ", address);
  }
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
    : options_(options) {
  for (size_t i = 0; i < channels.size(); ++i) {
    auto shard = std::make_unique<Shard>();
    shard->index = static_cast<uint32_t>(i);
    shard->address = names[i];
    shard->stub = adaline::v1::ParameterServer::NewStub(channels[i]);
    shard->push_request.set_drop_new_keys_if_full(
        options_.drop_new_keys_if_full);
    shards_.push_back(std::move(shard));
  }
}

RemoteParameters::~RemoteParameters() {
  for (auto& shard : shards_) {
    if (shard->push_context != nullptr) shard->push_context->TryCancel();
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

absl::Status RemoteParameters::Pull(absl::Span<const uint64_t> keys,
                                    absl::Span<float> weights) {
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  for (auto& shard : shards_) {
    shard->pull_request.clear_keys();
    shard->positions.clear();
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    Shard& shard = *shards_[ShardOf(keys[i], count)];
    shard.pull_request.add_keys(keys[i]);
    shard.positions.push_back(static_cast<uint32_t>(i));
  }
  auto pull_one = [this](Shard& shard) {
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.call_timeout));
    Authenticate(context, options_.token);
    return FromGrpc(
        shard.stub->Pull(&context, shard.pull_request, &shard.pull_response));
  };
  std::vector<absl::Status> statuses(count);
  uint32_t asked = 0;
  for (auto& shard : shards_) asked += shard->pull_request.keys_size() > 0;
  if (asked == 1) {
    // One shard: a plain call saves a hand-off between threads.
    for (uint32_t s = 0; s < count; ++s) {
      if (shards_[s]->pull_request.keys_size() > 0)
        statuses[s] = pull_one(*shards_[s]);
    }
  } else {
    // All shards at once; failures are retried one by one below.
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts(count);
    CountDown done(static_cast<int>(count));
    for (uint32_t s = 0; s < count; ++s) {
      Shard& shard = *shards_[s];
      if (shard.pull_request.keys_size() == 0) {
        done.Decrement();
        continue;
      }
      contexts[s] = std::make_unique<grpc::ClientContext>();
      Authenticate(*contexts[s], options_.token);
      contexts[s]->set_deadline(
          absl::ToChronoTime(absl::Now() + options_.call_timeout));
      shard.stub->async()->Pull(contexts[s].get(), &shard.pull_request,
                                &shard.pull_response,
                                [&statuses, &done, s](grpc::Status status) {
                                  statuses[s] = FromGrpc(status);
                                  done.Decrement();
                                });
    }
    done.Wait();
  }
  for (uint32_t s = 0; s < count; ++s) {
    Shard& shard = *shards_[s];
    if (shard.pull_request.keys_size() == 0) continue;
    absl::Status status = statuses[s];
    if (!status.ok()) {
      status = WithRetry(shard, "pull", [&] { return pull_one(shard); });
    }
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(shard.Name(), ": ", status.message()));
    }
    if (shard.pull_response.weights_size() != shard.pull_request.keys_size()) {
      return absl::InternalError(absl::StrCat(
          shard.Name(), " answered ", shard.pull_response.weights_size(),
          " weights for ", shard.pull_request.keys_size(), " keys"));
    }
    for (size_t i = 0; i < shard.positions.size(); ++i) {
      weights[shard.positions[i]] =
          shard.pull_response.weights(static_cast<int>(i));
    }
  }
  return absl::OkStatus();
}

void RemoteParameters::OpenStream(Shard& shard) {
  shard.push_context = std::make_unique<grpc::ClientContext>();
  Authenticate(*shard.push_context, options_.token);
  shard.push_response.Clear();
  shard.push_stream =
      shard.stub->Push(shard.push_context.get(), &shard.push_response);
}

absl::Status RemoteParameters::CloseStream(Shard& shard) {
  if (shard.push_stream == nullptr) return absl::OkStatus();
  shard.push_stream->WritesDone();
  const absl::Status status = FromGrpc(shard.push_stream->Finish());
  shard.batches_applied += shard.push_response.batches_applied();
  shard.push_stream.reset();
  shard.push_context.reset();
  return status;
}

absl::Status RemoteParameters::WriteBatch(Shard& shard) {
  if (shard.push_stream == nullptr) OpenStream(shard);
  if (shard.push_stream->Write(shard.push_request)) {
    ++shard.batches_written;
    return absl::OkStatus();
  }
  // The stream is broken: learn why, and open a new one for the retry.
  absl::Status status = CloseStream(shard);
  if (status.ok()) status = absl::UnavailableError("push stream closed");
  return status;
}

absl::Status RemoteParameters::Push(absl::Span<const uint64_t> keys,
                                    absl::Span<const float> gradients) {
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  for (auto& shard : shards_) {
    shard->push_request.clear_keys();
    shard->push_request.clear_gradients();
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    Shard& shard = *shards_[ShardOf(keys[i], count)];
    shard.push_request.add_keys(keys[i]);
    shard.push_request.add_gradients(gradients[i]);
  }
  for (auto& shard : shards_) {
    absl::Status status =
        WithRetry(*shard, "push", [&] { return WriteBatch(*shard); });
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(shard->Name(), ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status RemoteParameters::Finish() {
  absl::Status result;
  for (auto& shard : shards_) {
    absl::Status status = CloseStream(*shard);
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
