// The fused CPU coupling kernel against LibTorch's modules: same outputs,
// log-Jacobians and gradients (parameters and inputs), both directions,
// 1d/2d/3d, kernel sizes 3 and 5, float64 and float32; and its index tables.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "flow/ConvKernels.hpp"
#include "flow/CouplingStencil.hpp"
#include "flow/NormalizingFlow.hpp"
#include "lattice/Lattice.hpp"

namespace flowlat {
namespace {

struct Case {
  std::vector<int64_t> shape;
  std::vector<int64_t> hidden;
  int64_t kernel;
  bool tanh;
};

NormalizingFlow make_flow(const Case& c, torch::Dtype dtype) {
  torch::manual_seed(3);
  FlowArchitecture architecture;
  architecture.lattice_shape = c.shape;
  architecture.n_layers = 4;
  architecture.hidden_channels = c.hidden;
  architecture.kernel_size = c.kernel;
  architecture.final_tanh = c.tanh;
  NormalizingFlow flow(architecture);
  flow->to(dtype);
  torch::NoGradGuard no_grad;
  // Clearly non-trivial maps; without the final tanh exp(s) must stay finite.
  for (auto& p : flow->parameters()) p.mul_(c.tanh ? 3.0 : 0.5);
  return flow;
}

struct Evaluation {
  torch::Tensor y, log_det, input_grad;
  std::vector<torch::Tensor> param_grads;
};

// A scalar that depends on every output (random weights), and its gradients.
Evaluation evaluate(NormalizingFlow& flow, CouplingKernel kernel, const torch::Tensor& z, bool reverse) {
  flow->set_coupling_kernel(kernel);
  flow->zero_grad();
  torch::Tensor input = z.clone().requires_grad_(true);
  CouplingResult out = reverse ? flow->reverse(input) : [&] {
    FlowSample s = flow->forward(input);
    return CouplingResult{s.x, s.log_q};
  }();
  torch::manual_seed(8);
  const torch::Tensor wy = torch::randn(out.x.sizes(), out.x.options());
  const torch::Tensor wl = torch::randn(out.log_det.sizes(), out.log_det.options());
  ((out.x * wy).sum().to(torch::kFloat64) + (out.log_det * wl).sum()).backward();
  Evaluation e{out.x.detach(), out.log_det.detach(), input.grad().clone(), {}};
  for (const auto& p : flow->parameters()) e.param_grads.push_back(p.grad().clone());
  return e;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>() / scale;
}

void expect_same(const Evaluation& fused, const Evaluation& reference, double tolerance, const std::string& what) {
  const double outputs = relative_difference(fused.y, reference.y);
  const double log_dets = relative_difference(fused.log_det, reference.log_det);
  const double input_grads = relative_difference(fused.input_grad, reference.input_grad);
  EXPECT_LT(outputs, tolerance) << what << ": outputs";
  EXPECT_LT(log_dets, tolerance) << what << ": log-densities";
  EXPECT_LT(input_grads, tolerance) << what << ": input gradient";
  ASSERT_EQ(fused.param_grads.size(), reference.param_grads.size());
  for (size_t i = 0; i < fused.param_grads.size(); ++i) {
    EXPECT_LT(relative_difference(fused.param_grads[i], reference.param_grads[i]), tolerance) << what << ": parameter " << i;
  }
}

// The largest relative difference of any output, log-density or gradient.
double max_difference(const Evaluation& a, const Evaluation& b) {
  double d = std::max({relative_difference(a.y, b.y), relative_difference(a.log_det, b.log_det),
                       relative_difference(a.input_grad, b.input_grad)});
  for (size_t i = 0; i < a.param_grads.size(); ++i) {
    d = std::max(d, relative_difference(a.param_grads[i], b.param_grads[i]));
  }
  return d;
}

// Five random configurations on the case's lattice.
torch::Tensor random_batch(const Case& c, torch::Dtype dtype) {
  std::vector<int64_t> batch{5};
  batch.insert(batch.end(), c.shape.begin(), c.shape.end());
  return torch::randn(batch, dtype);
}

const std::vector<Case> kCases{{{8, 8}, {8, 8}, 3, true},  {{6}, {4}, 5, true},        {{4, 4, 4}, {3, 5}, 3, true},
                               {{4, 6}, {}, 3, false},     {{6, 6}, {4, 4, 4}, 5, true}, {{2, 4}, {4}, 3, true}};

TEST(FusedCoupling, MatchesLibTorchModulesInFloat64) {
  for (const Case& c : kCases) {
    NormalizingFlow flow = make_flow(c, torch::kFloat64);
    const torch::Tensor z = random_batch(c, torch::kFloat64);
    for (bool reverse : {false, true}) {
      const std::string what = std::to_string(c.shape.size()) + "d kernel " + std::to_string(c.kernel) +
                               (reverse ? " reverse" : " forward");
      expect_same(evaluate(flow, CouplingKernel::Fused, z, reverse),
                  evaluate(flow, CouplingKernel::Reference, z, reverse), 1e-12, what);
    }
  }
}

// float32 against the float64 result, within 4x LibTorch's own float32
// error (a fixed tolerance between two float32 implementations depends on
// which convolution algorithm LibTorch's backend picks on the CPU at hand).
TEST(FusedCoupling, MatchesLibTorchModulesInFloat32) {
  for (const Case& c : kCases) {
    NormalizingFlow flow32 = make_flow(c, torch::kFloat32);
    NormalizingFlow flow64 = make_flow(c, torch::kFloat64);
    const torch::Tensor z = random_batch(c, torch::kFloat32);
    const Evaluation truth = evaluate(flow64, CouplingKernel::Reference, z.to(torch::kFloat64), false);
    const double reference_error = max_difference(evaluate(flow32, CouplingKernel::Reference, z, false), truth);
    const double error = max_difference(evaluate(flow32, CouplingKernel::Fused, z, false), truth);
    EXPECT_LT(error, 4 * reference_error + 1e-5)
        << std::to_string(c.shape.size()) << "d float32 (LibTorch float32: " << reference_error << ")";
  }
}

// Every instruction set this CPU runs (generic, AVX2, AVX-512 loops), on a
// batch the kernel splits into several slices (16 x 16 sites, 40
// configurations), forward and reverse: float64 against LibTorch's modules
// to 1e-12; float32 against the float64 result, within 4x LibTorch's own
// float32 error (gradients summed over 10^4 sites lose 1e-3 in both).
// 6 x 6 too: 36 sites, not a multiple of the 8-site blocks (the blocks' tail).
TEST(FusedCoupling, EveryInstructionSetMatchesLibTorchAcrossSlices) {
  const std::string best = conv_kernels::instruction_set();
  for (const int64_t L : {16, 6}) {
    const Case tutorial{{L, L}, {8, 8}, 3, true};
    NormalizingFlow flow64 = make_flow(tutorial, torch::kFloat64);
    NormalizingFlow flow32 = make_flow(tutorial, torch::kFloat32);
    torch::manual_seed(5);
    const torch::Tensor z = torch::randn({40, L, L}, torch::kFloat64);
    for (bool reverse : {false, true}) {
      const Evaluation truth = evaluate(flow64, CouplingKernel::Reference, z, reverse);
      const Evaluation reference32 = evaluate(flow32, CouplingKernel::Reference, z.to(torch::kFloat32), reverse);
      const double reference_error = max_difference(reference32, truth);
      for (const char* set : {"generic", "avx2", "avx512"}) {
        if (!conv_kernels::use_instruction_set(set)) continue;
        const std::string what = std::string(set) + (reverse ? " reverse" : " forward");
        expect_same(evaluate(flow64, CouplingKernel::Fused, z, reverse), truth, 1e-12, what + " float64");
        const double error =
            max_difference(evaluate(flow32, CouplingKernel::Fused, z.to(torch::kFloat32), reverse), truth);
        EXPECT_LT(error, 4 * reference_error + 1e-5)
            << what << " float32 (LibTorch float32: " << reference_error << ")";
      }
      ASSERT_TRUE(conv_kernels::use_instruction_set(best.c_str()));
    }
  }
  EXPECT_FALSE(conv_kernels::use_instruction_set("sse9"));
}

// FLOWLAT_CPU_KERNELS picks the loops; a set this CPU lacks is refused by name.
TEST(ConvKernels, EnvironmentChoosesTheInstructionSet) {
  const std::string best = conv_kernels::instruction_set();
  ASSERT_EQ(setenv("FLOWLAT_CPU_KERNELS", "generic", 1), 0);
  conv_kernels::select_from_environment();
  EXPECT_STREQ(conv_kernels::instruction_set(), "generic");
  ASSERT_EQ(setenv("FLOWLAT_CPU_KERNELS", "sse9", 1), 0);
  try {
    conv_kernels::select_from_environment();
    ADD_FAILURE() << "an unknown instruction set must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("FLOWLAT_CPU_KERNELS=sse9: not available in this build on this CPU "
                                         "(available: generic"),
              std::string::npos)
        << e.what();
  }
  EXPECT_STREQ(conv_kernels::instruction_set(), "generic");  // unchanged by the refusal
  unsetenv("FLOWLAT_CPU_KERNELS");
  conv_kernels::select_from_environment();  // unset: no change
  EXPECT_STREQ(conv_kernels::instruction_set(), "generic");
  ASSERT_TRUE(conv_kernels::use_instruction_set(best.c_str()));
}

// A sample's results must not depend on the batch it is computed in
// (data-parallel sharding and the sampler's batches rely on it).
TEST(FusedCoupling, PerSampleResultsDoNotDependOnTheBatch) {
  NormalizingFlow flow = make_flow(kCases[0], torch::kFloat64);
  flow->set_coupling_kernel(CouplingKernel::Fused);
  torch::NoGradGuard no_grad;
  const torch::Tensor z = torch::randn({9, 8, 8}, torch::kFloat64);
  const FlowSample all = flow->forward(z);
  const FlowSample part = flow->forward(z.slice(0, 3, 5));
  EXPECT_LT(relative_difference(part.x, all.x.slice(0, 3, 5)), 1e-14);
  EXPECT_LT(relative_difference(part.log_q, all.log_q.slice(0, 3, 5)), 1e-14);
}

// The same in float32, bit for bit, on 6 x 6 (the 8-site blocks' tail):
// every site sums in its own fixed order.
TEST(FusedCoupling, Float32SampleResultsAreTheSameBitsInEveryBatch) {
  NormalizingFlow flow = make_flow(Case{{6, 6}, {8, 8}, 3, true}, torch::kFloat32);
  flow->set_coupling_kernel(CouplingKernel::Fused);
  torch::NoGradGuard no_grad;
  const torch::Tensor z = torch::randn({9, 6, 6}, torch::kFloat32);
  const FlowSample all = flow->forward(z);
  const FlowSample part = flow->forward(z.slice(0, 3, 5));
  EXPECT_TRUE(torch::equal(part.x, all.x.slice(0, 3, 5)));
  EXPECT_TRUE(torch::equal(part.log_q, all.log_q.slice(0, 3, 5)));
}

// Each specialised float32 convolution against plain double loops on the
// same stencil, on every instruction set: 6 x 6 sites (not a multiple of
// the 8-site blocks), 3 configurations. The flow-level float32 checks above
// compare with LibTorch's own float32 error, which the x3 weights make of
// order one, so they cannot see a wrong float32 site; this can (a tail site
// reading another site's taps fails it).
TEST(ConvKernels, Float32LoopsMatchDoubleSumsOnEverySite) {
  const std::string best = conv_kernels::instruction_set();
  const CouplingStencil stencil = CouplingStencil::build(Lattice({6, 6}), 0, 3);
  const int64_t batch = 3, volume = 36, taps = 9;
  torch::manual_seed(11);
  for (const auto& [cin, cout] : std::vector<std::pair<int64_t, int64_t>>{{1, 8}, {8, 8}, {8, 16}, {8, 24}}) {
    const torch::Tensor h = torch::randn({batch, volume, cin}, torch::kFloat64);
    const torch::Tensor wk = torch::randn({taps * cin, cout}, torch::kFloat64);
    const torch::Tensor bias = torch::randn({cout}, torch::kFloat64);
    // out[b, site, o] = bias[o] + sum over taps and channels, in double.
    const torch::Tensor gathered = h.index_select(1, stencil.neighbours.flatten()).reshape({batch, volume, taps * cin});
    const torch::Tensor expected = torch::matmul(gathered, wk) + bias;
    const torch::Tensor h32 = h.to(torch::kFloat32).contiguous(), wk32 = wk.to(torch::kFloat32).contiguous();
    const torch::Tensor wo32 = wk32.t().contiguous(), bias32 = bias.to(torch::kFloat32).contiguous();
    const conv_kernels::ConvShape shape{batch, volume, volume, taps, cin, cout, stencil.neighbours.data_ptr<int64_t>()};
    for (const char* set : {"generic", "avx2", "avx512"}) {
      if (!conv_kernels::use_instruction_set(set)) continue;
      torch::Tensor out = torch::empty({batch, volume, cout}, torch::kFloat32);
      conv_kernels::forward(shape, h32.data_ptr<float>(), wk32.data_ptr<float>(), wo32.data_ptr<float>(),
                            bias32.data_ptr<float>(), conv_kernels::Activation::None, 0.0, out.data_ptr<float>());
      const double error = (out.to(torch::kFloat64) - expected).abs().max().item<double>();
      EXPECT_LT(error, 1e-4) << set << " " << cin << " -> " << cout;  // sums of 9 cin products of order 1
    }
  }
  ASSERT_TRUE(conv_kernels::use_instruction_set(best.c_str()));
}

TEST(CouplingStencil, TapsAreTheCircularlyShiftedSites) {
  const Lattice lattice({4, 6});
  const CouplingStencil stencil = CouplingStencil::build(lattice, 1, 3);
  ASSERT_EQ(stencil.taps, 9);
  const auto table = stencil.neighbours.accessor<int64_t, 2>();
  // Site (0, 5): tap (0, 2) is offset (-1, +1) -> (3, 0); tap (1, 1) is itself.
  EXPECT_EQ(table[5][2], 3 * 6 + 0);
  EXPECT_EQ(table[5][4], 5);
  // Site (2, 3): tap (2, 0) is offset (+1, -1) -> (3, 2).
  EXPECT_EQ(table[2 * 6 + 3][6], 3 * 6 + 2);
  // Kernel 5 on an extent of 4 wraps by more than one period side: (0 - 2) mod 4 = 2.
  const CouplingStencil wide = CouplingStencil::build(Lattice({4}), 0, 5);
  EXPECT_EQ(wide.neighbours[0][0].item<int64_t>(), 2);
  // Active sites: half the lattice, exactly where the checkerboard is 0.
  EXPECT_EQ(stencil.active_sites.numel(), 12);
  const torch::Tensor mask = lattice.checkerboard(1).flatten();
  EXPECT_EQ(mask.index_select(0, stencil.active_sites).sum().item<double>(), 0.0);
}

TEST(CouplingKernel, AutoIsFusedOnTheCpuOnly) {
  EXPECT_EQ(resolve_coupling_kernel(CouplingKernel::Auto, torch::kCPU), CouplingKernel::Fused);
  EXPECT_EQ(resolve_coupling_kernel(CouplingKernel::Fused, torch::kCPU), CouplingKernel::Fused);
  EXPECT_EQ(resolve_coupling_kernel(CouplingKernel::Auto, torch::Device(torch::kCUDA, 0)), CouplingKernel::Reference);
  EXPECT_THROW(resolve_coupling_kernel(CouplingKernel::Fused, torch::Device(torch::kCUDA, 0)), std::invalid_argument);
  EXPECT_EQ(parse_coupling_kernel("reference", "x"), CouplingKernel::Reference);
  try {
    parse_coupling_kernel("fast", "FLOWLAT_COUPLING_KERNEL");
    FAIL() << "an unknown kernel name must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("FLOWLAT_COUPLING_KERNEL: unknown coupling kernel 'fast' (allowed: auto, "
                                         "reference, fused)"),
              std::string::npos);
  }
}

// On a GPU the plain path runs and agrees with the CPU's fused kernel.
TEST(FusedCoupling, CudaReferencePathAgreesWithCpuFusedKernel) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  NormalizingFlow flow = make_flow(kCases[0], torch::kFloat64);
  const torch::Tensor z = torch::randn({5, 8, 8}, torch::kFloat64);
  const Evaluation cpu = evaluate(flow, CouplingKernel::Fused, z, false);
  flow->to(torch::kCUDA);
  Evaluation gpu = evaluate(flow, CouplingKernel::Auto, z.to(torch::kCUDA), false);
  gpu.y = gpu.y.cpu();
  gpu.log_det = gpu.log_det.cpu();
  gpu.input_grad = gpu.input_grad.cpu();
  for (auto& g : gpu.param_grads) g = g.cpu();
  expect_same(cpu, gpu, 1e-10, "cuda");
}

}  // namespace
}  // namespace flowlat
