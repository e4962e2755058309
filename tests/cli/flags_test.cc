// The flags: one spelling normaliser, which command takes what, and their
// conversion into the libraries' options with the libraries' defaults.
#include "cli/flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace adaline {
namespace {

// Sets flags by name as the command line would; restored after each test.
class FlagsTest : public testing::Test {
 protected:
  FlagsTest() { ForgetGivenFlags(); }

  void Set(absl::string_view name, absl::string_view value) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    ASSERT_NE(flag, nullptr) << name;
    std::string error;
    ASSERT_TRUE(flag->ParseFrom(value, &error)) << name << ": " << error;
  }

 private:
  absl::FlagSaver saver_;
};

TEST_F(FlagsTest, OneSpellingForDashesAndUnderscores) {
  EXPECT_EQ(FlagName("max-bad-lines"), "max_bad_lines");
  EXPECT_EQ(FlagName("max_bad-lines"), "max_bad_lines");
  EXPECT_EQ(FlagName("lr"), "lr");
}

TEST_F(FlagsTest, CommandsRefuseFlagsTheyDoNotTake) {
  std::string a0 = "adaline", a1 = "predict", a2 = "--lr=0.5";
  char* argv[] = {a0.data(), a1.data(), a2.data()};
  absl::StatusOr<std::vector<char*>> args = CheckFlagsOf("predict", 3, argv);
  ASSERT_FALSE(args.ok());
  EXPECT_NE(args.status().message().find(
                "'adaline predict' does not take --lr. It takes: "
                "--auth-token-file --data"),
            absl::string_view::npos)
      << args.status();
  EXPECT_FALSE(CheckFlagsOf("frobnicate", 3, argv).ok());
  // A near miss is named.
  std::string typo = "--hodlout-every=10";
  char* with_typo[] = {a0.data(), a1.data(), typo.data()};
  absl::StatusOr<std::vector<char*>> misspelt =
      CheckFlagsOf("train", 3, with_typo);
  ASSERT_FALSE(misspelt.ok());
  EXPECT_NE(misspelt.status().message().find(
                "does not take --hodlout-every; did you mean --holdout-every?"),
            absl::string_view::npos)
      << misspelt.status();
}

TEST_F(FlagsTest, DashedFlagsAreRewrittenForAbseil) {
  std::string a0 = "adaline", a1 = "train", a2 = "--batch-size=8",
              a3 = "--no-bias", a4 = "--nonesterov", a5 = "--no-normalized",
              a6 = "--no-keep-names=true", a7 = "positional-arg";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(),
                  a4.data(), a5.data(), a6.data(), a7.data()};
  absl::StatusOr<std::vector<char*>> args = CheckFlagsOf("train", 8, argv);
  ASSERT_TRUE(args.ok()) << args.status();
  ASSERT_EQ(args->size(), 7u);
  EXPECT_STREQ((*args)[1], "--batch_size=8");
  EXPECT_STREQ((*args)[2], "--no_bias");  // a flag of its own
  EXPECT_STREQ((*args)[3], "--nonesterov");
  EXPECT_STREQ((*args)[4], "--nonormalized");
  EXPECT_STREQ((*args)[5], "--nokeep_names=true");
}

// CheckFlagsOf on "adaline `command` `words`...": the arguments it passes
// on, without the program's name.
absl::StatusOr<std::vector<std::string>> Check(const char* command,
                                               std::vector<std::string> words) {
  std::vector<std::string> line = {"adaline", command};
  line.insert(line.end(), words.begin(), words.end());
  std::vector<char*> argv;
  for (std::string& word : line) argv.push_back(word.data());
  absl::StatusOr<std::vector<char*>> args =
      CheckFlagsOf(command, static_cast<int>(argv.size()), argv.data());
  if (!args.ok()) return args.status();
  return std::vector<std::string>(args->begin() + 1, args->end());
}

// The arguments passed on, for a line CheckFlagsOf takes.
std::vector<std::string> Checked(const char* command,
                                 std::vector<std::string> words) {
  absl::StatusOr<std::vector<std::string>> args = Check(command, words);
  EXPECT_TRUE(args.ok()) << args.status();
  return args.ok() ? *args : std::vector<std::string>{};
}

// What CheckFlagsOf says against a line; "" if it takes it.
std::string ErrorOf(const char* command, std::vector<std::string> words) {
  absl::StatusOr<std::vector<std::string>> args = Check(command, words);
  return args.ok() ? "" : std::string(args.status().message());
}

TEST_F(FlagsTest, VowpalWabbitSpellingsMeanTheirFlagsHere) {
  EXPECT_EQ(
      Checked("train",
              {"-d", "a.vw", "-f", "m", "-l", "0.5", "--loss_function=logistic",
               "--holdout_period", "10", "-i", "old"}),
      (std::vector<std::string>{"--data", "a.vw", "--model_out", "m", "--lr",
                                "0.5", "--loss=logistic", "--holdout_every",
                                "10", "--model_in", "old"}));
  EXPECT_EQ(Checked("train", {"--ftrl", "--ftrl_alpha", "0.1", "--noconstant"}),
            (std::vector<std::string>{"--optimizer=ftrl", "--ftrl_alpha", "0.1",
                                      "--no_bias"}));
  EXPECT_EQ(Checked("predict", {"-i", "m", "-d", "b.vw", "-p", "out.txt"}),
            (std::vector<std::string>{"--model", "m", "--data", "b.vw", "--out",
                                      "out.txt"}));
  // VW's -p is predictions: generate's --out is not one.
  const std::string generate = ErrorOf("generate", {"-p", "x"});
  EXPECT_NE(generate.find("does not take -p"), std::string::npos) << generate;
}

// VW's -c keeps the cache beside the data, as FILE.cache; predict takes
// VW's test-only -t as what it does anyway.
TEST_F(FlagsTest, VowpalWabbitCacheAndTestOnlySwitches) {
  EXPECT_EQ(Checked("train", {"-d", "a.vw,b.vw", "-c", "--passes", "3"}),
            (std::vector<std::string>{"--data", "a.vw,b.vw", "--passes", "3",
                                      "--cache=a.vw.cache"}));
  EXPECT_EQ(
      Checked("train", {"-c", "--data=x.vw.gz"}),
      (std::vector<std::string>{"--data=x.vw.gz", "--cache=x.vw.gz.cache"}));
  EXPECT_EQ(Checked("train", {"-c", "--cache", "mine", "-d", "x.vw"}),
            (std::vector<std::string>{"--cache", "mine", "--data", "x.vw"}));
  const std::string no_data = ErrorOf("train", {"-c", "-d", "-"});
  EXPECT_NE(no_data.find("needs --data FILE"), std::string::npos) << no_data;
  EXPECT_EQ(Checked("predict", {"-t", "-i", "m"}),
            (std::vector<std::string>{"--model", "m"}));
  // -k: the cache is rebuilt whenever it is stale, so nothing to ask.
  EXPECT_EQ(Checked("train", {"-k", "-d", "x.vw"}),
            (std::vector<std::string>{"--data", "x.vw"}));
}

TEST_F(FlagsTest, OneDashIsTwoAndAValueMayStartWithADash) {
  EXPECT_EQ(Checked("train", {"-quiet", "--lr", "-1", "--loss", "logistic"}),
            (std::vector<std::string>{"--quiet", "--lr", "-1", "--loss",
                                      "logistic"}));
  const std::string unknown = ErrorOf("train", {"--data", "a", "-x"});
  EXPECT_NE(unknown.find("'adaline train' does not take -x."),
            std::string::npos)
      << unknown;
}

TEST_F(FlagsTest, VowpalWabbitFlagsWithoutACounterpartSayWhatToDo) {
  const std::string bits = ErrorOf("train", {"-b", "18"});
  EXPECT_NE(bits.find("does not take -b: adaline keeps each feature's own "
                      "64-bit key"),
            std::string::npos)
      << bits;
  const std::string link = ErrorOf("predict", {"--link", "logistic"});
  EXPECT_NE(link.find("predict writes probabilities for logistic loss"),
            std::string::npos)
      << link;
  const std::string readable = ErrorOf("train", {"--readable_model", "m.txt"});
  EXPECT_NE(readable.find("adaline inspect --model M --all"), std::string::npos)
      << readable;
  const std::string test_only = ErrorOf("train", {"-t"});
  EXPECT_NE(test_only.find("run adaline predict --model M"), std::string::npos)
      << test_only;
}

TEST_F(FlagsTest, EveryHyperparameterIsAFlagOfEveryModelCommand) {
  for (const char* command : {"train", "serve", "cluster"}) {
    const std::vector<std::string> flags = FlagsOf(command);
    for (const Hyperparameter& h : Hyperparameters()) {
      EXPECT_NE(std::find(flags.begin(), flags.end(), DashedFlag(h.flag)),
                flags.end())
          << command << " " << h.flag;
    }
  }
  const std::vector<std::string> predict = FlagsOf("predict");
  EXPECT_EQ(std::find(predict.begin(), predict.end(), "--lr"), predict.end());
}

TEST_F(FlagsTest, UnsetHyperparametersTakeTheOptimizersDefaults) {
  Set("optimizer", "adam");
  absl::StatusOr<ModelConfig> config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->optimizer.learning_rate, 0.001);
  EXPECT_EQ(config->optimizer.epsilon, 1e-8);
  Set("lr", "0.25");
  Set("nesterov", "true");
  config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->optimizer.learning_rate, 0.25);
  EXPECT_TRUE(config->optimizer.nesterov);
  Set("beta2", "1.5");
  EXPECT_EQ(ModelConfigFromFlags().status().message(),
            "--beta2 is 1.5; it must be in [0, 1)");
}

TEST_F(FlagsTest, TrainAndWorkShareTheLoopsRules) {
  for (const bool local : {true, false}) {
    Set("data", "some.vw");
    Set("holdout_every", "1");
    Set("batch_size", "1");
    absl::StatusOr<TrainOptions> options =
        TrainOptionsFromFlags(ModelConfig(), local);
    ASSERT_FALSE(options.ok());
    EXPECT_NE(options.status().message().find("--holdout-every 1"),
              absl::string_view::npos);
    Set("holdout_every", "10");
    Set("batch_size", "64");
    options = TrainOptionsFromFlags(ModelConfig(), local);
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->batch_size, 64u);
    EXPECT_EQ(options->holdout_every, 10u);
  }
}

// --passes 0, the default, lets the data's size choose for `train`; a
// worker, which cannot keep its best pass, makes one.
TEST_F(FlagsTest, PassesLeftAtTheDefaultAreChosenForLocalTraining) {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::string small =
      std::string(root != nullptr ? root : "/tmp") + "/small.vw";
  std::FILE* file = std::fopen(small.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("1 |a x\n0 |a y\n", file);
  std::fclose(file);
  Set("data", small);
  absl::StatusOr<TrainOptions> local =
      TrainOptionsFromFlags(ModelConfig(), /*local=*/true);
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_GT(local->passes, 1u);
  EXPECT_GT(local->early_stop, 0u);
  absl::StatusOr<TrainOptions> worker =
      TrainOptionsFromFlags(ModelConfig(), /*local=*/false);
  ASSERT_TRUE(worker.ok()) << worker.status();
  EXPECT_EQ(worker->passes, 1u);
  EXPECT_EQ(worker->early_stop, 0u);
  Set("passes", "2");
  local = TrainOptionsFromFlags(ModelConfig(), /*local=*/true);
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->passes, 2u);
  EXPECT_EQ(local->early_stop, 0u);
}

TEST_F(FlagsTest, ParsingThreadsAreADataFlag) {
  Set("data", "some.vw");
  Set("threads", "3");
  absl::StatusOr<ReaderOptions> options =
      ReaderOptionsFromFlags(ModelConfig(), /*require_label=*/true);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->threads, 3);
  Set("threads", "-1");
  options = ReaderOptionsFromFlags(ModelConfig(), /*require_label=*/true);
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("--threads"),
            absl::string_view::npos);
  for (const char* command : {"train", "predict", "work", "cluster"}) {
    const std::vector<std::string> flags = FlagsOf(command);
    EXPECT_NE(std::find(flags.begin(), flags.end(), "--threads"), flags.end())
        << command;
  }
}

TEST_F(FlagsTest, ServeOptionsCarryTheLimits) {
  Set("shard", "1/3");
  Set("max_keys", "1000");
  Set("checkpoint_every", "5");
  absl::StatusOr<ShardServerOptions> options = ShardServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->service.shard.ToString(), "1/3");
  EXPECT_EQ(options->max_keys, 1000u);
  EXPECT_EQ(options->checkpoint_every, absl::Seconds(5));
  EXPECT_EQ(options->max_message_bytes, kDefaultMaxMessageBytes);
  Set("checkpoint_every", "-1");
  EXPECT_FALSE(ShardServerOptionsFromFlags().ok());
  Set("checkpoint_every", "5");
  Set("shard", "3/3");
  EXPECT_FALSE(ShardServerOptionsFromFlags().ok());
}

TEST_F(FlagsTest, ClientOptionsCarryLimitAndPatience) {
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->channel.max_message_bytes, kDefaultMaxMessageBytes);
  EXPECT_EQ(options->retry.retry_timeout, RetryPolicy().retry_timeout);
  Set("max_message_bytes", "1024");
  Set("retry_timeout", "2.5");
  options = ClientOptionsFromFlags();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->channel.max_message_bytes, 1024);
  EXPECT_EQ(options->retry.retry_timeout, absl::Milliseconds(2500));
  Set("tls_cert", "client.pem");  // a client certificate needs --tls-ca
  EXPECT_FALSE(ClientOptionsFromFlags().ok());
}

TEST_F(FlagsTest, OnlyFlagsSetAreForwarded) {
  EXPECT_TRUE(ForwardedFlags("train", {}).empty());
  Set("lr", "0.25");
  Set("passes", "3");
  EXPECT_EQ(ForwardedFlags("train", {}),
            (std::vector<std::string>{"--lr=0.25", "--passes=3"}));
  EXPECT_EQ(ForwardedFlags("train", {"--passes"}),
            (std::vector<std::string>{"--lr=0.25"}));
}

TEST_F(FlagsTest, HelpListsFlagsWithDefaults) {
  absl::StatusOr<std::string> help = CommandHelp("train");
  ASSERT_TRUE(help.ok());
  EXPECT_NE(help->find("usage: adaline train [flags]"), std::string::npos);
  EXPECT_NE(help->find("--initial-accumulator"), std::string::npos);
  EXPECT_NE(help->find("--lr (default: 'sgd 0.1,"), std::string::npos) << *help;
  EXPECT_FALSE(CommandHelp("frobnicate").ok());
}

TEST_F(FlagsTest, HelpGroupsEveryFlagUnderAHeading) {
  for (const char* command :
       {"train", "predict", "inspect", "generate", "serve", "work", "query",
        "merge", "cluster", "race"}) {
    for (const std::string& dashed : FlagsOf(command)) {
      EXPECT_NE(FlagGroupOf(FlagName(dashed.substr(2))), "")
          << command << " " << dashed << " is under no heading";
    }
  }
  absl::StatusOr<std::string> help = CommandHelp("train");
  ASSERT_TRUE(help.ok());
  const size_t input = help->find("\ninput:\n  --data");
  const size_t model = help->find("\nmodel:\n");
  const size_t optimizer = help->find("\noptimizer (");
  const size_t output = help->find("\noutput:\n");
  ASSERT_NE(input, std::string::npos) << *help;
  EXPECT_LT(input, model);
  EXPECT_LT(model, optimizer);
  EXPECT_LT(optimizer, output);
  EXPECT_LT(help->find("--lr ("), output);
  EXPECT_GT(help->find("--model-out ("), output);
  // A command lists only its headings: inspect trains nothing.
  EXPECT_EQ(CommandHelp("inspect")->find("\ntraining:"), std::string::npos);
}

}  // namespace
}  // namespace adaline
