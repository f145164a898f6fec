// Invertibility, log-Jacobians against autograd, and model files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "flow/NormalizingFlow.hpp"
#include "support/TestSupport.hpp"

namespace flowlat {
namespace {

FlowArchitecture small_architecture(std::vector<int64_t> shape, int64_t layers = 4) {
  return {std::move(shape), layers, {4, 4}, 3, true};
}

NormalizingFlow make_flow(const FlowArchitecture& architecture, uint64_t seed = 11) {
  torch::manual_seed(seed);
  NormalizingFlow flow(architecture);
  flow->to(torch::kFloat64);
  // Default init gives s close to 0; make the maps clearly non-trivial.
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.mul_(3.0);
  return flow;
}

TEST(AffineCoupling, ReverseUndoesForwardAndLogJacobiansCancel) {
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{8}, {4, 6}, {4, 4, 4}}) {
    NormalizingFlow flow = make_flow(small_architecture(shape));
    std::vector<int64_t> batch{5};
    batch.insert(batch.end(), shape.begin(), shape.end());
    const torch::Tensor z = torch::randn(batch, torch::kFloat64);
    const FlowSample sample = flow->forward(z);
    const CouplingResult back = flow->reverse(sample.x);
    EXPECT_LT((back.x - z).abs().max().item<double>(), 1e-12) << shape.size() << "d";
    // log q(x) through the reverse map equals log q from the forward pass.
    EXPECT_LT((flow->log_q(sample.x) - sample.log_q).abs().max().item<double>(), 1e-10);
    // sum log J_forward + sum log J_reverse = 0.
    const torch::Tensor forward_log_det = flow->prior().log_prob(z) - sample.log_q;
    EXPECT_LT((forward_log_det + back.log_det).abs().max().item<double>(), 1e-10);
  }
}

// log q = log r(z) - log|det df/dz| with the full Jacobian from autograd.
TEST(NormalizingFlow, LogDensityMatchesAutogradJacobian) {
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{6}, {4, 4}, {2, 2, 4}}) {
    NormalizingFlow flow = make_flow(small_architecture(shape, 6));
    std::vector<int64_t> batch{1};
    batch.insert(batch.end(), shape.begin(), shape.end());
    const torch::Tensor z = torch::randn(batch, torch::kFloat64).requires_grad_(true);
    const FlowSample sample = flow->forward(z);
    const torch::Tensor x = sample.x.flatten();
    const int64_t v = x.numel();
    torch::Tensor jacobian = torch::zeros({v, v}, torch::kFloat64);
    for (int64_t i = 0; i < v; ++i) {
      const auto grad = torch::autograd::grad({x[i]}, {z}, {}, /*retain_graph=*/true)[0];
      jacobian[i] = grad.flatten();
    }
    const auto [sign, log_abs_det] = torch::linalg_slogdet(jacobian);
    const double expected = flow->prior().log_prob(z.detach()).item<double>() - log_abs_det.item<double>();
    EXPECT_NEAR(sample.log_q.item<double>(), expected, 1e-9) << shape.size() << "d";
    EXPECT_GT(sign.item<double>(), 0.0);  // affine couplings preserve orientation
  }
}

TEST(NormalizingFlow, Float32NetworkStillReducesLogDensitiesInFloat64) {
  torch::manual_seed(5);
  NormalizingFlow flow(small_architecture({4, 4}));
  const FlowSample sample = flow->forward(torch::randn({3, 4, 4}));
  EXPECT_EQ(sample.x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(sample.log_q.scalar_type(), torch::kFloat64);
}

TEST(NormalizingFlow, SavedModelLoadsOnlyIntoItsArchitecture) {
  const std::string path = testing::scratch_directory("flow_model") + "/model.pt";
  NormalizingFlow flow = make_flow(small_architecture({4, 4}));
  flow->save_to(path);

  NormalizingFlow same = make_flow(small_architecture({4, 4}), /*seed=*/99);
  same->load_from(path);
  same->to(torch::kFloat64);
  const torch::Tensor z = torch::randn({2, 4, 4}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(same->forward(z).x, flow->forward(z).x));

  // A float32 run loads the same file (files hold float64).
  NormalizingFlow single(small_architecture({4, 4}));
  single->load_from(path);
  single->to(torch::kFloat32);
  const torch::Tensor x32 = single->forward(z.to(torch::kFloat32)).x.to(torch::kFloat64);
  EXPECT_LT((x32 - flow->forward(z).x).abs().max().item<double>(), 1e-4);

  NormalizingFlow other_lattice(small_architecture({6, 6}));
  try {
    other_lattice->load_from(path);
    FAIL() << "loading into a different lattice must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("lattice_shape [4,4] vs [6,6]"), std::string::npos) << e.what();
  }
  NormalizingFlow other_depth(small_architecture({4, 4}, 6));
  EXPECT_THROW(other_depth->load_from(path), std::runtime_error);
  EXPECT_THROW(same->load_from("does-not-exist.pt"), std::runtime_error);
  std::filesystem::remove(path);
}

// A model file whose weights were changed after saving (everything else,
// the recorded checksum included, copied) is refused by name; so is a file
// that is not a model.
TEST(NormalizingFlow, AlteredOrDamagedModelFileIsRefusedByName) {
  const std::string dir = testing::scratch_directory("flow_model_integrity");
  NormalizingFlow flow = make_flow(small_architecture({4, 4}));
  flow->save_to(dir + "/model.pt");

  torch::serialize::InputArchive original;
  original.load_from(dir + "/model.pt");
  torch::serialize::OutputArchive altered;
  {
    torch::NoGradGuard no_grad;
    flow->parameters().front().view(-1)[0] += 1e-3;
  }
  flow->save(altered);
  for (const char* key : {"flowlat_dtype", "flowlat_architecture", "flowlat_parameters_checksum"}) {
    c10::IValue value;
    ASSERT_TRUE(original.try_read(key, value)) << key;
    altered.write(key, value);
  }
  altered.save_to(dir + "/altered.pt");
  NormalizingFlow loaded(small_architecture({4, 4}));
  try {
    loaded->load_from(dir + "/altered.pt");
    FAIL() << "altered weights must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/altered.pt: the parameters do not match the checksum recorded"),
              std::string::npos)
        << e.what();
  }
  testing::write_text(dir + "/garbage.pt", "not a model");
  try {
    loaded->load_from(dir + "/garbage.pt");
    FAIL() << "a file that is not a model must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/garbage.pt: not a readable flowlat model file"), std::string::npos)
        << e.what();
  }
}

TEST(GaussianPrior, KeyedStreamsAreReproducibleAndDistinct) {
  const GaussianPrior prior(Lattice({4, 4}));
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const uint64_t a = stream_key(1234, StreamPurpose::Training, 3, 17);
  const uint64_t b = stream_key(1234, StreamPurpose::Training, 3, 18);
  EXPECT_NE(a, b);
  EXPECT_NE(a, stream_key(1234, StreamPurpose::Sampling, 3, 17));
  const torch::Tensor together = prior.draw({a, b}, options);
  EXPECT_TRUE(torch::equal(together[1], prior.draw({b}, options)[0]));
  EXPECT_FALSE(torch::equal(together[0], together[1]));
  // log r(0) = -V/2 log(2 pi)
  EXPECT_NEAR(prior.log_prob(torch::zeros({1, 4, 4})).item<double>(), -8.0 * std::log(2.0 * M_PI), 1e-12);
}

}  // namespace
}  // namespace flowlat
