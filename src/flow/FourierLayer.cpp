#include "flow/FourierLayer.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "flow/LatticeSymmetry.hpp"

namespace flowlat {
namespace {

// phat^2 = sum_mu (2 - 2 cos p_mu) on the lattice's momenta, float64 [L1, ..., Ld].
torch::Tensor momentum_squared(const Lattice& lattice) {
  torch::Tensor total = torch::zeros(lattice.shape(), torch::kFloat64);
  for (int64_t d = 0; d < lattice.dim(); ++d) {
    const int64_t extent = lattice.shape()[d];
    std::vector<int64_t> view(lattice.dim(), 1);
    view[d] = extent;
    const torch::Tensor p = torch::arange(extent, torch::kFloat64) * (2.0 * M_PI / static_cast<double>(extent));
    total = total + (2.0 - 2.0 * torch::cos(p)).view(view);
  }
  return total;
}

std::vector<int64_t> lattice_dims(int64_t dim) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d <= dim; ++d) dims.push_back(d);
  return dims;
}

}  // namespace

FourierLayerImpl::FourierLayerImpl(const Lattice& lattice, double mass2, FourierLayerKind kind)
    : lattice_(lattice), kind_(kind) {
  log_sigma_ = register_parameter("log_sigma", free_log_sigma(lattice, mass2));
}

torch::Tensor FourierLayerImpl::free_log_sigma(const Lattice& lattice, double mass2) {
  return -0.5 * torch::log(2.0 * (momentum_squared(lattice) + mass2));
}

torch::Tensor FourierLayerImpl::log_sigma() const {
  // The point group contains p -> -p, so its average is even as well.
  if (kind_ == FourierLayerKind::Symmetric) return point_group_average(log_sigma_, lattice_.shape());
  // a(-p): the momentum index -k mod L on every axis.
  std::vector<int64_t> axes, ones;
  for (int64_t d = 0; d < lattice_.dim(); ++d) {
    axes.push_back(d);
    ones.push_back(1);
  }
  return 0.5 * (log_sigma_ + torch::roll(torch::flip(log_sigma_, axes), ones, axes));
}

CouplingResult FourierLayerImpl::apply(const torch::Tensor& x, double sign) {
  const std::vector<int64_t> dims = lattice_dims(lattice_.dim());
  const torch::Tensor a = log_sigma();
  // The half spectrum of the real transform: the last axis up to L/2.
  const int64_t last = lattice_.shape().back();
  const torch::Tensor half = a.narrow(-1, 0, last / 2 + 1);
  const torch::Tensor spectrum = torch::fft::rfftn(x, c10::nullopt, dims, "ortho");
  const torch::Tensor scaled = spectrum * torch::exp(sign * half).to(x.dtype());
  const torch::Tensor y = torch::fft::irfftn(scaled, lattice_.shape(), dims, "ortho");
  const torch::Tensor log_det = (sign * a.to(torch::kFloat64).sum()).expand({x.size(0)});
  return {y, log_det};
}

CouplingResult FourierLayerImpl::forward(const torch::Tensor& z) { return apply(z, 1.0); }

CouplingResult FourierLayerImpl::reverse(const torch::Tensor& phi) { return apply(phi, -1.0); }

void FourierLayerImpl::interpolate_from(const FourierLayerImpl& trained) {
  // Mean log sigma at each distinct phat^2 of the trained lattice.
  const torch::Tensor p2 = momentum_squared(trained.lattice_).flatten();
  const torch::Tensor a = trained.log_sigma().detach().to(torch::kCPU, torch::kFloat64).flatten();
  std::map<double, std::pair<double, int>> by_p2;
  for (int64_t i = 0; i < p2.numel(); ++i) {
    const double key = std::round(p2[i].item<double>() * 1e9) / 1e9;
    auto& [sum, count] = by_p2[key];
    sum += a[i].item<double>();
    ++count;
  }
  std::vector<double> xs, ys;
  for (const auto& [key, entry] : by_p2) {
    xs.push_back(key);
    ys.push_back(entry.first / entry.second);
  }
  const torch::Tensor target = momentum_squared(lattice_).flatten();
  torch::Tensor values = torch::empty_like(target);
  for (int64_t i = 0; i < target.numel(); ++i) {
    const double q = target[i].item<double>();
    const auto upper = std::upper_bound(xs.begin(), xs.end(), q);
    double value;
    if (upper == xs.begin()) {
      value = ys.front();
    } else if (upper == xs.end()) {
      value = ys.back();
    } else {
      const size_t k = static_cast<size_t>(upper - xs.begin());
      const double t = (q - xs[k - 1]) / (xs[k] - xs[k - 1]);
      value = (1 - t) * ys[k - 1] + t * ys[k];
    }
    values[i] = value;
  }
  torch::NoGradGuard no_grad;
  log_sigma_.copy_(values.view(lattice_.shape()).to(log_sigma_.options()));
}

}  // namespace flowlat
