// Core cycles per site of the hot sampling kernels against their FMA bound:
// the fused coupling's convolutions (1 -> 8, 8 -> 8, 8 -> 24: the best
// recipe's network), the spline lanes per element and the Fourier layer
// per site, float32, one thread, batch 1024 of an L = 8 lattice, for every
// instruction set this build and CPU have. Cycles are core cycles: the
// time of a site times the core's clock, measured by a chain of dependent
// integer adds (one per cycle on every x86 core; the time-stamp counter
// ticks at the nominal clock, and performance counters are often missing
// in virtual machines). The FMA bound of a convolution: cin x cout x taps multiply-adds per
// site, 8 per 256-bit FMA, two FMAs per cycle. Built by CMake as
// flowlat_kernel_bench; tools/bench/bench.py prints its table.
//   build/flowlat_kernel_bench [--reps N]
#include <malloc.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "flow/ConvKernels.hpp"
#include "flow/FourierLayer.hpp"
#include "flow/RationalQuadraticSpline.hpp"
#include "flow/SplineKernels.hpp"
#include "lattice/Lattice.hpp"

namespace {
using namespace flowlat;
constexpr int64_t kL = 8, kVolume = kL * kL, kBatch = 1024;

double g_core_ghz = 0;

// The core clock in GHz: 10^6 dependent adds take 10^6 cycles (best of
// 200 short runs, as the kernels' timings: a shared core loses whole slices).
double core_ghz() {
  double best = 1e30;
  for (int r = 0; r < 200; ++r) {
    uint64_t value = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < 100000; ++i) {
      asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                   "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                   : "+r"(value));
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 1e6 / best / 1e9;
}

// Best of `reps` timings of f: seconds and core cycles.
template <typename F>
std::pair<double, double> best_of(int reps, F&& f) {
  f();
  double seconds = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return {seconds, seconds * g_core_ghz * 1e9};
}

void conv_row(const char* set, int64_t cin, int64_t cout, int reps) {
  std::vector<int64_t> table(kVolume * 9);
  for (int64_t x = 0; x < kL; ++x) {
    for (int64_t y = 0; y < kL; ++y) {
      int64_t t = 0;
      for (int64_t dx = -1; dx <= 1; ++dx) {
        for (int64_t dy = -1; dy <= 1; ++dy) table[(x * kL + y) * 9 + t++] = ((x + dx + kL) % kL) * kL + (y + dy + kL) % kL;
      }
    }
  }
  std::mt19937 g(1);
  std::normal_distribution<float> normal;
  std::vector<float> h(kBatch * kVolume * cin), wk(9 * cin * cout), wo(9 * cin * cout), bias(cout),
      out(kBatch * kVolume * cout);
  for (float& v : h) v = normal(g);
  for (float& v : wk) v = normal(g);
  for (int64_t k = 0; k < 9 * cin; ++k) {
    for (int64_t o = 0; o < cout; ++o) wo[o * 9 * cin + k] = wk[k * cout + o];
  }
  conv_kernels::ConvShape s{kBatch, kVolume, kVolume, 9, cin, cout, table.data()};
  const auto [seconds, cycles] = best_of(reps, [&] {
    conv_kernels::forward(s, h.data(), wk.data(), wo.data(), bias.data(), conv_kernels::Activation::LeakyRelu, 0.01,
                          out.data());
  });
  const double sites = static_cast<double>(kBatch * kVolume);
  const double bound = static_cast<double>(cin * cout * 9) / 8 / 2;
  std::printf("%-8s conv %2lld -> %-2lld     %8.1f ns/site %8.1f cycles/site   FMA bound %6.1f cycles (%3.0f %%)\n", set,
              static_cast<long long>(cin), static_cast<long long>(cout), seconds / sites * 1e9, cycles / sites, bound,
              100 * bound / (cycles / sites));
}

void spline_row(const char* set, int reps) {
  const int64_t bins = 8, per = spline_parameter_count(bins), n = kBatch * kVolume / 2;
  std::mt19937 g(2);
  std::normal_distribution<float> normal;
  std::vector<float> x(n), params(n * per), y(n), log_det(n);
  for (float& v : x) v = 1.5f * normal(g);
  for (float& v : params) v = normal(g);
  const conv_kernels::SplineShape shape = spline_shape(bins, 3.0);
  const auto [seconds, cycles] =
      best_of(reps, [&] { conv_kernels::spline_forward(shape, x.data(), params.data(), n, y.data(), log_det.data()); });
  std::printf("%-8s spline, 8 bins  %8.1f ns/elem %8.1f cycles/elem%s\n", set, seconds / n * 1e9, cycles / n,
              conv_kernels::spline_forward_in_lanes(false) ? "" : "   (sampling takes the one-element loop here)");
}

void fourier_row(int reps) {
  torch::NoGradGuard no_grad;
  FourierLayer layer(Lattice({kL, kL}), -4.0, FourierLayerKind::Diagonal);
  const torch::Tensor z = torch::randn({kBatch, kL, kL});
  const auto [seconds, cycles] = best_of(reps, [&] { layer->forward(z); });
  const double sites = static_cast<double>(kBatch * kVolume);
  std::printf("%-8s Fourier layer   %8.1f ns/site %8.1f cycles/site   (LibTorch's FFT)\n", "any", seconds / sites * 1e9,
              cycles / sites);
}
}  // namespace

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // as flowlat itself (main.cpp)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  torch::set_num_threads(1);
  int reps = 20;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::stoi(argv[i + 1]);
  }
  const std::string best = conv_kernels::instruction_set();
  g_core_ghz = core_ghz();
  std::printf("float32, 1 thread, batch %lld, L = %lld; best of %d; core clock %.2f GHz (dependent adds)\n",
              static_cast<long long>(kBatch), static_cast<long long>(kL), reps, g_core_ghz);
  for (const char* set : {"generic", "avx2", "avx512"}) {
    if (!conv_kernels::use_instruction_set(set)) continue;
    conv_row(set, 1, 8, reps);
    conv_row(set, 8, 8, reps);
    conv_row(set, 8, 24, reps);
    spline_row(set, reps);
  }
  conv_kernels::use_instruction_set(best.c_str());
  fourier_row(reps);
  return 0;
}
