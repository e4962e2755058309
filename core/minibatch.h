// Minibatch: turns a batch of examples into one sparse optimizer step.
//
// Every example of a batch is scored with the same weights, so a batch needs
// each distinct key once: Add() collects them, the caller pulls their weights
// (from a local WeightStore or from parameter servers), Compute() scores the
// examples and sums the gradient per key. The local trainer and the
// distributed worker share this, so both learn the same way. Buffers are
// reused from batch to batch: no allocation once warm.
//
// The gradient of a batch is the mean over its learning examples of
// dloss/dmargin x value x importance, so --batch-size changes how often the
// optimizer steps, not the scale of a step.
//
// Not thread-safe: one learner thread owns a Minibatch.
#ifndef ADALINE_CORE_MINIBATCH_H_
#define ADALINE_CORE_MINIBATCH_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/example.h"
#include "core/key_index.h"
#include "core/loss.h"

namespace adaline {

class Minibatch {
 public:
  Minibatch() = default;

  void Clear();

  // Adds an example to score; with `learn` its gradient joins the step.
  void Add(const Example& example, bool learn);

  size_t size() const { return examples_.size(); }
  size_t learning_examples() const { return learning_examples_; }

  // The distinct keys of the batch, in order of first appearance.
  absl::Span<const uint64_t> keys() const { return index_.keys(); }
  // One weight per key of keys(), for the caller to fill.
  absl::Span<float> weights() { return absl::MakeSpan(weights_); }

  // Scores every example and sums the learning examples' gradient; with
  // `scales`, also finds each pushed key's largest |value| among them.
  void Compute(Loss loss, bool scales = false);

  // After Compute: example i's margin.
  float margin(size_t i) const { return examples_[i].margin; }
  float label(size_t i) const { return examples_[i].label; }
  float importance(size_t i) const { return examples_[i].importance; }
  bool learns(size_t i) const { return examples_[i].learn; }

  // After Compute: the keys whose gradient is not zero, and their gradients.
  // A zero gradient needs no push: lazy state treats it exactly as a skip.
  absl::Span<const uint64_t> push_keys() const { return push_keys_; }
  absl::Span<const float> push_gradients() const { return push_gradients_; }
  // One per push key after Compute(loss, true), else empty.
  absl::Span<const float> push_scales() const { return push_scales_; }
  // Gradients left out of pushes so far because they were not finite.
  uint64_t non_finite_gradients() const { return non_finite_gradients_; }
  // Gradients clipped to +-kMaxGradient so far (absurd values in the data).
  uint64_t clipped_gradients() const { return clipped_gradients_; }

 private:
  struct Record {
    float label;
    float importance;
    float base;  // the margin before any feature
    bool learn;
    uint32_t begin;  // into terms_
    uint32_t end;
    float margin;
  };
  struct Term {
    uint32_t index;  // into index_.keys()
    float value;
  };
  std::vector<Record> examples_;
  std::vector<Term> terms_;
  std::vector<float> weights_;
  std::vector<float> gradients_;
  std::vector<uint64_t> push_keys_;
  std::vector<float> push_gradients_;
  std::vector<float> scales_;
  std::vector<float> push_scales_;
  size_t learning_examples_ = 0;
  uint64_t non_finite_gradients_ = 0;
  uint64_t clipped_gradients_ = 0;
  KeyIndex index_;
};

}  // namespace adaline

#endif  // ADALINE_CORE_MINIBATCH_H_
