// Parameters: where a learner reads weights and sends gradients. The local
// trainer uses a WeightStore in its own memory; a distributed worker uses
// parameter servers (client/remote_parameters.h). The learning loop is the
// same for both.
//
// Not thread-safe: each serves one learner thread (StoreParameters keeps
// where its last Pull found the keys, for the Push that follows). The
// WeightStore behind a StoreParameters may be shared with other threads.
#ifndef ADALINE_CORE_PARAMETERS_H_
#define ADALINE_CORE_PARAMETERS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/example.h"
#include "core/weight_store.h"

namespace adaline {

class Parameters {
 public:
  virtual ~Parameters() = default;
  // Current weights of `keys`; unknown keys read 0.
  virtual absl::Status Pull(absl::Span<const uint64_t> keys,
                            absl::Span<float> weights) = 0;
  // One optimizer step with these gradients of distinct keys, and each
  // key's largest |value| in the step's examples (for --normalized; none
  // given reads as unknown).
  absl::Status Push(absl::Span<const uint64_t> keys,
                    absl::Span<const float> gradients,
                    absl::Span<const float> scales = {}) {
    return PushStep(keys, gradients, scales);
  }
  // A hint that these features' weights will be pulled soon.
  virtual void Prefetch(absl::Span<const Feature> /*features*/) {}
  // Optimizer steps the learner may take per round trip; the learner
  // announces (Prefetch) the examples of that many steps ahead.
  virtual uint32_t steps_per_round() const { return 1; }
  // Whether Push needs the keys' scales (the optimizer is --normalized).
  virtual bool wants_scales() const { return false; }
  // The name of a key the learner is about to push (--keep-names), for
  // parameters that keep names where the model lives.
  virtual void NoteName(uint64_t /*key*/, absl::string_view /*full_name*/) {}
  // Whether LearnExample works here: where the weights are a store in this
  // process (a local model, or a worker's copy of its round's keys).
  virtual bool learns_examples() const { return false; }
  // Scores `example`, whose keys must be distinct, and with `learn` takes
  // its optimizer step, finding each key once (WeightStore::LearnExample):
  // for a learner with batches of one, where learns_examples().
  virtual absl::StatusOr<WeightStore::ExampleResult> LearnExample(
      const Example& /*example*/, Loss /*loss*/, bool /*learn*/) {
    return absl::UnimplementedError("these parameters learn through Push");
  }

 protected:
  // Push, with `scales` empty or one per key.
  virtual absl::Status PushStep(absl::Span<const uint64_t> keys,
                                absl::Span<const float> gradients,
                                absl::Span<const float> scales) = 0;
};

class StoreParameters final : public Parameters {
 public:
  explicit StoreParameters(WeightStore* store) : store_(store) {}
  absl::Status Pull(absl::Span<const uint64_t> keys,
                    absl::Span<float> weights) override {
    pulled_keys_.assign(keys.begin(), keys.end());
    pulled_hints_.resize(keys.size());
    absent_ = store_->Pull(keys, weights, {}, absl::MakeSpan(pulled_hints_));
    return absl::OkStatus();
  }
  // How many keys of the last Pull the store does not hold.
  size_t absent_in_last_pull() const { return absent_; }
  bool wants_scales() const override {
    return KeepsScale(store_->optimizer().options());
  }
  void Prefetch(absl::Span<const Feature> features) override {
    for (const Feature& feature : features) store_->Prefetch(feature.key);
  }
  bool learns_examples() const override { return true; }
  absl::StatusOr<WeightStore::ExampleResult> LearnExample(
      const Example& example, Loss loss, bool learn) override {
    return store_->LearnExample(example.features, example.base, example.label,
                                example.importance, loss, learn,
                                wants_scales());
  }
  // Push, --normalized, for a worker's copy of the servers' keys: the
  // step's norm (WeightStore::StepNorm) is worked out first, from the slots
  // the pull found, and given to the store as the servers are given it.
  absl::StatusOr<double> PushWithStepNorm(absl::Span<const uint64_t> keys,
                                          absl::Span<const float> gradients,
                                          absl::Span<const float> scales) {
    FindPushedSlots(keys);
    const double norm = store_->StepNorm(keys, scales, push_hints_);
    absl::Status pushed =
        store_->Push(keys, gradients, push_hints_, scales, norm).status();
    if (!pushed.ok()) return pushed;
    return norm;
  }

 protected:
  absl::Status PushStep(absl::Span<const uint64_t> keys,
                        absl::Span<const float> gradients,
                        absl::Span<const float> scales) override {
    FindPushedSlots(keys);
    return store_->Push(keys, gradients, push_hints_, scales).status();
  }

 private:
  // A learner pushes a subsequence of the keys it just pulled, in their
  // order: each finds its slot by walking the pulled ones.
  void FindPushedSlots(absl::Span<const uint64_t> keys) {
    push_hints_.resize(keys.size());
    size_t j = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      while (j < pulled_keys_.size() && pulled_keys_[j] != keys[i]) ++j;
      push_hints_[i] = j < pulled_keys_.size() ? pulled_hints_[j++]
                                               : WeightStore::SlotHint{};
    }
    pulled_keys_.clear();
  }

  WeightStore* store_;
  // The last Pull's keys and where they were found.
  std::vector<uint64_t> pulled_keys_;
  std::vector<WeightStore::SlotHint> pulled_hints_;
  std::vector<WeightStore::SlotHint> push_hints_;
  size_t absent_ = 0;
};

}  // namespace adaline

#endif  // ADALINE_CORE_PARAMETERS_H_
