// The rank -> GPU mapping under the layouts launchers produce, simulated
// for 4 ranks on one node: every rank must get its own physical GPU, and
// more ranks than GPUs must be refused unless sharing is allowed.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "device/GpuAssignment.hpp"

namespace flowlat {
namespace {

std::vector<GpuChoice> assign_all(const GpuLayout& layout, GpuSharing sharing = GpuSharing::Refuse) {
  std::vector<GpuChoice> out;
  for (int r = 0; r < static_cast<int>(layout.visible_sets.size()); ++r) out.push_back(assign_gpu(layout, r, sharing));
  return out;
}

std::set<std::string> physical(const std::vector<GpuChoice>& choices) {
  std::set<std::string> out;
  for (const auto& c : choices) out.insert(c.physical);
  return out;
}

std::string refusal(const GpuLayout& layout) {
  try {
    assign_all(layout);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(GpuAssignment, AllVisibleTakeTheirLocalRank) {
  const GpuLayout layout{{"*", "*", "*", "*"}, 4};
  const auto choices = assign_all(layout);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(choices[r].index, r);
    EXPECT_EQ(choices[r].ranks_on_device, 1);
  }
}

TEST(GpuAssignment, OnePerTaskTakesOrdinalZero) {
  // srun --gpus-per-task=1: each task sees only its own GPU.
  const GpuLayout layout{{"0", "1", "2", "3"}, 4};
  const auto choices = assign_all(layout);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(choices[r].index, 0);
  EXPECT_EQ(physical(choices).size(), 4u);
}

TEST(GpuAssignment, ClosestBindingWithCyclicPlacementUsesEveryGpu) {
  // Tasks 0 and 2 see GPUs 0,1; tasks 1 and 3 see 2,3. "Local rank mod
  // visible GPUs" put tasks 0 and 2 both on GPU 0 and tasks 1 and 3 on GPU 3.
  const GpuLayout layout{{"0,1", "2,3", "0,1", "2,3"}, 4};
  const auto choices = assign_all(layout);
  EXPECT_EQ(choices[0].physical, "0");
  EXPECT_EQ(choices[2].physical, "1");
  EXPECT_EQ(choices[1].physical, "2");
  EXPECT_EQ(choices[3].physical, "3");
  EXPECT_EQ(choices[2].index, 1);
  EXPECT_EQ(physical(choices).size(), 4u);
}

TEST(GpuAssignment, OversubscriptionIsRefusedUnlessAllowed) {
  const GpuLayout layout{{"*", "*", "*", "*"}, 2};
  const std::string message = refusal(layout);
  EXPECT_NE(message.find("run.gpu_sharing"), std::string::npos) << message;
  EXPECT_NE(message.find("ranks 0, 2"), std::string::npos) << message;
  const auto shared = assign_all(layout, GpuSharing::Allow);
  EXPECT_EQ(shared[2].index, 0);
  EXPECT_EQ(shared[3].index, 1);
  EXPECT_EQ(shared[0].ranks_on_device, 2);
  // Two tasks given the same single GPU by a wrapper: refused as well.
  EXPECT_NE(refusal(GpuLayout{{"3", "3", "0", "1"}, 4}).find("GPU 3"), std::string::npos);
}

TEST(GpuAssignment, RankWithoutAGpuIsNamed) {
  const std::string message = refusal(GpuLayout{{"0", "", "2", "3"}, 4});
  EXPECT_NE(message.find("rank 1 sees no GPU"), std::string::npos) << message;
  EXPECT_NE(refusal(GpuLayout{{"*", "*", "*", "*"}, 0}).find("sees no GPU"), std::string::npos);
}

}  // namespace
}  // namespace flowlat
