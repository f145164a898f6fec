// The continuous layer with a global symmetric kernel (flow/OdeLayer) and
// the lattice's point group (flow/LatticeSymmetry): orbits, exact
// divergence, the integrated log-determinant against the autograd Jacobian
// of the discrete RK4 map in d = 1, 2, 3 and its 4th-order convergence, the
// reverse integration, and the invariance of log q under every translation,
// rotation, reflection and the sign flip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>

#include "flow/LatticeSymmetry.hpp"
#include "flow/NormalizingFlow.hpp"
#include "flow/OdeLayer.hpp"

namespace flowlat {
namespace {

const std::vector<std::vector<int64_t>> kShapes{{8}, {4, 4}, {4, 6}, {4, 4, 4}};

torch::Tensor batch(const std::vector<int64_t>& shape, int64_t count, double scale = 1.0) {
  std::vector<int64_t> sizes{count};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  return torch::randn(sizes, torch::kFloat64) * scale;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// A float64 layer with a non-trivial kernel (it starts at zero), 4 pieces;
// strong enough that the stiffness damping holds it at the largest
// Lipschitz constant it allows (the worst case for the integration).
OdeLayer make_layer(const std::vector<int64_t>& shape, int64_t substeps, double strength = 2.0, uint64_t seed = 3) {
  double volume = 1;
  for (int64_t extent : shape) volume *= static_cast<double>(extent);
  const double scale = strength / std::sqrt(volume);
  torch::manual_seed(seed);
  OdeLayer layer(Lattice(shape), OdeLayerSize{4, substeps, 5, 4});
  layer->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : layer->named_parameters()) {
    if (p.key() == "kernel") p.value().normal_(0.0, scale);
  }
  return layer;
}

// log |det d map / dz| at one configuration from the autograd Jacobian.
template <typename Map>
double autograd_log_det(Map map, const torch::Tensor& z) {
  const torch::Tensor input = z.unsqueeze(0).clone().requires_grad_(true);
  const torch::Tensor x = map(input).flatten();
  const int64_t n = x.numel();
  torch::Tensor jacobian = torch::empty({n, n}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    jacobian[i] = torch::autograd::grad({x[i]}, {input}, {}, /*retain_graph=*/true)[0].flatten();
  }
  return std::get<1>(torch::linalg_slogdet(jacobian)).item<double>();
}

TEST(LatticeSymmetry, OrbitsOfTheSquareAndCubicLattices) {
  // 4x4: folded distances (0,0) (0,1) (0,2) (1,1) (1,2) (2,2).
  const DisplacementOrbits square = displacement_orbits({4, 4});
  EXPECT_EQ(square.count(), 6);
  EXPECT_EQ(square.index[0][0].item<int64_t>(), 0);
  EXPECT_EQ(square.index[0][1].item<int64_t>(), square.index[3][0].item<int64_t>());
  EXPECT_EQ(square.index[1][2].item<int64_t>(), square.index[2][3].item<int64_t>());
  EXPECT_NE(square.index[1][1].item<int64_t>(), square.index[0][2].item<int64_t>());
  // 4x6: axes of different extent are not exchanged: (0,1) and (1,0) differ.
  const DisplacementOrbits rectangle = displacement_orbits({4, 6});
  EXPECT_EQ(rectangle.count(), 3 * 4);
  EXPECT_NE(rectangle.index[0][1].item<int64_t>(), rectangle.index[1][0].item<int64_t>());
  // Cube 4^3: sorted triples of {0, 1, 2}: 10.
  EXPECT_EQ(displacement_orbits({4, 4, 4}).count(), 10);
  // The orbit index is invariant under the point group (8 elements in 2d).
  const torch::Tensor index = square.index.unsqueeze(0).to(torch::kFloat64);
  const auto images = point_group_images(index, {4, 4});
  EXPECT_EQ(images.size(), 8u);
  for (const auto& image : images) EXPECT_TRUE(torch::equal(image, index));
  EXPECT_EQ(point_group_images(batch({4, 4, 4}, 1), {4, 4, 4}).size(), 48u);
}

TEST(OdeLayer, DivergenceIsTheTraceOfTheVelocityJacobian) {
  for (const auto& shape : kShapes) {
    OdeLayer layer = make_layer(shape, 4, 4.0);
    const torch::Tensor phi = batch(shape, 1, 1.5);
    for (int64_t piece : {0, 1}) {
      const torch::Tensor input = phi.clone().requires_grad_(true);
      const auto [v, divergence] = layer->velocity(input, piece);
      const torch::Tensor flat = v.flatten();
      double trace = 0;
      for (int64_t i = 0; i < flat.numel(); ++i) {
        trace += torch::autograd::grad({flat[i]}, {input}, {}, true)[0].flatten()[i].item<double>();
      }
      EXPECT_NEAR(divergence.item<double>(), trace, 1e-11) << "d=" << shape.size() << " piece " << piece;
    }
  }
}

TEST(OdeLayer, IntegratedLogDeterminantConvergesToTheDiscreteMapsAtFourthOrder) {
  // The layer's log |det| is the integrated divergence; the RK4 map's own
  // Jacobian differs from it by O(h^4): compare both at 1 and 2 steps per
  // piece.
  for (const auto& shape : kShapes) {
    const torch::Tensor z = batch(shape, 1, 1.5);
    std::vector<double> errors;
    for (int64_t substeps : {1, 2}) {
      OdeLayer layer = make_layer(shape, substeps);
      const double integrated = layer->forward(z).log_det.item<double>();
      const double exact = autograd_log_det([&](const torch::Tensor& x) { return layer->forward(x).x; }, z[0]);
      errors.push_back(std::abs(integrated - exact));
      EXPECT_GT(std::abs(exact), 1e-2) << "the map is not close to volume-preserving";
    }
    const std::string what = "d=" + std::to_string(shape.size());
    std::cout << what << " log-det errors " << errors[0] << " " << errors[1] << "\n";
    EXPECT_LT(errors[1], 2e-4) << what;
    // Halving h divides an O(h^4) error by about 16 (2nd order: 4).
    EXPECT_GT(errors[0] / errors[1], 10.0) << what << ": not 4th order (" << errors[0] << ", " << errors[1] << ")";
    EXPECT_LT(errors[0] / errors[1], 64.0) << what;
  }
}

TEST(OdeLayer, ReverseIntegrationInvertsTheMapAtFourthOrder) {
  for (const auto& shape : kShapes) {
    const torch::Tensor z = batch(shape, 3, 1.5);
    std::vector<double> errors;
    for (int64_t substeps : {1, 2, 8}) {
      OdeLayer layer = make_layer(shape, substeps);
      const CouplingResult out = layer->forward(z);
      const CouplingResult back = layer->reverse(out.x);
      errors.push_back(max_abs(back.x - z));
      EXPECT_LT(max_abs(back.log_det + out.log_det), 50 * errors.back() + 1e-12);
      EXPECT_GT(max_abs(out.x - z), 1e-2) << "the layer moves the field";
    }
    std::cout << "inverse errors " << errors[0] << " " << errors[1] << " " << errors[2] << "\n";
    EXPECT_GT(errors[0] / errors[1], 10.0) << "d=" << shape.size();
    EXPECT_LT(errors[2], 1e-6) << "d=" << shape.size();
  }
}

TEST(OdeLayer, ZeroKernelIsTheIdentity) {
  torch::manual_seed(1);
  OdeLayer layer(Lattice({4, 4}), OdeLayerSize{});
  layer->to(torch::kFloat64);
  const torch::Tensor z = batch({4, 4}, 2);
  const CouplingResult out = layer->forward(z);
  EXPECT_TRUE(torch::equal(out.x, z));
  EXPECT_EQ(max_abs(out.log_det), 0.0);
}

FlowArchitecture symmetric_flow(std::vector<int64_t> shape) {
  FlowArchitecture a;
  a.lattice_shape = std::move(shape);
  a.n_layers = 0;
  a.fourier_layer = FourierLayerKind::Symmetric;
  a.fourier_mass2 = 0.8;
  a.ode_layer = OdeLayerKind::Global;
  a.ode_pieces = 3;
  a.ode_substeps = 2;
  a.ode_frequencies = 5;
  a.ode_channels = 4;
  return a;
}

NormalizingFlow make_symmetric_flow(const std::vector<int64_t>& shape) {
  torch::manual_seed(11);
  NormalizingFlow flow(symmetric_flow(shape));
  flow->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.2);
  return flow;
}

TEST(OdeLayer, LogDensityIsInvariantUnderEveryLatticeSymmetryAndTheSignFlip) {
  for (const auto& shape : kShapes) {
    NormalizingFlow flow = make_symmetric_flow(shape);
    const torch::Tensor x = flow->forward(batch(shape, 4)).x.detach();
    const torch::Tensor log_q = flow->log_q(x);
    const std::string what = "d=" + std::to_string(shape.size());
    const double tolerance = 1e-10 * (1.0 + max_abs(log_q));
    EXPECT_LT(max_abs(flow->log_q(-x) - log_q), tolerance) << what << ": sign flip";
    for (const auto& image : point_group_images(x, shape)) {
      EXPECT_LT(max_abs(flow->log_q(image) - log_q), tolerance) << what << ": rotation or reflection";
    }
    const int64_t d = static_cast<int64_t>(shape.size());
    for (int64_t mu = 0; mu < d; ++mu) {
      for (int64_t shift = 1; shift < shape[mu]; ++shift) {
        const torch::Tensor moved = torch::roll(x, {shift}, {mu + 1});
        EXPECT_LT(max_abs(flow->log_q(moved) - log_q), tolerance) << what << ": translation " << shift;
      }
    }
    // The flow is not trivially symmetric: log q differs between configurations.
    EXPECT_GT(max_abs(log_q - log_q[0]), 1e-3) << what;
  }
}

TEST(OdeLayer, StartsFromALayerTrainedOnAnotherVolumeOrbitByOrbit) {
  NormalizingFlow small = make_symmetric_flow({4, 4});
  FlowArchitecture large_architecture = symmetric_flow({8, 8});
  NormalizingFlow large(large_architecture);
  large->to(torch::kFloat64);
  large->initialise_from(*small);
  const auto mine = large->named_parameters();
  const auto theirs = small->named_parameters();
  EXPECT_TRUE(torch::equal(mine["ode.frequencies"], theirs["ode.frequencies"]));
  EXPECT_TRUE(torch::equal(mine["ode.mixing"], theirs["ode.mixing"]));
  // Orbits by key: 4x4 has (0,0) (0,1) (0,2) (1,1) (1,2) (2,2); 8x8 adds
  // those with a distance 3 or 4, which start at zero.
  const DisplacementOrbits small_orbits = displacement_orbits({4, 4});
  const DisplacementOrbits large_orbits = displacement_orbits({8, 8});
  for (int64_t k = 0; k < large_orbits.count(); ++k) {
    const auto& key = large_orbits.keys[k];
    const auto found = std::find(small_orbits.keys.begin(), small_orbits.keys.end(), key);
    const torch::Tensor row = mine["ode.kernel"].select(1, k);
    if (found == small_orbits.keys.end()) {
      EXPECT_EQ(max_abs(row), 0.0);
    } else {
      EXPECT_TRUE(torch::equal(row, theirs["ode.kernel"].select(1, found - small_orbits.keys.begin())));
    }
  }
  // Another ODE network is refused.
  FlowArchitecture other = large_architecture;
  other.ode_channels = 3;
  NormalizingFlow different(other);
  EXPECT_THROW(different->initialise_from(*small), std::runtime_error);
}

TEST(OdeLayer, StepsAreNotPartOfTheArchitectureThatMustMatch) {
  FlowArchitecture a = symmetric_flow({4, 4});
  FlowArchitecture b = a;
  b.ode_substeps = 4;
  EXPECT_EQ(a.differences(b), "");
  b.ode_frequencies = 6;
  EXPECT_NE(a.differences(b), "");
  EXPECT_EQ(FlowArchitecture::from_json(a.to_json()).to_json(), a.to_json());
  // Across volumes the lattice may differ, its dimension not (kernels and
  // spectra are d-dimensional).
  FlowArchitecture line = a;
  line.lattice_shape = {16};
  EXPECT_NE(a.differences(line, FlowArchitecture::Compare::IgnoreLattice).find("lattice dimension 1 vs 2"),
            std::string::npos);
  FlowArchitecture larger = a;
  larger.lattice_shape = {8, 8};
  EXPECT_EQ(a.differences(larger, FlowArchitecture::Compare::IgnoreLattice), "");
}

}  // namespace
}  // namespace flowlat
