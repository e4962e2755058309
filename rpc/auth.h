// Who may do what on a parameter server. The server reads tokens and their
// roles from a file; clients send theirs as gRPC metadata
// ("authorization: Bearer TOKEN"). A trainer may push, pull and checkpoint;
// a reader may only pull, query and read stats. Tokens are kept as SHA-256
// digests and compared in constant time.
//
// A TokenTable is immutable once loaded: any number of threads may call
// RoleOf at once.
#ifndef ADALINE_RPC_AUTH_H_
#define ADALINE_RPC_AUTH_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaline {

enum class Role { kReader, kTrainer };

absl::string_view RoleName(Role role);

class TokenTable {
 public:
  // Shorter tokens are refused: they could be guessed.
  static constexpr size_t kMinTokenBytes = 16;

  // Reads lines "ROLE TOKEN" (ROLE is trainer or reader); blank lines and
  // lines starting with '#' are skipped.
  static absl::StatusOr<TokenTable> Load(const std::string& path);
  static absl::StatusOr<TokenTable> Parse(absl::string_view text,
                                          absl::string_view source);

  // The role of `token`, or nullopt if it is not in the table.
  std::optional<Role> RoleOf(absl::string_view token) const;
  // The role of a call's "authorization" metadata ("Bearer TOKEN"; nullopt
  // when the call has none); UNAUTHENTICATED, saying why, without a known
  // token.
  absl::StatusOr<Role> RoleOfCall(
      std::optional<absl::string_view> authorization) const;
  size_t size() const { return entries_.size(); }

 private:
  using Digest = std::array<uint8_t, 32>;
  static Digest DigestOf(absl::string_view token);

  std::vector<std::pair<Digest, Role>> entries_;
};

// A client's token: the first line of `path` if given, else the
// ADALINE_TOKEN environment variable, else empty (no token).
absl::StatusOr<std::string> ReadClientToken(const std::string& path);

}  // namespace adaline

#endif  // ADALINE_RPC_AUTH_H_
