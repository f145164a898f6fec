#pragma once
// Direct circular convolutions on stencil tables (CouplingStencil), the
// inner loops of the fused coupling kernel (FusedCoupling): no im2col
// buffer, no GEMM call; every kernel walks the batch itself.
//
// Layouts (all contiguous, row-major):
//   h      [batch, volume, cin]    a layer's input, channel fastest
//   table  [sites, taps]           site read by each tap of each output site
//   wk     [taps * cin, cout]      weights, rows ordered (tap, channel)
//   out, g [batch, sites, cout]    a layer's output or its gradient
// Sums run in a fixed order that does not depend on the batch, so a
// configuration's result is the same in every batch and on every rank.
//
// Torch-free on purpose: the loops are compiled three times, generic, AVX2
// and AVX-512 (ConvKernels{Generic,Avx2,Avx512}.cpp), and the CPU picks the
// best it has at start-up.
#include <cstdint>

namespace flowlat::conv_kernels {

enum class Activation { None, LeakyRelu, Tanh };

struct ConvShape {
  int64_t batch = 0;
  int64_t volume = 0;   // sites per configuration of the input
  int64_t sites = 0;    // output sites per configuration (table rows)
  int64_t taps = 0;
  int64_t cin = 0;
  int64_t cout = 0;
  const int64_t* table = nullptr;
};

// out = activation(bias + conv(h)), weights wk [taps * cin, cout] and its
// transpose wo [cout, taps * cin]. Local.
void forward(const ConvShape& shape, const float* h, const float* wk, const float* wo, const float* bias,
             Activation activation, double slope, float* out);
void forward(const ConvShape& shape, const double* h, const double* wk, const double* wo, const double* bias,
             Activation activation, double slope, double* out);

// g_h = conv^T(g), overwritten; wo is wk transposed ([cout, taps * cin]). Local.
void input_gradient(const ConvShape& shape, const float* g, const float* wk, const float* wo, float* g_h);
void input_gradient(const ConvShape& shape, const double* g, const double* wk, const double* wo, double* g_h);

// g_wk += sum over output sites of (gathered input row) x g; g_bias += sum of g. Local.
void weight_gradient(const ConvShape& shape, const float* h, const float* g, float* g_wk, float* g_bias);
void weight_gradient(const ConvShape& shape, const double* h, const double* g, double* g_wk, double* g_bias);

// g *= LeakyReLU'(a) for n values, read off the activation's output h. Local.
void leaky_relu_backward(float* g, const float* h, int64_t n, double slope);
void leaky_relu_backward(double* g, const double* h, int64_t n, double slope);

// x = tanh(x) for n values, 8 lanes at a time (SplineKernels.inc: Cephes'
// tanhf, within a few units in the last place of libm's). Local.
void tanh_in_place(float* x, int64_t n);

// "avx512", "avx2" or "generic": the loops this process runs (the best the
// CPU has, unless chosen below). Local.
const char* instruction_set();

// Applies the environment variable FLOWLAT_CPU_KERNELS (generic, avx2,
// avx512) if it is set; throws std::invalid_argument naming the variable,
// its value and the sets this build and CPU offer otherwise. Local.
void select_from_environment();

// Runs the loops built for `name` ("generic", "avx2", "avx512") from now on;
// false (nothing changes) if this build or CPU lacks them. For tests and
// benchmarks; not thread-safe against running kernels. Local.
bool use_instruction_set(const char* name);

}  // namespace flowlat::conv_kernels
