// The node layout gathers every node-local rank's tag (device selection
// passes the GPUs each rank sees) in node-local rank order.
#include <gtest/gtest.h>

#include <string>

#include "parallel/Communicator.hpp"
#include "support/TestSupport.hpp"

namespace flowlat {
namespace {

TEST(NodeLayout, GathersEveryLocalRanksTagInOrder) {
  const Communicator world = Communicator::world();
  // Tags of different lengths, one empty: the gather must keep their bounds.
  const std::string mine = world.rank() == 1 ? "" : "gpus" + std::string(static_cast<size_t>(world.rank()), ',');
  const NodeLayout node = NodeLayout::of(world, mine);
  // The tests run on one node: node-local ranks are the world ranks.
  ASSERT_EQ(node.local_size, world.size());
  EXPECT_EQ(node.local_rank, world.rank());
  ASSERT_EQ(node.tags.size(), static_cast<size_t>(world.size()));
  for (int r = 0; r < world.size(); ++r) {
    EXPECT_EQ(node.tags[r], r == 1 ? "" : "gpus" + std::string(static_cast<size_t>(r), ',')) << "rank " << r;
  }
}

}  // namespace
}  // namespace flowlat

int main(int argc, char** argv) { return flowlat::testing::run_mpi_tests(argc, argv); }
