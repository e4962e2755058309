// HasMessage(text): matches an absl::Status (or StatusOr) that failed with
// a message containing `text`, and prints the status when it does not.
#ifndef ADALINE_TESTS_STATUS_MATCHERS_H_
#define ADALINE_TESTS_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace adaline {

inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

MATCHER_P(HasMessage, text,
          "fails with a message containing '" + std::string(text) + "'") {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "the status is " << status;
  return !status.ok() &&
         std::string(status.message()).find(text) != std::string::npos;
}

}  // namespace adaline

#endif  // ADALINE_TESTS_STATUS_MATCHERS_H_
