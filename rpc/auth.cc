#include "rpc/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace adaline {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::string text;
  char buffer[4096];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, read);
    if (text.size() > (1 << 20)) {
      std::fclose(file);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than 1 MiB"));
    }
  }
  std::fclose(file);
  return text;
}

}  // namespace

absl::string_view RoleName(Role role) {
  return role == Role::kTrainer ? "trainer" : "reader";
}

TokenTable::Digest TokenTable::DigestOf(absl::string_view token) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest.data());
  return digest;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text,
                                             absl::string_view source) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat(source, ":", line_number, ": ");
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "expected 'trainer TOKEN' or 'reader TOKEN'"));
    }
    Role role;
    if (fields[0] == "trainer") {
      role = Role::kTrainer;
    } else if (fields[0] == "reader") {
      role = Role::kReader;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "unknown role '", fields[0],
                       "'; roles are trainer and reader"));
    }
    if (fields[1].size() < kMinTokenBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "token is shorter than ", kMinTokenBytes, " characters"));
    }
    table.entries_.emplace_back(DigestOf(fields[1]), role);
  }
  if (table.entries_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " holds no token"));
  }
  return table;
}

absl::StatusOr<Role> TokenTable::RoleOfCall(
    std::optional<absl::string_view> authorization) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "no token: send metadata 'authorization: Bearer TOKEN'");
  }
  absl::string_view token = *authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ")) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not 'Bearer TOKEN'");
  }
  const std::optional<Role> role = RoleOf(token);
  if (!role.has_value()) return absl::UnauthenticatedError("unknown token");
  return *role;
}

std::optional<Role> TokenTable::RoleOf(absl::string_view token) const {
  const Digest digest = DigestOf(token);
  std::optional<Role> found;
  // Every entry is compared, so the time does not tell which one matched.
  for (const auto& [known, role] : entries_) {
    if (CRYPTO_memcmp(known.data(), digest.data(), digest.size()) == 0) {
      found = role;
    }
  }
  return found;
}

absl::StatusOr<std::string> ReadClientToken(const std::string& path) {
  if (!path.empty()) {
    absl::StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) return text.status();
    absl::string_view first = *text;
    first = first.substr(0, first.find('\n'));
    return std::string(absl::StripAsciiWhitespace(first));
  }
  const char* from_environment = std::getenv("ADALINE_TOKEN");
  return std::string(from_environment != nullptr ? from_environment : "");
}

}  // namespace adaline
