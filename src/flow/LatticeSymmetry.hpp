#pragma once
// The point group of a periodic lattice: reflections of every axis and
// permutations of axes of equal extent (D4 on a square lattice, the 48
// symmetries of the cube on a cubic one). Used to build kernels and spectra
// that are exactly invariant under it, so that a flow made of them has a
// density invariant under every translation, rotation and reflection.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace flowlat {

// The orbits of the lattice displacements r (one per site, r = x - y mod L)
// under the point group: r and g r lie in one orbit for every g.
struct DisplacementOrbits {
  // Orbit of each displacement, int64 [L1, ..., Ld]; orbit 0 is r = 0.
  torch::Tensor index;
  // The key of each orbit: the folded distances min(|r_mu|, L_mu - |r_mu|),
  // sorted within each group of axes of equal extent. Keys do not depend on
  // the extents, so an orbit of one volume is found again in another.
  std::vector<std::vector<int64_t>> keys;
  int64_t count() const { return static_cast<int64_t>(keys.size()); }
};

// The orbits of a lattice of extents `shape`, ordered by key. Local.
DisplacementOrbits displacement_orbits(const std::vector<int64_t>& shape);

// The average of a tensor over the point group, acting on its last
// shape.size() axes as site or momentum indices (k -> -k mod L for a
// reflection; axes of equal extent swapped). The result is invariant under
// the group; a tensor already invariant is returned unchanged. Differentiable.
// Local.
torch::Tensor point_group_average(const torch::Tensor& values, const std::vector<int64_t>& shape);

// Every element g of the point group applied to configurations
// [B, L1, ..., Ld] (sites x -> g x about the origin). Local.
std::vector<torch::Tensor> point_group_images(const torch::Tensor& configurations, const std::vector<int64_t>& shape);

}  // namespace flowlat
