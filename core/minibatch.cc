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
  // Sized for every key and trimmed after: the loop then writes through
  // plain pointers instead of three push_backs per key.
  push_keys_.resize(keys.size());
  push_gradients_.resize(keys.size());
  push_scales_.resize(scales ? keys.size() : 0);
  uint64_t* const push_keys = push_keys_.data();
  float* const push_gradients = push_gradients_.data();
  float* const push_scales = push_scales_.data();
  const float* const gradients = gradients_.data();
  size_t pushed = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    float gradient = gradients[i];
    if (gradient == 0) continue;
    // Absurd values in the data (1e30 labels, 3e38 features) can overflow;
    // such a coordinate sits this step out instead of stopping training.
    const GradientCheck check = CheckGradient(gradient);
    if (check == GradientCheck::kNotFinite) {
      ++non_finite_gradients_;
      continue;
    }
    if (check == GradientCheck::kClipped) ++clipped_gradients_;
    push_keys[pushed] = keys[i];
    push_gradients[pushed] = gradient;
    if (scales) push_scales[pushed] = scales_[i];
    ++pushed;
  }
  push_keys_.resize(pushed);
  push_gradients_.resize(pushed);
  push_scales_.resize(scales ? pushed : 0);
}

}  // namespace adaline
