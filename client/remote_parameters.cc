#include "client/remote_parameters.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/sharding.h"
#include "rpc/wire.h"

namespace adaline {
struct RemoteParameters::Shard {
  uint32_t index = 0;
  std::string address;
  std::unique_ptr<adaline::v1::ParameterServer::Stub> stub;
  // The next request: the keys to pull and, when `push_staged`, the
  // gradients of the last batch. Reused from batch to batch.
  adaline::v1::ExchangeRequest request;
  adaline::v1::ExchangeResponse response;
  std::vector<uint32_t> positions;  // of request's pull keys in the caller's
  uint32_t step_keys = 0;           // keys of the step being staged
  // Names noted since the last staged push, sent with the next one.
  std::vector<std::pair<uint64_t, std::string>> pending_names;
  bool push_staged = false;
  // The latest step the shard answered with: steps only grow.
  uint64_t step = 0;
  // A shard owns one push message, kept for its buffers: here while idle,
  // in `request` while staged, in `in_flight` while unanswered.
  std::unique_ptr<adaline::v1::PushRequest> spare_push =
      std::make_unique<adaline::v1::PushRequest>();
  // The push written on the open stream and not answered yet, and how many
  // pushes of that stream were answered: if the stream ends and the shard
  // says it applied only those, this one is sent again.
  std::unique_ptr<adaline::v1::PushRequest> in_flight;
  uint64_t acknowledged = 0;
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
    : RemoteParameters(MakeChannels(addresses, options.channel), addresses,
                       options) {}

RemoteParameters::RemoteParameters(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<std::string>& names, ClientOptions options)
    : options_(options),
      watchdog_(
          [this] { CancelStreams(/*unanswered_only=*/true); },
          std::min(options.retry.call_timeout / 4, absl::Milliseconds(250)),
          [this](absl::Duration waited) { ReportSilent(waited); },
          options.retry.report_every) {
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

void RemoteParameters::ReportSilent(absl::Duration waited) {
  if (options_.retry.log == nullptr) return;
  for (auto& shard : shards_) {
    if (!shard->in_round || shard->answered.load()) continue;
    std::fprintf(
        options_.retry.log, "adaline: waiting for %s (no answer for %s)\n",
        shard->Name().c_str(),
        absl::FormatDuration(absl::Trunc(waited, absl::Seconds(1))).c_str());
  }
  std::fflush(options_.retry.log);
}

void RemoteParameters::CancelStreams(bool unanswered_only) {
  for (auto& shard : shards_) {
    if (shard->context == nullptr) continue;
    if (unanswered_only && (!shard->in_round || shard->answered.load()))
      continue;
    shard->context->TryCancel();
  }
}

void RemoteParameters::OpenStream(Shard& shard) {
  if (shard.stream != nullptr) return;
  shard.context = std::make_unique<grpc::ClientContext>();
  shard.acknowledged = 0;
  Authenticate(*shard.context, options_.channel.token);
  shard.stream = shard.stub->Exchange(shard.context.get());
}

void RemoteParameters::Write(Shard& shard) {
  shard.written = shard.stream->Write(shard.request);
  if (shard.written && shard.push_staged) {
    shard.in_flight.reset(shard.request.release_push());
    shard.push_staged = false;
  }
}

void RemoteParameters::Read(Shard& shard) {
  const bool answered = shard.written && shard.stream->Read(&shard.response);
  if (answered && shard.in_flight != nullptr) {
    ++shard.acknowledged;
    shard.spare_push = std::move(shard.in_flight);
  }
  shard.answered.store(answered);
}

void RemoteParameters::SettleInFlight(Shard& shard, const absl::Status& ended) {
  if (shard.in_flight == nullptr) return;
  // The shard names how many pushes of the stream it applied when it ends
  // the stream itself (a refusal, a shutdown). A stream it never began to
  // serve (no opening header) applied nothing. Otherwise (a crash, a lost
  // connection) the push may or may not have been applied: it is not sent
  // again, so none is ever applied twice.
  const auto& trailers = shard.context->GetServerTrailingMetadata();
  const auto found = trailers.find(kAppliedTrailer);
  const bool opened =
      shard.context->GetServerInitialMetadata().count(kStreamOpenedHeader) > 0;
  uint64_t applied = 0;
  const bool none_lost =
      found == trailers.end()
          ? !opened
          : absl::SimpleAtoi(
                absl::string_view(found->second.data(), found->second.size()),
                &applied) &&
                applied == shard.acknowledged;
  // A refusal that will not pass (a bad or oversized batch) is reported,
  // and its batch is not tried again.
  if (IsTransient(ended) && none_lost) {
    shard.request.set_allocated_push(shard.in_flight.release());
    shard.push_staged = true;
  } else {
    shard.spare_push = std::move(shard.in_flight);
  }
}

absl::Status RemoteParameters::CloseStream(Shard& shard, bool expired) {
  if (shard.stream == nullptr) return absl::OkStatus();
  shard.stream->WritesDone();
  absl::Status status = FromGrpc(shard.stream->Finish());
  SettleInFlight(shard, status);
  shard.stream.reset();
  shard.context.reset();
  if (expired && (status.ok() || absl::IsCancelled(status))) {
    return absl::DeadlineExceededError(absl::StrCat(
        "no answer in ", absl::FormatDuration(options_.retry.call_timeout)));
  }
  return status;
}

absl::Status RemoteParameters::ExchangeAlone(Shard& shard) {
  OpenStream(shard);
  shard.answered.store(false);
  watchdog_.Arm(absl::Now() + options_.retry.call_timeout);
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
  watchdog_.Arm(absl::Now() + options_.retry.call_timeout);
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
      status = Retry(options_.retry, shard->Name(), "exchange",
                     [&] { return ExchangeAlone(*shard); });
    }
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(shard->Name(), ": ", status.message()));
    }
  }
  for (auto& shard : shards_) {
    if (!shard->in_round) continue;
    const uint64_t step = shard->response.pull().step();
    if (step < shard->step && !options_.allow_shard_reset) {
      return absl::FailedPreconditionError(absl::StrCat(
          shard->Name(), " went back from step ", shard->step, " to step ",
          step,
          ": it restarted from an older checkpoint or from none, and the "
          "training in between is not in the model. Stop here, or pass "
          "--allow-shard-reset to train on"));
    }
    shard->step = step;
    const int asked = shard->request.pull().keys_size();
    if (asked == 0) continue;
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
  if (replica_ != nullptr) {
    // The copy holds every key the round pulled, known to the servers or
    // not: a key it lacks was not announced, and needs a new round.
    if (round_open_) {
      (void)replica_parameters_->Pull(keys, weights);
      if (replica_parameters_->absent_in_last_pull() == 0) {
        return absl::OkStatus();
      }
    }
    return StartRound(keys, weights);
  }
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

void RemoteParameters::UseRounds(uint32_t steps,
                                 const OptimizerOptions& optimizer) {
  round_steps_ = std::max<uint32_t>(steps, 1);
  wants_scales_ = KeepsScale(optimizer);
  // --normalized needs each step's norm over all its keys, which only a
  // copy of them has: rounds, of one step if need be.
  replica_ = round_steps_ > 1 || wants_scales_
                 ? std::make_unique<WeightStore>(optimizer)
                 : nullptr;
  // Only the learner's thread touches the copy.
  if (replica_ != nullptr) replica_->SetSharedBetweenThreads(false);
  replica_parameters_ = replica_ != nullptr
                            ? std::make_unique<StoreParameters>(replica_.get())
                            : nullptr;
}

uint32_t RemoteParameters::steps_per_round() const {
  // Early on, when weights move most, rounds are short so that other
  // workers' updates arrive soon.
  return static_cast<uint32_t>(std::min<uint64_t>(
      round_steps_, std::max<uint64_t>(1, steps_taken_ / kRoundGrowth)));
}

void RemoteParameters::Prefetch(absl::Span<const Feature> features) {
  if (replica_ == nullptr) return;
  for (const Feature& feature : features) {
    if (upcoming_.keys().size() >= kRoundKeyLimit) return;
    upcoming_.IndexOf(feature.key);
  }
}

absl::Status RemoteParameters::StartRound(absl::Span<const uint64_t> keys,
                                          absl::Span<float> weights) {
  if (absl::Status s = OpenRound(keys); !s.ok()) return s;
  return replica_parameters_->Pull(keys, weights);
}

absl::Status RemoteParameters::OpenRound(absl::Span<const uint64_t> keys) {
  for (const uint64_t key : keys) upcoming_.IndexOf(key);
  pulled_keys_ = upcoming_.keys();
  upcoming_.Clear();
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  for (auto& shard : shards_) {
    shard->request.mutable_pull()->clear_keys();
    shard->request.mutable_pull()->set_with_state(true);
    shard->positions.clear();
  }
  for (size_t i = 0; i < pulled_keys_.size(); ++i) {
    Shard& shard = *shards_[ShardOf(pulled_keys_[i], count)];
    shard.request.mutable_pull()->add_keys(pulled_keys_[i]);
    shard.positions.push_back(static_cast<uint32_t>(i));
  }
  round_open_ = false;
  if (absl::Status s = ExchangeAll(); !s.ok()) return s;
  // The copy starts at the latest step any shard reported.
  uint64_t step = 0;
  for (auto& shard : shards_) step = std::max(step, shard->step);
  replica_->Clear();
  replica_->SetStep(step);
  double norm_sum = 0;
  for (auto& shard : shards_) {
    norm_sum = std::max(norm_sum, shard->response.pull().norm_sum());
  }
  replica_->SetNormSum(norm_sum);
  const int width = replica_->optimizer().state_width();
  for (auto& shard : shards_) {
    const adaline::v1::PullResponse& pulled = shard->response.pull();
    const size_t asked = shard->positions.size();
    if (asked == 0) continue;
    if (static_cast<size_t>(pulled.states_size()) != asked * width) {
      return absl::InternalError(
          absl::StrCat(shard->Name(), " answered ", pulled.states_size(),
                       " state values for ", asked, " keys"));
    }
    for (size_t i = 0; i < asked; ++i) {
      Entry entry;
      entry.key = pulled_keys_[shard->positions[i]];
      entry.last_step = step;
      entry.weight = pulled.weights(static_cast<int>(i));
      for (int s = 0; s < width; ++s) {
        entry.state[s] = pulled.states(static_cast<int>(i * width + s));
      }
      if (absl::Status s = replica_->Insert(entry); !s.ok()) {
        return absl::InternalError(
            absl::StrCat(shard->Name(), " sent ", s.message()));
      }
    }
  }
  steps_in_round_ = 0;
  keys_in_round_ = 0;
  round_open_ = true;
  return absl::OkStatus();
}

absl::StatusOr<WeightStore::ExampleResult> RemoteParameters::LearnExample(
    const Example& example, Loss loss, bool learn) {
  if (replica_ == nullptr) {
    return Parameters::LearnExample(example, loss, learn);
  }
  const auto learn_on_replica = [&] {
    return replica_->LearnExample(example.features, example.base, example.label,
                                  example.importance, loss, learn,
                                  wants_scales_, &pushed_);
  };
  WeightStore::ExampleResult result;
  if (round_open_) result = learn_on_replica();
  // A key the round did not announce (or no round yet): a new round
  // fetches it, and the example learns there.
  if (!round_open_ || result.absent > 0) {
    example_keys_.clear();
    for (const Feature& feature : example.features) {
      example_keys_.push_back(feature.key);
    }
    if (absl::Status s = OpenRound(example_keys_); !s.ok()) return s;
    result = learn_on_replica();
    if (result.absent > 0) {
      return absl::InternalError(absl::StrCat("the servers sent no state for ",
                                              result.absent,
                                              " of an example's keys"));
    }
  }
  if (!learn) return result;
  // The norm goes with every step under --normalized, as Push sends it.
  StageStep(pushed_.keys, pushed_.gradients, pushed_.scales,
            wants_scales_ ? std::optional<double>(pushed_.norm) : std::nullopt);
  CountStep();
  return result;
}

void RemoteParameters::CountStep() {
  ++steps_taken_;
  if (++steps_in_round_ >= steps_per_round() ||
      keys_in_round_ >= kRoundKeyLimit) {
    round_open_ = false;
  }
}

absl::Status RemoteParameters::Flush() {
  bool staged = false;
  for (auto& shard : shards_) {
    staged |= shard->push_staged;
    shard->request.mutable_pull()->clear_keys();
    shard->request.mutable_pull()->set_with_state(false);
  }
  round_open_ = false;
  return staged ? ExchangeAll() : absl::OkStatus();
}

absl::Status RemoteParameters::PushStep(absl::Span<const uint64_t> keys,
                                        absl::Span<const float> gradients,
                                        absl::Span<const float> scales) {
  if (replica_ != nullptr) {
    if (!round_open_) {
      step_weights_.resize(keys.size());
      if (absl::Status s = StartRound(keys, absl::MakeSpan(step_weights_));
          !s.ok()) {
        return s;
      }
    }
    // The step's norm needs all its keys, which only this copy holds. Every
    // step has one, even a step without gradients (every example's loss
    // was flat): the servers take one norm per step.
    std::optional<double> norm;
    if (!wants_scales_) {
      if (absl::Status s = replica_parameters_->Push(keys, gradients);
          !s.ok()) {
        return s;
      }
    } else {
      absl::StatusOr<double> summed =
          replica_parameters_->PushWithStepNorm(keys, gradients, scales);
      if (!summed.ok()) return summed.status();
      norm = *summed;
    }
    StageStep(keys, gradients, scales, norm);
    CountStep();
    return absl::OkStatus();
  }
  // Two pushes in a row: the first goes alone.
  if (absl::Status s = Flush(); !s.ok()) return s;
  StageStep(keys, gradients, scales, std::nullopt);
  return absl::OkStatus();
}

void RemoteParameters::NoteName(uint64_t key, absl::string_view full_name) {
  if (!named_keys_.insert(key).second) return;
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  shards_[ShardOf(key, count)]->pending_names.emplace_back(key, full_name);
}

void RemoteParameters::StageStep(absl::Span<const uint64_t> keys,
                                 absl::Span<const float> gradients,
                                 absl::Span<const float> scales,
                                 std::optional<double> norm) {
  const bool multi_step = replica_ != nullptr;
  if (!multi_step || steps_in_round_ == 0) {
    for (auto& shard : shards_) {
      adaline::v1::PushRequest* push = shard->spare_push.release();
      push->clear_keys();
      push->clear_gradients();
      push->clear_scales();
      push->clear_step_norms();
      push->clear_step_sizes();
      push->clear_names();
      shard->request.set_allocated_push(push);
      shard->push_staged = true;
    }
  }
  keys_in_round_ += keys.size();
  for (auto& shard : shards_) {
    for (auto& [key, name] : shard->pending_names) {
      adaline::v1::FeatureName* named =
          shard->request.mutable_push()->add_names();
      named->set_key(key);
      named->set_name(std::move(name));
    }
    shard->pending_names.clear();
  }
  if (norm.has_value()) {
    for (auto& shard : shards_) {
      shard->request.mutable_push()->add_step_norms(*norm);
    }
  }
  if (shards_.size() == 1) {
    adaline::v1::PushRequest& push = *shards_[0]->request.mutable_push();
    push.mutable_keys()->Add(keys.begin(), keys.end());
    push.mutable_gradients()->Add(gradients.begin(), gradients.end());
    push.mutable_scales()->Add(scales.begin(), scales.end());
    if (multi_step) push.add_step_sizes(static_cast<uint32_t>(keys.size()));
    return;
  }
  const uint32_t count = static_cast<uint32_t>(shards_.size());
  for (auto& shard : shards_) shard->step_keys = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    Shard& shard = *shards_[ShardOf(keys[i], count)];
    adaline::v1::PushRequest& push = *shard.request.mutable_push();
    push.add_keys(keys[i]);
    push.add_gradients(gradients[i]);
    if (!scales.empty()) push.add_scales(scales[i]);
    ++shard.step_keys;
  }
  // Every shard counts every step, with or without keys of its own.
  if (multi_step) {
    for (auto& shard : shards_) {
      shard->request.mutable_push()->add_step_sizes(shard->step_keys);
    }
  }
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

}  // namespace adaline
