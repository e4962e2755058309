// Which shard owns a key, and the "I/N" spelling of a shard or a part.
#include "rpc/sharding.h"

#include "gtest/gtest.h"

namespace adaline {
namespace {

TEST(ShardingTest, EveryKeyHasExactlyOneOwner) {
  for (uint32_t count : {1u, 2u, 3u, 7u}) {
    for (uint64_t key : {0ull, 1ull, 41ull, 0xffffffffffffffffull}) {
      int owners = 0;
      for (uint32_t index = 0; index < count; ++index) {
        if (ShardSpec{index, count}.Owns(key)) {
          ++owners;
          EXPECT_EQ(ShardOf(key, count), index);
        }
      }
      EXPECT_EQ(owners, 1) << key << " of " << count;
    }
  }
}

TEST(ShardingTest, ParsesAndPrintsIOfN) {
  absl::StatusOr<ShardSpec> spec = ParseShardSpec("2/5", "shard");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->index, 2u);
  EXPECT_EQ(spec->count, 5u);
  EXPECT_EQ(spec->ToString(), "2/5");
}

TEST(ShardingTest, RefusesWhatIsNotIOfN) {
  for (const char* text : {"", "3", "5/5", "1/0", "-1/2", "a/b", "1/2/3"}) {
    absl::StatusOr<ShardSpec> spec = ParseShardSpec(text, "part");
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_NE(spec.status().message().find("--part is '"),
              absl::string_view::npos)
        << spec.status();
  }
}

}  // namespace
}  // namespace adaline
