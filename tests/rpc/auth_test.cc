// Token files: roles, malformed lines, short tokens; and a client's token.
#include "rpc/auth.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/shard_fixture.h"
#include "tests/test_files.h"

namespace adaline {
namespace {

TEST(TokenTableTest, RefusesMalformedFiles) {
  EXPECT_NE(TokenTable::Parse("admin abcdefghijklmnopqrstuvwxyz\n", "t")
                .status()
                .message()
                .find("t:1: unknown role 'admin'"),
            absl::string_view::npos);
  EXPECT_NE(TokenTable::Parse("\ntrainer short\n", "t")
                .status()
                .message()
                .find("t:2: token is shorter than 16"),
            absl::string_view::npos);
  EXPECT_FALSE(TokenTable::Parse("trainer a b c\n", "t").ok());
  EXPECT_NE(
      TokenTable::Parse("# nothing\n", "t").status().message().find("no token"),
      absl::string_view::npos);
  absl::StatusOr<TokenTable> table = TokenTable::Parse(kTestTokens, "t");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->RoleOf("reader-token-0123456789"), Role::kReader);
  EXPECT_EQ(table->RoleOf("trainer-token-0123456789"), Role::kTrainer);
  EXPECT_FALSE(table->RoleOf("trainer-token-012345678").has_value());
}

TEST(ReadClientTokenTest, TakesTheFilesFirstLineElseTheEnvironment) {
  TemporaryDirectory dir;
  const std::string path =
      dir.Write("token", "  trainer-token-0123456789 \nsecond line\n");
  absl::StatusOr<std::string> token = ReadClientToken(path);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "trainer-token-0123456789");
  EXPECT_FALSE(ReadClientToken(dir.File("missing")).ok());
  ::setenv("ADALINE_TOKEN", "from-the-environment", 1);
  EXPECT_EQ(*ReadClientToken(""), "from-the-environment");
  ::unsetenv("ADALINE_TOKEN");
  EXPECT_EQ(*ReadClientToken(""), "");
}

}  // namespace
}  // namespace adaline
