#include "core/minibatch.h"

#include <algorithm>
#include <cmath>

namespace adaline {
void Minibatch::Clear() {
  examples_.clear();
  terms_.clear();
  index_.Clear();
  learning_examples_ = 0;
}

void Minibatch::Add(const Example& example, bool learn) {
  Record record;
  record.label = example.label;
  record.importance = example.importance;
  record.base = example.base;
  record.learn = learn;
  record.begin = static_cast<uint32_t>(terms_.size());
  if (examples_.empty() && example.distinct_keys) {
    // A batch's first example with distinct keys: they are numbered in
    // order, with no lookups (the usual batch of one).
    index_.AppendDistinct(example.features);
    for (uint32_t i = 0; i < example.features.size(); ++i) {
      Term& term = terms_.emplace_back();
      term.index = i;
      term.value = example.features[i].value;
    }
  } else {
    for (const Feature& feature : example.features) {
      // Field by field: a Term built on the stack and copied whole stalls on
      // store forwarding.
      Term& term = terms_.emplace_back();
      term.index = index_.IndexOf(feature.key);
      term.value = feature.value;
    }
  }
  record.end = static_cast<uint32_t>(terms_.size());
  record.margin = 0;
  examples_.push_back(record);
  if (learn) ++learning_examples_;
  weights_.resize(index_.keys().size());
}

void Minibatch::Compute(Loss loss, bool scales) {
  const std::vector<uint64_t>& keys = index_.keys();
  gradients_.assign(keys.size(), 0.0f);
  if (scales) scales_.assign(keys.size(), 0.0f);
  const float scale = learning_examples_ > 0
                          ? 1.0f / static_cast<float>(learning_examples_)
                          : 0;
  for (Record& record : examples_) {
    float margin = record.base;
    for (uint32_t t = record.begin; t < record.end; ++t) {
      margin += weights_[terms_[t].index] * terms_[t].value;
    }
    record.margin = margin;
    if (!record.learn) continue;
    const float derivative =
        LossDerivative(loss, margin, record.label) * record.importance * scale;
    if (derivative == 0) continue;
    for (uint32_t t = record.begin; t < record.end; ++t) {
      gradients_[terms_[t].index] += derivative * terms_[t].value;
    }
    if (!scales) continue;
    for (uint32_t t = record.begin; t < record.end; ++t) {
      float& largest = scales_[terms_[t].index];
      largest = std::max(largest, std::abs(terms_[t].value));
    }
  }
  push_keys_.clear();
  push_gradients_.clear();
  push_scales_.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (gradients_[i] == 0) continue;
    // Absurd values in the data (1e30 labels, 3e38 features) can overflow;
    // such a coordinate sits this step out instead of stopping training.
    if (!std::isfinite(gradients_[i])) {
      ++non_finite_gradients_;
      continue;
    }
    if (std::abs(gradients_[i]) > kMaxGradient) {
      gradients_[i] = std::copysign(kMaxGradient, gradients_[i]);
      ++clipped_gradients_;
    }
    push_keys_.push_back(keys[i]);
    push_gradients_.push_back(gradients_[i]);
    if (scales) push_scales_.push_back(scales_[i]);
  }
}

}  // namespace adaline
