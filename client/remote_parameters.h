// RemoteParameters: the Parameters of a distributed worker, held by a set of
// parameter-server shards (shard i at addresses[i]).
//
// Each shard is spoken to on one long-lived Exchange stream, one message
// each way per batch: Push only stages a batch's gradients, and the next
// Pull sends them together with the keys it asks for, to all shards at
// once. Every shard gets every push, even an empty one, so all shards count
// the same optimizer steps. An error of a staged push is reported by the
// next Pull, Push or Finish. Each round has a deadline (call_timeout); when
// a shard is unreachable the round waits and retries with backoff, saying
// what it waits for, until the shard is back or retry_timeout has passed.
//
// With rounds (UseRounds), a worker takes several optimizer steps per round
// trip (fewer at first, see kRoundGrowth): a round pulls the weights and
// optimizer state of the keys of its coming steps (announced through Prefetch),
// answers each step's Pull from a local copy to which each step's Push is
// applied as the servers will apply it, and sends the round's steps in one
// message, which the servers apply as that many steps. So every example sees
// the updates of the examples before it, as in local training; only other
// workers' updates arrive a round late.
//
// Delivery is exactly once across a shard's graceful restart: a batch the
// stopping shard refused, saying it applied none of it, is sent again once
// the shard is back. Across a crash it is at most once: a batch written
// just before its shard dies may be lost, and none is ever applied twice.
//
// Not thread-safe: one learner thread calls it (its watchdog thread only
// cancels streams). Statistics and queries go through ClusterClient.
#ifndef ADALINE_CLIENT_REMOTE_PARAMETERS_H_
#define ADALINE_CLIENT_REMOTE_PARAMETERS_H_

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/call_watchdog.h"
#include "client/client_options.h"
#include "core/key_index.h"
#include "core/parameters.h"
#include "core/weight_store.h"
#include "proto/adaline.grpc.pb.h"

namespace adaline {

class RemoteParameters final : public Parameters {
 public:
  RemoteParameters(const std::vector<std::string>& addresses,
                   ClientOptions options);
  // Over given channels (shared with a ClusterClient, or in-process ones in
  // tests); `names` name them in messages.
  RemoteParameters(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                   const std::vector<std::string>& names,
                   ClientOptions options);
  ~RemoteParameters() override;

  absl::Status Pull(absl::Span<const uint64_t> keys,
                    absl::Span<float> weights) override;
  void Prefetch(absl::Span<const Feature> features) override;
  // The length of the coming round: round_steps, or less early on.
  uint32_t steps_per_round() const override;
  bool wants_scales() const override { return wants_scales_; }
  // With rounds: an example learns on the copy of the round's keys in one
  // pass, as local training does, and its step is staged for the servers.
  bool learns_examples() const override { return replica_ != nullptr; }
  absl::StatusOr<WeightStore::ExampleResult> LearnExample(
      const Example& example, Loss loss, bool learn) override;
  // Sends each key's name once, with the next push to its shard.
  void NoteName(uint64_t key, absl::string_view full_name) override;
  // Names sent so far.
  size_t names_sent() const { return named_keys_.size(); }

  // Takes up to `steps` optimizer steps per round trip (see above), with the
  // servers' optimizer, as their Stats report it. A round also ends early
  // when its message would hold kRoundKeyLimit keys, or when a step needs a
  // key that was not announced. A --normalized optimizer always works on a
  // copy (rounds of one step at least): each step's norm needs all its keys.
  void UseRounds(uint32_t steps, const OptimizerOptions& optimizer);
  static constexpr uint32_t kDefaultRoundSteps = 512;
  static constexpr size_t kRoundKeyLimit = size_t{1} << 16;
  // A round is at most 1/kRoundGrowth of the steps taken before it.
  static constexpr uint64_t kRoundGrowth = 32;

  // Sends a staged push and closes the streams; fails if a shard refused a
  // batch.
  absl::Status Finish();

  size_t shard_count() const { return shards_.size(); }

 protected:
  absl::Status PushStep(absl::Span<const uint64_t> keys,
                        absl::Span<const float> gradients,
                        absl::Span<const float> scales) override;

 private:
  struct Shard;

  // One round with every shard that has something to send.
  absl::Status ExchangeAll();
  // One round with `shard` alone, as a retry does it.
  absl::Status ExchangeAlone(Shard& shard);
  // Sends staged pushes, if any, pulling nothing.
  absl::Status Flush();
  // Sends the round's steps and pulls the keys of `keys` and the announced
  // ones with their state into the replica.
  absl::Status OpenRound(absl::Span<const uint64_t> keys);
  // OpenRound, then answers `keys` from the replica.
  absl::Status StartRound(absl::Span<const uint64_t> keys,
                          absl::Span<float> weights);
  // Counts a step taken on the replica and ends the round when it is full.
  void CountStep();
  // Adds one step to every shard's staged push.
  void StageStep(absl::Span<const uint64_t> keys,
                 absl::Span<const float> gradients,
                 absl::Span<const float> scales, std::optional<double> norm);
  void OpenStream(Shard& shard);
  void Write(Shard& shard);
  void Read(Shard& shard);
  // After a stream ended with `ended`: the push it left unanswered goes
  // again if the shard said it was not applied and the failure may pass,
  // else it is given up.
  void SettleInFlight(Shard& shard, const absl::Status& ended);
  // Ends the stream and says why it ended; `expired` if the watchdog cut it.
  absl::Status CloseStream(Shard& shard, bool expired);
  // For the watchdog: names the shards of a round that have not answered.
  void ReportSilent(absl::Duration waited);
  // Cancels the open streams: for the watchdog, those of a round past its
  // deadline that have not answered (the others stay up).
  void CancelStreams(bool unanswered_only);

  ClientOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  // Rounds. The replica holds this round's keys, as the servers sent them,
  // and the round's own steps; upcoming_ collects the keys announced for
  // the next round.
  uint32_t round_steps_ = 1;
  // The servers' optimizer is --normalized: pushes carry scales.
  bool wants_scales_ = false;
  std::unique_ptr<WeightStore> replica_;
  // The learner's steps on the replica, as local training takes them.
  std::unique_ptr<StoreParameters> replica_parameters_;
  KeyIndex upcoming_;
  uint32_t steps_in_round_ = 0;
  // Keys whose names were noted (sent or waiting in a shard's
  // pending_names): each name goes once.
  absl::flat_hash_set<uint64_t> named_keys_;
  uint64_t steps_taken_ = 0;
  size_t keys_in_round_ = 0;
  bool round_open_ = false;
  std::vector<uint64_t> pulled_keys_;
  std::vector<float> step_weights_;
  // LearnExample's: the example's keys, and the step it took.
  std::vector<uint64_t> example_keys_;
  WeightStore::PushedStep pushed_;
  CallWatchdog watchdog_;  // after shards_: stops before they go
};

}  // namespace adaline

#endif  // ADALINE_CLIENT_REMOTE_PARAMETERS_H_
