#include <gtest/gtest.h>

#include "gm/base/error.hpp"
#include "gm/cli/subcommands.hpp"
#include "gm/cli/tool.hpp"

namespace {

gm::cli::ToolInfo info() { return {"gm-test", "A test tool", "Tests.", {"gm-test -n 1"}, {"gm(7)"}}; }

int run_tool(std::vector<std::string> args, const std::function<void(const gm::Context&)>& body,
             std::int64_t* number = nullptr) {
  gm::cli::Tool tool(info());
  std::int64_t n = 0;
  tool.app().add_option("-n", n, "A number");
  std::vector<char*> argv;
  args.insert(args.begin(), "gm-test");
  for (auto& a : args) argv.push_back(a.data());
  const int code = tool.run(static_cast<int>(argv.size()), argv.data(), body);
  if (number) *number = n;
  return code;
}

TEST(Tool, ExitCodesFollowTheContract) {
  const auto ok = [](const gm::Context&) {};
  EXPECT_EQ(run_tool({"-n", "3"}, ok), 0);
  EXPECT_EQ(run_tool({"--help"}, ok), 0);
  EXPECT_EQ(run_tool({"--version"}, ok), 0);
  EXPECT_EQ(run_tool({"--no-such-option"}, ok), 2);
  EXPECT_EQ(run_tool({"-n", "three"}, ok), 2);
  EXPECT_EQ(run_tool({"--threads", "-1"}, ok), 2);
  EXPECT_EQ(run_tool({"--device", "tpu"}, ok), 2);
  EXPECT_EQ(run_tool({}, [](const gm::Context&) { gm::fail("x.h5: broken"); }), 1);
  EXPECT_EQ(run_tool({}, [](const gm::Context&) { gm::usage_fail("--k: bad"); }), 2);
  EXPECT_EQ(run_tool({}, [](const gm::Context&) { throw std::runtime_error("other"); }), 1);
}

TEST(Tool, ContextCarriesTheCommonOptions) {
  gm::Context seen;
  EXPECT_EQ(run_tool({"--seed", "99", "--threads", "1", "--device", "cpu", "-n", "4", "--quiet"},
                     [&](const gm::Context& c) { seen = c; }),
            0);
  EXPECT_EQ(seen.seed, 99u);
  EXPECT_EQ(seen.threads, 1);
  EXPECT_TRUE(seen.device.is_cpu());
  EXPECT_EQ(seen.command_line, "gm-test --seed 99 --threads 1 --device cpu -n 4 --quiet");
}

TEST(Tool, ReadsOptionsFromAConfigFile) {
  const std::string path = ::testing::TempDir() + "/gm-test.toml";
  std::ofstream(path) << "n = 12\nseed = 5\n";
  std::int64_t n = 0;
  gm::Context seen;
  EXPECT_EQ(run_tool({"--config", path}, [&](const gm::Context& c) { seen = c; }, &n), 0);
  EXPECT_EQ(n, 12);
  EXPECT_EQ(seen.seed, 5u);
}

TEST(Cli, QuotesCommandLinesForTheShell) {
  std::vector<std::string> args = {"gm-sample", "toy:grid25", "-o", "my file.h5", "it's"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_EQ(gm::cli::quote_command_line(5, argv.data()), "gm-sample toy:grid25 -o 'my file.h5' 'it'\\''s'");
}

TEST(Cli, ShardsSplitRowsExactly) {
  const auto shard = gm::cli::parse_shard("1/2");
  EXPECT_EQ(shard.begin(1000), 500);
  EXPECT_EQ(shard.end(1000), 1000);
  std::int64_t covered = 0;
  for (int k = 0; k < 7; ++k) {
    const auto s = gm::cli::parse_shard(std::to_string(k) + "/7");
    EXPECT_EQ(s.begin(1001), covered);
    covered = s.end(1001);
  }
  EXPECT_EQ(covered, 1001);
  for (const char* bad : {"2/2", "-1/2", "1", "1/0", "a/b", "1/2x"})
    EXPECT_THROW(gm::cli::parse_shard(bad), gm::UsageError) << bad;
}

TEST(Cli, VerbsRunTheChosenOneAndNameTheKnownOnes) {
  int ran = 0;
  gm::cli::Verbs verbs("model family", {{"alpha", "First", [&](CLI::App&) {
                                           return [&](const gm::Context&) { ran = 1; };
                                         }}});
  CLI::App app;
  verbs.register_on(app);
  app.parse(std::vector<std::string>{"alpha"});
  verbs.run(gm::Context{});
  EXPECT_EQ(ran, 1);
  CLI::App empty;
  gm::cli::Verbs none("model family", {});
  none.register_on(empty);
  empty.parse(std::vector<std::string>{});
  EXPECT_THROW(none.run(gm::Context{}), gm::UsageError);
}

TEST(Docs, ManPageAndCompletionsListEveryOption) {
  gm::cli::Tool tool(info());
  std::int64_t n = 0;
  tool.app().add_option("-n,--num", n, "A number");
  const std::string man = gm::cli::man_page(tool.app(), tool.info());
  EXPECT_NE(man.find(".TH GM-TEST 1"), std::string::npos);
  EXPECT_NE(man.find("\\fB\\-n\\fR, \\fB\\-\\-num\\fR"), std::string::npos);
  EXPECT_NE(man.find("\\-\\-seed"), std::string::npos);
  EXPECT_NE(gm::cli::completion_script(tool.app(), tool.info(), "bash").find("--num"), std::string::npos);
  EXPECT_NE(gm::cli::completion_script(tool.app(), tool.info(), "zsh").find("--num"), std::string::npos);
  EXPECT_NE(gm::cli::completion_script(tool.app(), tool.info(), "fish").find("-l num"), std::string::npos);
  EXPECT_THROW(gm::cli::completion_script(tool.app(), tool.info(), "tcsh"), gm::UsageError);
}

}  // namespace
