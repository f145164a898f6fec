#include <gtest/gtest.h>

#include "lattice/Lattice.hpp"

namespace flowlat {
namespace {

// The tutorial's make_checker_mask for 8x8: checker = 1 - parity, then
// [::2, ::2] = parity and [1::2, 1::2] = parity.
TEST(Lattice, CheckerboardMatchesTutorialIn2d) {
  const Lattice lattice({8, 8});
  for (int parity : {0, 1}) {
    torch::Tensor expected = torch::ones({8, 8}) - parity;
    expected.slice(0, 0, 8, 2).slice(1, 0, 8, 2).fill_(parity);
    expected.slice(0, 1, 8, 2).slice(1, 1, 8, 2).fill_(parity);
    EXPECT_TRUE(torch::equal(lattice.checkerboard(parity), expected)) << "parity " << parity;
  }
}

TEST(Lattice, CheckerboardsPartitionTheLatticeInEveryDimension) {
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{6}, {4, 6}, {2, 4, 6}}) {
    const Lattice lattice(shape);
    const torch::Tensor even = lattice.checkerboard(0);
    const torch::Tensor odd = lattice.checkerboard(1);
    EXPECT_TRUE(torch::equal(even + odd, torch::ones(shape)));
    EXPECT_EQ(even.sum().item<double>(), lattice.volume() / 2.0);
    // Nearest neighbours always have opposite parity.
    for (int64_t axis = 0; axis < lattice.dim(); ++axis) {
      EXPECT_TRUE(torch::equal(torch::roll(even, {1}, {axis}), odd));
    }
  }
}

TEST(Lattice, RejectsOddExtentsAndBadDimensions) {
  EXPECT_THROW(Lattice({5, 4}), std::invalid_argument);
  EXPECT_THROW(Lattice({}), std::invalid_argument);
  EXPECT_THROW(Lattice({2, 2, 2, 2}), std::invalid_argument);
  EXPECT_EQ(Lattice({4, 6, 2}).volume(), 48);
}

}  // namespace
}  // namespace flowlat
