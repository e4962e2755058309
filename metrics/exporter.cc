#include "metrics/exporter.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace adaline {

absl::StatusOr<std::unique_ptr<MetricsExporter>> MetricsExporter::Start(
    const std::string& address) {
  if (address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen ", address, " is not HOST:PORT (e.g. 0.0.0.0:9100)"));
  }
  // prometheus-cpp reports a port it cannot bind by throwing; nothing else
  // in adaline throws, so the exception stops here.
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, /*threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  const int port = ports.empty() ? 0 : ports.front();
  return std::unique_ptr<MetricsExporter>(
      new MetricsExporter(std::move(exposer), port));
}

void MetricsExporter::Register(
    std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  kept_.push_back(std::move(collectable));
}

}  // namespace adaline
