#include "flow/SineFeatures.hpp"

#include <vector>

namespace flowlat {
namespace {

// [F] -> [1, F, 1, ..., 1], broadcasting over a [B, F, L1, ..., Ld] batch.
torch::Tensor per_feature(const torch::Tensor& values, int64_t lattice_dim) {
  std::vector<int64_t> shape(static_cast<size_t>(lattice_dim + 2), 1);
  shape[1] = values.size(0);
  return values.view(shape);
}

// The dimensions summed for a per-feature gradient: batch and sites.
std::vector<int64_t> all_but_features(int64_t lattice_dim) {
  std::vector<int64_t> dims{0};
  for (int64_t k = 2; k < lattice_dim + 2; ++k) dims.push_back(k);
  return dims;
}

class SineFeaturesFunction : public torch::autograd::Function<SineFeaturesFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& phi,
                                                const torch::Tensor& omega, const torch::Tensor& slope) {
    const int64_t d = phi.dim() - 1;
    const torch::Tensor phase = phi.unsqueeze(1) * per_feature(omega, d);
    const torch::Tensor sines = torch::sin(phase);
    const torch::Tensor cosines = torch::cos(phase);
    const torch::Tensor slope_sum = (cosines * per_feature(slope, d)).sum(1);
    ctx->save_for_backward({phi, omega, slope, sines, cosines});
    return {sines, slope_sum};
  }

  // d sines_f / d phi = omega_f cos_f, d slope_sum / d phi = -sum_f slope_f omega_f sin_f,
  // d / d omega_f: the same with phi in place of omega_f, d slope_sum / d slope_f = cos_f.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& phi = saved[0];
    const torch::Tensor& omega = saved[1];
    const torch::Tensor& slope = saved[2];
    const torch::Tensor& sines = saved[3];
    const torch::Tensor& cosines = saved[4];
    const int64_t d = phi.dim() - 1;
    const std::vector<int64_t> reduce = all_but_features(d);
    // An output no loss depends on arrives undefined: it contributes nothing.
    const torch::Tensor grad_sines = grads[0].defined() ? grads[0] * cosines : torch::zeros_like(cosines);
    const torch::Tensor grad_sum =
        grads[1].defined() ? grads[1].unsqueeze(1) * sines : torch::zeros_like(sines);  // [B, F, L...]
    const torch::Tensor grad_phi = (grad_sines * per_feature(omega, d)).sum(1) -
                                   (grad_sum * per_feature(slope * omega, d)).sum(1);
    const torch::Tensor phi_per_feature = phi.unsqueeze(1);
    const torch::Tensor grad_omega =
        (grad_sines * phi_per_feature).sum(reduce) - slope * (grad_sum * phi_per_feature).sum(reduce);
    const torch::Tensor grad_slope = grads[1].defined()
                                         ? (grads[1].unsqueeze(1) * cosines).sum(reduce)
                                         : torch::zeros_like(slope);
    return {grad_phi, grad_omega, grad_slope};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> sine_features(const torch::Tensor& phi, const torch::Tensor& omega,
                                                      const torch::Tensor& slope) {
  const torch::autograd::variable_list out = SineFeaturesFunction::apply(phi, omega, slope);
  return {out[0], out[1]};
}

}  // namespace flowlat
