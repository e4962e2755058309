#include "data/synthetic.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace adaline {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s.
class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      total += 1 / std::pow(static_cast<double>(i + 1), s);
      cdf_[i] = total;
    }
    for (double& c : cdf_) c /= total;
  }
  size_t operator()(std::mt19937_64& random) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(random);
    return static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) -
                               cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

// Rare features whose weight decides the rating when they fire.
struct RareFeature {
  const char* full_name;
  double rate;
  double weight;
};
constexpr RareFeature kRareFeatures[] = {
    {"movie^is_director_nolan", 0.004, 2.5},
    {"movie^is_sequel", 0.03, -0.8},
    {"movie^won_oscar", 0.01, 1.5},
};

constexpr double kBiasWeight = -0.7;

// Weight scale per namespace: ids carry some signal, broad categories more.
double Scale(absl::string_view full_name) {
  if (absl::StartsWith(full_name, "user^id_")) return 0.4;
  if (absl::StartsWith(full_name, "movie^id_")) return 0.5;
  if (absl::StartsWith(full_name, "title^")) return 0.15;
  if (absl::StartsWith(full_name, "cross^")) return 0.3;
  return 0.4;
}

}  // namespace

double TrueWeight(absl::string_view full_name) {
  for (const RareFeature& rare : kRareFeatures) {
    if (full_name == rare.full_name) return rare.weight;
  }
  if (full_name == "^__bias__") return kBiasWeight;
  // A Gaussian from two uniforms that depend only on the name.
  const uint64_t h1 =
      XXH3_64bits_withSeed(full_name.data(), full_name.size(), 11);
  const uint64_t h2 =
      XXH3_64bits_withSeed(full_name.data(), full_name.size(), 12);
  const double u1 = (static_cast<double>(h1 >> 11) + 0.5) * 0x1p-53;
  const double u2 = static_cast<double>(h2 >> 11) * 0x1p-53;
  return Scale(full_name) * std::sqrt(-2 * std::log(u1)) *
         std::cos(2 * kPi * u2);
}

absl::StatusOr<SyntheticSummary> WriteSyntheticRatings(
    const SyntheticOptions& options, std::FILE* out) {
  std::mt19937_64 random(options.seed);
  const Zipf users(200000, 1.05), movies(50000, 1.1), words(100000, 1.0),
      countries(60, 1.2), directors(5000, 1.1), studios(300, 1.1);
  std::uniform_int_distribution<int> genre(0, 19), age(0, 6), year(0, 9),
      hour(0, 23), weekday(0, 6), device(0, 3);
  std::uniform_real_distribution<double> unit(0, 1);

  SyntheticSummary summary;
  std::string line, names_line;
  // Namespaces and their features of one row, as (namespace, name).
  std::vector<std::pair<const char*, std::string>> features;
  for (uint64_t row = 0; row < options.rows; ++row) {
    features.clear();
    const int age_bucket = age(random), genre1 = genre(random),
              genre2 = genre(random), the_hour = hour(random),
              the_device = device(random);
    const size_t country = countries(random);
    features.emplace_back("user", absl::StrCat("id_", users(random)));
    features.emplace_back("user", absl::StrCat("age_", age_bucket));
    features.emplace_back("user", absl::StrCat("country_", country));
    features.emplace_back("movie", absl::StrCat("id_", movies(random)));
    features.emplace_back("movie", absl::StrCat("genre_", genre1));
    features.emplace_back("movie", absl::StrCat("genre_", genre2));
    features.emplace_back("movie", absl::StrCat("decade_", year(random)));
    features.emplace_back("movie",
                          absl::StrCat("director_", directors(random)));
    features.emplace_back("movie", absl::StrCat("studio_", studios(random)));
    for (const RareFeature& rare : kRareFeatures) {
      if (unit(random) < rare.rate) {
        absl::string_view name = rare.full_name;
        features.emplace_back("movie",
                              std::string(name.substr(name.find('^') + 1)));
      }
    }
    features.emplace_back("context", absl::StrCat("hour_", the_hour));
    features.emplace_back("context", absl::StrCat("weekday_", weekday(random)));
    features.emplace_back("context", absl::StrCat("device_", the_device));
    features.emplace_back("cross",
                          absl::StrCat("country_genre_", country, "_", genre1));
    features.emplace_back("cross",
                          absl::StrCat("age_genre_", age_bucket, "_", genre1));
    features.emplace_back(
        "cross", absl::StrCat("device_hour_", the_device, "_", the_hour));
    for (int w = 0; w < 5; ++w) {
      features.emplace_back("title", absl::StrCat("w", words(random)));
    }

    double margin = kBiasWeight;
    for (const auto& [name_space, name] : features) {
      margin += TrueWeight(absl::StrCat(name_space, "^", name));
    }
    const double probability = 1 / (1 + std::exp(-margin));
    const bool positive = unit(random) < probability;
    summary.true_log_loss +=
        -std::log(positive ? probability : 1 - probability);
    summary.positives += positive;
    summary.features += features.size() + 1;

    line.assign(positive ? "1 |" : "-1 |");
    const char* current = nullptr;
    for (const auto& [name_space, name] : features) {
      if (name_space != current) {
        if (current != nullptr) line.append(" |");
        line.append(name_space);
        current = name_space;
      }
      line.push_back(' ');
      line.append(name);
    }
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      return absl::InternalError("cannot write the generated data");
    }
  }
  summary.rows = options.rows;
  if (summary.rows > 0)
    summary.true_log_loss /= static_cast<double>(summary.rows);
  return summary;
}

}  // namespace adaline
