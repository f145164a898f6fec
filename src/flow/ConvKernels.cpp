#include "flow/ConvKernels.hpp"
#include "flow/SplineKernels.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace flowlat::conv_kernels {

#define FLOWLAT_DECLARE_KERNELS                                                                              \
  void forward(const ConvShape&, const float*, const float*, const float*, const float*, Activation, double,     \
               float*);                                                                                       \
  void forward(const ConvShape&, const double*, const double*, const double*, const double*, Activation, double, \
               double*);                                                                                      \
  void input_gradient(const ConvShape&, const float*, const float*, const float*, float*);                  \
  void input_gradient(const ConvShape&, const double*, const double*, const double*, double*);              \
  void weight_gradient(const ConvShape&, const float*, const float*, float*, float*);                       \
  void weight_gradient(const ConvShape&, const double*, const double*, double*, double*);                   \
  void leaky_relu_backward(float*, const float*, int64_t, double);                                          \
  void leaky_relu_backward(double*, const double*, int64_t, double);                                        \
  void spline_forward(const SplineShape&, const float*, const float*, int64_t, float*, float*);             \
  void spline_forward(const SplineShape&, const double*, const double*, int64_t, double*, double*);        \
  void tanh_in_place(float*, int64_t);

namespace generic {
FLOWLAT_DECLARE_KERNELS
}
#if defined(FLOWLAT_AVX2_KERNELS)
namespace avx2 {
FLOWLAT_DECLARE_KERNELS
}
#endif
#if defined(FLOWLAT_AVX512_KERNELS)
namespace avx512 {
FLOWLAT_DECLARE_KERNELS
}
#endif
#undef FLOWLAT_DECLARE_KERNELS

namespace {
enum class InstructionSet { Generic, Avx2, Avx512 };
const char* const kNames[] = {"generic", "avx2", "avx512"};
const InstructionSet kSets[] = {InstructionSet::Generic, InstructionSet::Avx2, InstructionSet::Avx512};

// Whether this build has the loops for `set` and this CPU can run them.
bool supported(InstructionSet set) {
  bool ok = set == InstructionSet::Generic;
#if defined(FLOWLAT_AVX2_KERNELS)
  ok = ok || (set == InstructionSet::Avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
#if defined(FLOWLAT_AVX512_KERNELS)
  ok = ok || (set == InstructionSet::Avx512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"));
#endif
  return ok;
}

// The best supported set (kSets is ordered from worst to best).
InstructionSet detect() {
  for (int i = 2; i > 0; --i) {
    if (supported(kSets[i])) return kSets[i];
  }
  return InstructionSet::Generic;
}

// The loops this process runs: the best the CPU has, until use_instruction_set
// picks others (start-up, FLOWLAT_CPU_KERNELS, tests).
InstructionSet active_set = detect();
}  // namespace

#if defined(FLOWLAT_AVX512_KERNELS)
#define FLOWLAT_CALL_AVX512(call) \
  if (active_set == InstructionSet::Avx512) return avx512::call;
#else
#define FLOWLAT_CALL_AVX512(call)
#endif
#if defined(FLOWLAT_AVX2_KERNELS)
#define FLOWLAT_CALL_AVX2(call) \
  if (active_set == InstructionSet::Avx2) return avx2::call;
#else
#define FLOWLAT_CALL_AVX2(call)
#endif
#define FLOWLAT_DISPATCH(call) \
  FLOWLAT_CALL_AVX512(call)    \
  FLOWLAT_CALL_AVX2(call)      \
  return generic::call

void forward(const ConvShape& s, const float* h, const float* wk, const float* wo, const float* bias, Activation a,
             double slope, float* out) {
  FLOWLAT_DISPATCH(forward(s, h, wk, wo, bias, a, slope, out));
}
void forward(const ConvShape& s, const double* h, const double* wk, const double* wo, const double* bias,
             Activation a, double slope, double* out) {
  FLOWLAT_DISPATCH(forward(s, h, wk, wo, bias, a, slope, out));
}
void input_gradient(const ConvShape& s, const float* g, const float* wk, const float* wo, float* g_h) {
  FLOWLAT_DISPATCH(input_gradient(s, g, wk, wo, g_h));
}
void input_gradient(const ConvShape& s, const double* g, const double* wk, const double* wo, double* g_h) {
  FLOWLAT_DISPATCH(input_gradient(s, g, wk, wo, g_h));
}
void weight_gradient(const ConvShape& s, const float* h, const float* g, float* g_wk, float* g_bias) {
  FLOWLAT_DISPATCH(weight_gradient(s, h, g, g_wk, g_bias));
}
void weight_gradient(const ConvShape& s, const double* h, const double* g, double* g_wk, double* g_bias) {
  FLOWLAT_DISPATCH(weight_gradient(s, h, g, g_wk, g_bias));
}
void leaky_relu_backward(float* g, const float* h, int64_t n, double slope) {
  FLOWLAT_DISPATCH(leaky_relu_backward(g, h, n, slope));
}
void leaky_relu_backward(double* g, const double* h, int64_t n, double slope) {
  FLOWLAT_DISPATCH(leaky_relu_backward(g, h, n, slope));
}
void spline_forward(const SplineShape& s, const float* x, const float* params, int64_t n, float* y, float* log_det) {
  FLOWLAT_DISPATCH(spline_forward(s, x, params, n, y, log_det));
}
void spline_forward(const SplineShape& s, const double* x, const double* params, int64_t n, double* y,
                    double* log_det) {
  FLOWLAT_DISPATCH(spline_forward(s, x, params, n, y, log_det));
}
void tanh_in_place(float* x, int64_t n) { FLOWLAT_DISPATCH(tanh_in_place(x, n)); }
#undef FLOWLAT_DISPATCH
#undef FLOWLAT_CALL_AVX2
#undef FLOWLAT_CALL_AVX512

bool spline_forward_in_lanes(bool float64) {
  return active_set == InstructionSet::Avx512 || (active_set == InstructionSet::Avx2 && !float64);
}

const char* instruction_set() {
  switch (active_set) {
    case InstructionSet::Avx512: return "avx512";
    case InstructionSet::Avx2: return "avx2";
    case InstructionSet::Generic: break;
  }
  return "generic";
}

void select_from_environment() {
  const char* requested = std::getenv("FLOWLAT_CPU_KERNELS");
  if (requested == nullptr || use_instruction_set(requested)) return;
  std::string available;
  for (int i = 0; i < 3; ++i) {
    if (supported(kSets[i])) available += std::string(available.empty() ? "" : ", ") + kNames[i];
  }
  throw std::invalid_argument("FLOWLAT_CPU_KERNELS=" + std::string(requested) +
                              ": not available in this build on this CPU (available: " + available + ")");
}

bool use_instruction_set(const char* name) {
  for (int i = 0; i < 3; ++i) {
    if (__builtin_strcmp(name, kNames[i]) == 0 && supported(kSets[i])) {
      active_set = kSets[i];
      return true;
    }
  }
  return false;
}

}  // namespace flowlat::conv_kernels
