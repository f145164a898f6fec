#include "flow/CouplingStencil.hpp"

#include <stdexcept>
#include <vector>

namespace flowlat {

CouplingStencil CouplingStencil::build(const Lattice& lattice, int parity, int64_t kernel_size) {
  if (kernel_size % 2 != 1) throw std::invalid_argument("CouplingStencil: kernel size must be odd");
  const std::vector<int64_t>& shape = lattice.shape();
  const int64_t dim = lattice.dim(), half = kernel_size / 2;
  CouplingStencil stencil;
  stencil.volume = lattice.volume();
  stencil.taps = 1;
  for (int64_t d = 0; d < dim; ++d) stencil.taps *= kernel_size;

  std::vector<int64_t> table(static_cast<size_t>(stencil.volume * stencil.taps));
  std::vector<int64_t> site(dim), tap(dim);
  for (int64_t v = 0; v < stencil.volume; ++v) {
    for (int64_t d = dim - 1, rest = v; d >= 0; --d) {
      site[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (int64_t k = 0; k < stencil.taps; ++k) {
      for (int64_t d = dim - 1, rest = k; d >= 0; --d) {
        tap[d] = rest % kernel_size;
        rest /= kernel_size;
      }
      int64_t neighbour = 0;
      for (int64_t d = 0; d < dim; ++d) {
        // Circular padding: the offset may exceed the extent (kernel <= L + 1).
        const int64_t coordinate = ((site[d] + tap[d] - half) % shape[d] + shape[d]) % shape[d];
        neighbour = neighbour * shape[d] + coordinate;
      }
      table[v * stencil.taps + k] = neighbour;
    }
  }
  const auto int64 = torch::TensorOptions().dtype(torch::kInt64);
  stencil.neighbours = torch::tensor(table, int64).view({stencil.volume, stencil.taps});
  stencil.frozen = lattice.checkerboard(parity).flatten().to(torch::kUInt8).contiguous();
  stencil.active_sites = torch::nonzero(stencil.frozen == 0).flatten().contiguous();
  stencil.active_neighbours = stencil.neighbours.index_select(0, stencil.active_sites).contiguous();
  return stencil;
}

}  // namespace flowlat
