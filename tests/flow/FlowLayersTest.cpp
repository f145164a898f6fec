// The layers of the flow-quality work: Fourier layer, rational-quadratic
// spline couplings, Z2-equivariant couplings and the symmetrised density.
// Each is inverted to rounding and its log-Jacobian compared with the
// determinant of the autograd Jacobian, in d = 1, 2 and 3; the fused CPU
// network is compared with LibTorch's modules; Z2 is checked to rounding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "analysis/FreeFieldLogZ.hpp"
#include "flow/ConvKernels.hpp"
#include "flow/FourierLayer.hpp"
#include "flow/NormalizingFlow.hpp"
#include "flow/RationalQuadraticSpline.hpp"

namespace flowlat {
namespace {

const std::vector<std::vector<int64_t>> kShapes{{8}, {4, 6}, {4, 4, 4}};

FlowArchitecture architecture(std::vector<int64_t> shape, CouplingKind coupling, Equivariance equivariance,
                              FourierLayerKind fourier = FourierLayerKind::None,
                              Symmetrisation symmetrisation = Symmetrisation::None) {
  FlowArchitecture a;
  a.lattice_shape = std::move(shape);
  a.n_layers = 4;
  a.hidden_channels = {5, 4};
  a.coupling = {coupling};
  a.spline_bins = 6;
  a.spline_bound = 3.0;
  a.fourier_layer = fourier;
  a.fourier_mass2 = 0.7;
  a.equivariance = equivariance;
  a.symmetrisation = symmetrisation;
  return a;
}

// A float64 flow with non-trivial random parameters (the default
// initialisation plus noise; much more makes the splines so steep that a
// composition of layers amplifies rounding by orders of magnitude).
NormalizingFlow make_flow(const FlowArchitecture& a, uint64_t seed = 5) {
  torch::manual_seed(seed);
  NormalizingFlow flow(a);
  flow->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.1);
  return flow;
}

torch::Tensor batch(const std::vector<int64_t>& shape, int64_t count, double scale = 1.5) {
  std::vector<int64_t> sizes{count};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  return torch::randn(sizes, torch::kFloat64) * scale;
}

// log |det df/dz| of the whole flow at one configuration from the autograd
// Jacobian (one backward pass per output site).
double autograd_log_det(NormalizingFlow& flow, const torch::Tensor& z) {
  const torch::Tensor input = z.unsqueeze(0).clone().requires_grad_(true);
  // x = f(z) without the prior: log q = log r(z) - log J.
  const torch::Tensor x = flow->forward(input).x.flatten();
  const int64_t n = x.numel();
  torch::Tensor jacobian = torch::empty({n, n}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    const auto grad = torch::autograd::grad({x[i]}, {input}, {}, /*retain_graph=*/true)[0];
    jacobian[i] = grad.flatten();
  }
  return std::get<1>(torch::linalg_slogdet(jacobian)).item<double>();
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

struct LayerCase {
  const char* name;
  CouplingKind coupling;
  Equivariance equivariance;
  FourierLayerKind fourier;
};

const std::vector<LayerCase> kLayerCases{
    {"spline", CouplingKind::Spline, Equivariance::None, FourierLayerKind::None},
    {"spline z2", CouplingKind::Spline, Equivariance::Z2, FourierLayerKind::None},
    {"affine z2", CouplingKind::Affine, Equivariance::Z2, FourierLayerKind::None},
    {"fourier + spline z2", CouplingKind::Spline, Equivariance::Z2, FourierLayerKind::Diagonal},
    {"fourier + affine", CouplingKind::Affine, Equivariance::None, FourierLayerKind::Diagonal},
};

TEST(FlowLayers, InvertibleToRoundingWithTheAutogradLogDeterminant) {
  for (const auto& shape : kShapes) {
    for (const LayerCase& c : kLayerCases) {
      const std::string what = std::string(c.name) + " d=" + std::to_string(shape.size());
      NormalizingFlow flow = make_flow(architecture(shape, c.coupling, c.equivariance, c.fourier));
      const torch::Tensor z = batch(shape, 6);
      const FlowSample sample = flow->forward(z);
      const CouplingResult back = flow->reverse(sample.x);
      EXPECT_LT(max_abs(back.x - z), 1e-11) << what << ": reverse(forward(z)) != z";
      // log q(f(z)) through the reverse map equals the forward one.
      EXPECT_LT(max_abs(flow->log_q(sample.x) - sample.log_q), 1e-10) << what;
      // log J from the layers against the Jacobian's determinant.
      const torch::Tensor log_j = flow->prior().log_prob(z) - sample.log_q;
      for (int64_t i = 0; i < 2; ++i) {
        EXPECT_NEAR(log_j[i].item<double>(), autograd_log_det(flow, z[i]), 1e-10) << what << " sample " << i;
      }
      // The spline layers move the field: not the identity.
      EXPECT_GT(max_abs(sample.x - z), 1e-2) << what;
    }
  }
}

TEST(FlowLayers, FusedNetworkMatchesLibTorchModules) {
  for (const auto& shape : kShapes) {
    for (const LayerCase& c : kLayerCases) {
      const std::string what = std::string(c.name) + " d=" + std::to_string(shape.size());
      NormalizingFlow flow = make_flow(architecture(shape, c.coupling, c.equivariance, c.fourier));
      const torch::Tensor z = batch(shape, 5);
      std::vector<torch::Tensor> grads[2];
      torch::Tensor xs[2], lqs[2], zgrads[2];
      for (int k = 0; k < 2; ++k) {
        flow->set_coupling_kernel(k == 0 ? CouplingKernel::Fused : CouplingKernel::Reference);
        flow->zero_grad();
        const torch::Tensor input = z.clone().requires_grad_(true);
        const FlowSample s = flow->forward(input);
        torch::manual_seed(9);
        (s.x * torch::randn_like(s.x)).sum().add(s.log_q.sum()).backward();
        xs[k] = s.x.detach();
        lqs[k] = s.log_q.detach();
        zgrads[k] = input.grad().clone();
        for (const auto& p : flow->parameters()) grads[k].push_back(p.grad().clone());
      }
      // Relative to the size of each quantity (sums over sites round differently).
      auto relative = [](const torch::Tensor& a, const torch::Tensor& b) {
        return max_abs(a - b) / std::max(1.0, max_abs(b));
      };
      EXPECT_LT(relative(xs[0], xs[1]), 1e-12) << what;
      EXPECT_LT(relative(lqs[0], lqs[1]), 1e-12) << what;
      EXPECT_LT(relative(zgrads[0], zgrads[1]), 1e-11) << what;
      for (size_t i = 0; i < grads[0].size(); ++i) {
        EXPECT_LT(relative(grads[0][i], grads[1][i]), 1e-10) << what << " parameter " << i;
      }
    }
  }
}

TEST(FlowLayers, EquivariantFlowsAreOddAndTheirDensityEven) {
  for (const auto& shape : kShapes) {
    for (const LayerCase& c : kLayerCases) {
      if (c.equivariance != Equivariance::Z2) continue;
      const std::string what = std::string(c.name) + " d=" + std::to_string(shape.size());
      NormalizingFlow flow = make_flow(architecture(shape, c.coupling, c.equivariance, c.fourier));
      const torch::Tensor z = batch(shape, 6);
      const FlowSample plus = flow->forward(z);
      const FlowSample minus = flow->forward(-z);
      EXPECT_LT(max_abs(plus.x + minus.x), 1e-12) << what << ": f(-z) != -f(z)";
      EXPECT_LT(max_abs(plus.log_q - minus.log_q), 1e-12) << what;
      const torch::Tensor phi = batch(shape, 6);
      EXPECT_LT(max_abs(flow->log_q(phi) - flow->log_q(-phi)), 1e-12) << what << ": log q(phi) != log q(-phi)";
    }
  }
  // Without equivariance the density is not even: the test can fail.
  NormalizingFlow plain = make_flow(architecture({4, 6}, CouplingKind::Spline, Equivariance::None));
  const torch::Tensor phi = batch({4, 6}, 6);
  EXPECT_GT(max_abs(plain->log_q(phi) - plain->log_q(-phi)), 1e-3);
}

TEST(FlowLayers, SymmetrisedDensityIsEvenAndNormalisedAsAMixture) {
  for (const auto& shape : kShapes) {
    for (CouplingKind coupling : {CouplingKind::Affine, CouplingKind::Spline}) {
      const std::string what = std::string(to_string(coupling)) + " d=" + std::to_string(shape.size());
      const FlowArchitecture a = architecture(shape, coupling, Equivariance::None);
      FlowArchitecture symmetrised = a;
      symmetrised.symmetrisation = Symmetrisation::Z2;
      NormalizingFlow base = make_flow(a);
      NormalizingFlow flow = make_flow(symmetrised);  // same seed: same parameters
      const torch::Tensor phi = batch(shape, 6);
      const torch::Tensor log_qs = flow->log_q(phi);
      EXPECT_LT(max_abs(log_qs - flow->log_q(-phi)), 1e-12) << what;
      const torch::Tensor expected =
          torch::log(0.5 * (torch::exp(base->log_q(phi)) + torch::exp(base->log_q(-phi))));
      EXPECT_LT(max_abs(log_qs - expected), 1e-10) << what;
      // forward() reports q_s of its sample (the sign is the caller's).
      const torch::Tensor z = batch(shape, 4);
      const FlowSample s = flow->forward(z);
      EXPECT_LT(max_abs(s.log_q - flow->log_q(s.x)), 1e-10) << what;
      EXPECT_LT(max_abs(s.log_q - flow->log_q(-s.x)), 1e-10) << what;
    }
  }
}

TEST(RationalQuadraticSpline, ZeroParametersAreTheIdentityAndTailsAreLinear) {
  const int64_t bins = 5;
  const torch::Tensor x = torch::linspace(-4, 4, 81, torch::kFloat64);
  const torch::Tensor zero = torch::zeros({81, spline_parameter_count(bins)}, torch::kFloat64);
  const SplineResult identity = rational_quadratic_spline(x, zero, bins, 3.0, SplineDirection::Forward);
  EXPECT_LT(max_abs(identity.y - x), 1e-12);
  EXPECT_LT(max_abs(identity.log_det), 1e-12);
  torch::manual_seed(2);
  const torch::Tensor params = torch::randn({81, spline_parameter_count(bins)}, torch::kFloat64) * 2;
  const SplineResult out = rational_quadratic_spline(x, params, bins, 3.0, SplineDirection::Forward);
  const torch::Tensor outside = x.abs() > 3.0;
  EXPECT_TRUE(torch::equal(out.y.masked_select(outside), x.masked_select(outside)));
  // Monotone in x for fixed parameters; maps [-B, B] onto itself.
  const torch::Tensor shared = params[0].expand({81, -1});
  const torch::Tensor y = rational_quadratic_spline(x, shared, bins, 3.0, SplineDirection::Forward).y;
  EXPECT_GT((y.slice(0, 1) - y.slice(0, 0, -1)).min().item<double>(), 0.0);
  EXPECT_NEAR(rational_quadratic_spline(torch::full({1}, 3.0, torch::kFloat64), params[0].unsqueeze(0), bins, 3.0,
                                        SplineDirection::Forward)
                  .y.item<double>(),
              3.0, 1e-12);
  // The inverse undoes it, and its log-derivative is minus the forward one.
  const SplineResult back = rational_quadratic_spline(out.y, params, bins, 3.0, SplineDirection::Inverse);
  EXPECT_LT(max_abs(back.y - x), 1e-11);
  EXPECT_LT(max_abs(back.log_det + out.log_det), 1e-10);
}

TEST(FourierLayer, FreeFieldIsExactAndLogZIsTheClosedForm) {
  // lambda = 0: phi = F^-1 sigma F z with the free propagator is exact, so
  // log p - log q = log Z for every sample (README: conventions).
  for (const auto& shape : kShapes) {
    const double m2 = 0.7;
    const Lattice lattice(shape);
    FourierLayer layer(lattice, m2);
    layer->to(torch::kFloat64);
    const torch::Tensor z = batch(shape, 64, 1.0);
    const CouplingResult out = layer->forward(z);
    const torch::Tensor phi = out.x;
    // S = sum phi (2 d phi - neighbours) + m2 phi^2
    torch::Tensor action = (static_cast<double>(2 * shape.size()) + m2) * (phi * phi);
    for (int64_t d = 1; d <= static_cast<int64_t>(shape.size()); ++d) {
      action = action - phi * (torch::roll(phi, {1}, {d}) + torch::roll(phi, {-1}, {d}));
    }
    const torch::Tensor log_p = -action.flatten(1).sum(1);
    const double volume = static_cast<double>(lattice.volume());
    const torch::Tensor log_q = -0.5 * (z * z).flatten(1).sum(1) - 0.5 * volume * std::log(2 * M_PI) - out.log_det;
    const torch::Tensor log_w = log_p - log_q;
    // Closed form: log Z = (V/2) log pi - (1/2) sum_p log(phat^2 + m2).
    const double log_z = free_field_log_z(shape, m2);
    EXPECT_LT(max_abs(log_w - log_z), 1e-10) << "d=" << shape.size();
    EXPECT_LT(max_abs(layer->reverse(phi).x - z), 1e-12);
  }
}

TEST(FourierLayer, InterpolationCarriesTheSpectrumToAnotherVolume) {
  // The free spectrum of 8x8 interpolated onto 16x16 is close to the free
  // spectrum of 16x16 (it is a smooth function of phat^2).
  FourierLayer small(Lattice({8, 8}), 0.5);
  FourierLayer large(Lattice({16, 16}), 3.0);
  large->interpolate_from(*small);
  const torch::Tensor exact = FourierLayerImpl::free_log_sigma(Lattice({16, 16}), 0.5).to(torch::kFloat32);
  EXPECT_LT(max_abs(large->log_sigma() - exact), 0.05);
  // The momenta both lattices have are carried exactly.
  EXPECT_NEAR(large->log_sigma()[0][0].item<double>(), small->log_sigma()[0][0].item<double>(), 1e-6);
  EXPECT_NEAR(large->log_sigma()[8][0].item<double>(), small->log_sigma()[4][0].item<double>(), 1e-6);
}

TEST(NormalizingFlow, StartsFromAFlowTrainedOnAnotherVolume) {
  FlowArchitecture a = architecture({4, 4}, CouplingKind::Spline, Equivariance::Z2, FourierLayerKind::Diagonal);
  NormalizingFlow trained = make_flow(a);
  FlowArchitecture b = a;
  b.lattice_shape = {8, 8};
  NormalizingFlow fresh = make_flow(b, 77);
  fresh->initialise_from(*trained);
  const auto mine = fresh->named_parameters();
  const auto theirs = trained->named_parameters();
  for (const auto& item : mine) {
    if (item.key() == "fourier.log_sigma") continue;
    EXPECT_TRUE(torch::equal(item.value(), theirs[item.key()])) << item.key();
  }
  FlowArchitecture other = b;
  other.hidden_channels = {3};
  NormalizingFlow different = make_flow(other);
  EXPECT_THROW(different->initialise_from(*trained), std::runtime_error);
}

}  // namespace
}  // namespace flowlat

namespace flowlat {
namespace {

// The spline networks' padded wide outputs (3K - 1 = 23 and 15 channels,
// hidden 8 and 16) through the vector kernels of every instruction set the
// CPU has, against LibTorch's modules.
TEST(FlowLayers, WideOutputKernelsMatchLibTorchForEveryInstructionSet) {
  const std::string best = conv_kernels::instruction_set();
  for (const auto& [hidden, bins] : std::vector<std::pair<std::vector<int64_t>, int64_t>>{{{8, 8}, 8}, {{16, 16}, 5}}) {
    FlowArchitecture a = architecture({6, 8}, CouplingKind::Spline, Equivariance::Z2);
    a.hidden_channels = hidden;
    a.spline_bins = bins;
    NormalizingFlow flow = make_flow(a);
    const torch::Tensor z = batch({6, 8}, 7);
    auto run = [&](CouplingKernel kernel) {
      flow->set_coupling_kernel(kernel);
      flow->zero_grad();
      const torch::Tensor input = z.clone().requires_grad_(true);
      const FlowSample s = flow->forward(input);
      (s.x.sum() + s.log_q.sum()).backward();
      std::vector<torch::Tensor> out{s.x.detach(), s.log_q.detach(), input.grad().clone()};
      for (const auto& p : flow->parameters()) out.push_back(p.grad().clone());
      return out;
    };
    const auto reference = run(CouplingKernel::Reference);
    for (const char* set : {"generic", "avx2", "avx512"}) {
      if (!conv_kernels::use_instruction_set(set)) continue;
      const auto fused = run(CouplingKernel::Fused);
      for (size_t i = 0; i < fused.size(); ++i) {
        EXPECT_LT(max_abs(fused[i] - reference[i]) / std::max(1.0, max_abs(reference[i])), 1e-11)
            << set << " hidden " << hidden[0] << " tensor " << i;
      }
    }
    ASSERT_TRUE(conv_kernels::use_instruction_set(best.c_str()));
  }
}

}  // namespace
}  // namespace flowlat
