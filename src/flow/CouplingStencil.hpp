#pragma once
// Index tables of one coupling layer's circular convolutions: for every
// site the site under each kernel tap (the circular wrap precomputed), the
// active (updated) sites and their taps, and which sites are frozen.
// Sites are numbered row-major; taps row-major over the kernel window, in
// the order of a Conv weight's spatial axes.
#include <torch/torch.h>

#include "lattice/Lattice.hpp"

namespace flowlat {

struct CouplingStencil {
  int64_t volume = 0;
  int64_t taps = 0;               // kernel_size^d
  torch::Tensor neighbours;       // int64 [V, taps]: site at offset (tap - kernel_size/2) of each site
  torch::Tensor active_sites;     // int64 [Va]: sites updated by the layer (frozen mask 0)
  torch::Tensor active_neighbours;// int64 [Va, taps]: neighbours rows of the active sites
  torch::Tensor frozen;           // uint8 [V]: 1 on frozen sites (Lattice::checkerboard(parity))

  // Tables for `lattice`, checkerboard `parity` and an odd kernel size. Local.
  static CouplingStencil build(const Lattice& lattice, int parity, int64_t kernel_size);
};

}  // namespace flowlat
