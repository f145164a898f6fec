// flowlat sample stopped by SIGUSR1: exit code 3, a valid partly written
// file, and --resume completes it to the same datasets as one go.
#include <gtest/gtest.h>

#include <regex>

#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

TEST(SampleStop, Usr1LeavesAResumableFileThatCompletesExactly) {
  const std::string dir = scratch_directory("sample_stop");
  write_text(dir + "/tiny.yaml", tiny_config_yaml(dir + "/run") +
                                     "sample: {n_configs: 30000, batch_size: 16, store_configs: false}\n");
  const CommandResult trained = run_flowlat("train " + dir + "/tiny.yaml --set train.steps=5");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const CommandResult reference = run_flowlat("sample " + dir + "/tiny.yaml --output " + dir + "/reference.h5");
  ASSERT_EQ(reference.exit_code, 0) << reference.output;

  const std::string file = dir + "/stopped.h5";
  const CommandResult stopped = run_command(
      std::string(FLOWLAT_BINARY) + " sample " + dir + "/tiny.yaml --output " + file + " > " + dir +
      "/log 2>&1 & pid=$!\nwhile ! grep -q sampled " + dir + "/log; do sleep 0.02; done\n"
      "kill -USR1 $pid; wait $pid; rc=$?; cat " + dir + "/log; exit $rc");
  ASSERT_EQ(stopped.exit_code, 3) << stopped.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(stopped.output, match, std::regex("stopped by signal SIGUSR1 with ([0-9]+) of 30000")))
      << stopped.output;
  const int64_t rows = std::stoll(match[1]);
  EXPECT_GT(rows, 0);
  EXPECT_LT(rows, 30000);
  EXPECT_EQ(EnsembleReader(file).n_written(), rows);

  const CommandResult resumed = run_flowlat("sample " + dir + "/tiny.yaml --output " + file + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const EnsembleReader a(file), b(dir + "/reference.h5");
  ASSERT_EQ(a.n_written(), 30000);
  EXPECT_EQ(a.read_column(ensemble::kLogW, 0, 30000), b.read_column(ensemble::kLogW, 0, 30000));
  EXPECT_EQ(a.read_column(ensemble::kLogQ, 0, 30000), b.read_column(ensemble::kLogQ, 0, 30000));
}

}  // namespace
}  // namespace flowlat::testing
