#include "flow/OdeLayer.hpp"

#include <cmath>
#include <map>
#include <vector>

#include "flow/SineFeatures.hpp"

namespace flowlat {

OdeLayerImpl::OdeLayerImpl(const Lattice& lattice, const OdeLayerSize& size)
    : lattice_(lattice), size_(size), orbits_(displacement_orbits(lattice.shape())) {
  for (int64_t d = 1; d <= lattice.dim(); ++d) spatial_dims_.push_back(d);
  // Not a buffer: Module::to(dtype) would turn it into floating point.
  orbit_index_ = orbits_.index.flatten().clone();
  kernel_ = register_parameter("kernel", torch::zeros({size.pieces, orbits_.count(), size.channels}));
  frequencies_ = register_parameter("frequencies", torch::rand({size.frequencies}) * 5.0);
  mixing_ = register_parameter("mixing", torch::randn({size.channels, size.frequencies + 1}));
}

torch::Tensor OdeLayerImpl::kernel_spectrum(const torch::Tensor& kernel_at_t) const {
  // [orbits, C] -> K_c(r) [C, L1, ..., Ld] -> its (real) transform.
  std::vector<int64_t> shape{size_.channels};
  shape.insert(shape.end(), lattice_.shape().begin(), lattice_.shape().end());
  if (orbit_index_.device() != kernel_at_t.device()) orbit_index_ = orbit_index_.to(kernel_at_t.device());
  const torch::Tensor full = kernel_at_t.index_select(0, orbit_index_).transpose(0, 1).reshape(shape);
  return torch::real(torch::fft::rfftn(full, c10::nullopt, spatial_dims_));
}

std::pair<torch::Tensor, torch::Tensor> OdeLayerImpl::velocity(const torch::Tensor& phi, int64_t piece) const {
  const torch::Tensor kernel_at_t = kernel_[piece];                // [orbits, C]
  const torch::Tensor kernel_hat = kernel_spectrum(kernel_at_t);  // [C, spectrum]
  const torch::Tensor mixing = mixing_ / static_cast<double>(size_.frequencies + 1);
  // v = sum_c K_c * (sum_f A_cf feature_f) = sum_f (sum_c A_cf K_c) * feature_f: the
  // channels are contracted on the kernels' spectra (parameters only), so the batch
  // is transformed feature by feature and never mixed in real space.
  std::vector<int64_t> spectrum_shape{size_.frequencies + 1};
  spectrum_shape.insert(spectrum_shape.end(), kernel_hat.sizes().begin() + 1, kernel_hat.sizes().end());
  const torch::Tensor feature_kernel =
      torch::matmul(mixing.t(), kernel_hat.flatten(1)).view(spectrum_shape);  // [1 + F, spectrum]
  // div v = sum_x sum_f a_f d/dphi feature_f(phi(x)), a = K(0, t) A.
  const torch::Tensor a = torch::matmul(kernel_at_t[0], mixing);  // [1 + F]
  const auto [sines, slope_sum] =
      sine_features(phi, frequencies_, a.narrow(0, 1, size_.frequencies) * frequencies_);
  std::vector<int64_t> feature_dims;
  for (int64_t k = 2; k < lattice_.dim() + 2; ++k) feature_dims.push_back(k);
  const torch::Tensor product =
      torch::fft::rfftn(phi, c10::nullopt, spatial_dims_) * feature_kernel[0] +
      (torch::fft::rfftn(sines, c10::nullopt, feature_dims) * feature_kernel.narrow(0, 1, size_.frequencies))
          .sum(1);
  const torch::Tensor v = torch::fft::irfftn(product, lattice_.shape(), spatial_dims_);
  const torch::Tensor divergence = slope_sum.to(torch::kFloat64).flatten(1).sum(1) +
                                   a[0].to(torch::kFloat64) * static_cast<double>(lattice_.volume());
  const torch::Tensor damping = stiffness_damping(kernel_hat, mixing);
  return {v * damping, divergence * damping.to(torch::kFloat64)};
}

torch::Tensor OdeLayerImpl::stiffness_damping(const torch::Tensor& kernel_hat, const torch::Tensor& mixing) const {
  // |Dv| <= sum_c max_p |K_c(p)| max |g_c'|, max |g_c'| <= |A_c0| + sum_f |A_cf| |omega_f|.
  const torch::Tensor slopes = torch::cat({torch::ones({1}, frequencies_.options()), frequencies_.abs()});
  const torch::Tensor largest_slope = (mixing.abs() * slopes).sum(1);             // [C]
  const torch::Tensor largest_eigenvalue = kernel_hat.abs().flatten(1).amax(1);  // [C]
  const torch::Tensor bound = (largest_eigenvalue * largest_slope).sum();
  // The piece's length, the largest step (substeps = 1): the field must not
  // depend on how finely it is integrated.
  const double step = 1.0 / static_cast<double>(size_.pieces);
  return torch::clamp_min(step * bound / kMaxStepTimesLipschitz, 1.0).reciprocal();
}

CouplingResult OdeLayerImpl::integrate(const torch::Tensor& x, int64_t substeps, int direction) const {
  // Piece n covers t in [n, n + 1] / pieces; its kernel is constant there,
  // so each piece is an autonomous flow, integrated with `substeps` steps.
  const double h = direction / static_cast<double>(size_.pieces * substeps);
  torch::Tensor phi = x;
  torch::Tensor log_det = torch::zeros({x.size(0)}, x.options().dtype(torch::kFloat64));
  for (int64_t n = 0; n < size_.pieces; ++n) {
    const int64_t piece = direction > 0 ? n : size_.pieces - 1 - n;
    for (int64_t m = 0; m < substeps; ++m) {
      const auto [k1, d1] = velocity(phi, piece);
      const auto [k2, d2] = velocity(phi + (0.5 * h) * k1, piece);
      const auto [k3, d3] = velocity(phi + (0.5 * h) * k2, piece);
      const auto [k4, d4] = velocity(phi + h * k3, piece);
      phi = phi + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
      log_det = log_det + (h / 6.0) * (d1 + 2.0 * d2 + 2.0 * d3 + d4);
    }
  }
  return {phi, log_det};
}

CouplingResult OdeLayerImpl::forward(const torch::Tensor& z) { return integrate(z, size_.substeps, +1); }

CouplingResult OdeLayerImpl::reverse(const torch::Tensor& phi) { return integrate(phi, size_.substeps, -1); }

void OdeLayerImpl::initialise_from(const OdeLayerImpl& trained) {
  torch::NoGradGuard no_grad;
  frequencies_.copy_(trained.frequencies_);
  mixing_.copy_(trained.mixing_);
  std::map<std::vector<int64_t>, int64_t> theirs;
  for (int64_t k = 0; k < trained.orbits_.count(); ++k) theirs.emplace(trained.orbits_.keys[k], k);
  const torch::Tensor source = trained.kernel_.to(kernel_.device(), kernel_.scalar_type());
  kernel_.zero_();
  for (int64_t k = 0; k < orbits_.count(); ++k) {
    const auto found = theirs.find(orbits_.keys[k]);
    if (found != theirs.end()) kernel_.select(1, k).copy_(source.select(1, found->second));
  }
}

}  // namespace flowlat
