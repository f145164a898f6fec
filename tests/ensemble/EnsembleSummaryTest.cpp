// The summary `flowlat sample` prints and stores (ESS, IMH acceptance,
// log Z with its blocked jackknife error) on an ensemble where one weight
// dominates: log_Z_error must be finite and equal the closed form (it was
// NaN: the leave-one-out sum was total - block, which cancels to 0).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "config/Config.hpp"
#include "ensemble/EnsembleSummary.hpp"
#include "ensemble/EnsembleWriter.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

TEST(EnsembleSummary, OneDominantWeightGivesAFiniteLogZError) {
  const std::string path = scratch_directory("summary_dominant") + "/ensemble.h5";
  constexpr int64_t kRows = 1000;  // 100 jackknife blocks of 10 rows
  EnsembleLayout layout;
  layout.n_configs = kRows;
  layout.lattice_shape = {2, 2};
  layout.storage = ConfigStorage::Skip;
  layout.chunk_rows = kRows;
  Config config;
  EnsembleWriter writer = EnsembleWriter::create(path, layout, config, EnsembleSource::Flow, "test",
                                                 OverwritePolicy::Force, Communicator::self());
  // log w = 0 for row 0, log(1e-25) elsewhere (log q = 0, log p = log w).
  std::vector<double> log_q(kRows, 0.0), log_p(kRows, std::log(1e-25));
  log_p[0] = 0.0;
  EnsembleRows rows;
  rows.offset = 0;
  rows.count = kRows;
  rows.log_q = log_q.data();
  rows.log_p = log_p.data();
  const std::vector<double> sums(kRows, 0.0);  // no configurations here
  rows.sum_phi2 = sums.data();
  rows.sum_phi4 = sums.data();
  writer.write_rows(rows);
  writer.commit(kRows);
  writer.close();

  const EnsembleSummary summary = summarize_ensemble(path, 7);
  // Leave-one-out means: block 0 removed, 990 rows of 1e-25; any other
  // block removed, (1 + 989e-25) / 990.
  std::vector<double> leave_one_out{std::log(1e-25)};
  for (int b = 1; b < 100; ++b) leave_one_out.push_back(std::log((1.0 + 989 * 1e-25) / 990.0));
  double mean = 0;
  for (double v : leave_one_out) mean += v / 100.0;
  double sum = 0;
  for (double v : leave_one_out) sum += (v - mean) * (v - mean);
  const double expected = std::sqrt(99.0 / 100.0 * sum);
  ASSERT_TRUE(std::isfinite(summary.log_z_error));
  EXPECT_NEAR(summary.log_z_error, expected, 1e-10 * expected);
  EXPECT_NEAR(summary.log_z, std::log((1.0 + 999 * 1e-25) / kRows), 1e-12);
  EXPECT_NEAR(summary.ess, 1.0 / kRows, 1e-12);
}

}  // namespace
}  // namespace flowlat::testing
