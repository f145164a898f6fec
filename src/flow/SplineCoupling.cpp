#include "flow/SplineCoupling.hpp"

#include "flow/FusedSpline.hpp"
#include "flow/RationalQuadraticSpline.hpp"

namespace flowlat {

ChannelMirror SplineCouplingImpl::mirror(int64_t bins) {
  // -f(-x): bins in reverse order, for widths [0, K), heights [K, 2K) and
  // inner derivatives [2K, 3K - 1) alike.
  ChannelMirror m;
  auto reversed = [&](int64_t first, int64_t count) {
    for (int64_t i = 0; i < count; ++i) m.source.push_back(first + count - 1 - i);
  };
  reversed(0, bins);
  reversed(bins, bins);
  reversed(2 * bins, bins - 1);
  m.sign.assign(m.source.size(), 1.0);
  return m;
}

SplineCouplingImpl::SplineCouplingImpl(const Lattice& lattice, int parity, torch::nn::Sequential net, int64_t bins,
                                       double bound, Equivariance equivariance)
    : net_(register_module("net", net)),
      coupling_net_(lattice, parity, net, equivariance, mirror(bins)),
      bins_(bins),
      bound_(bound) {}

CouplingResult SplineCouplingImpl::apply(const torch::Tensor& x, SplineDirection direction) {
  const torch::Tensor params = coupling_net_.outputs(x, kernel_);  // [B, Va, 3K - 1]
  const torch::Tensor active = coupling_net_.active(x);
  const SplineResult out = resolve_coupling_kernel(kernel_, x.device()) == CouplingKernel::Fused
                               ? fused_rational_quadratic_spline(active, params, bins_, bound_, direction)
                               : rational_quadratic_spline(active, params, bins_, bound_, direction);
  return {coupling_net_.with_active(x, out.y), out.log_det.to(torch::kFloat64).sum(1)};
}

CouplingResult SplineCouplingImpl::forward(const torch::Tensor& x) { return apply(x, SplineDirection::Forward); }

CouplingResult SplineCouplingImpl::reverse(const torch::Tensor& fx) { return apply(fx, SplineDirection::Inverse); }

}  // namespace flowlat
