// The convolution loops compiled with -mavx512f -mfma (CMakeLists.txt), run
// only where the CPU has AVX-512F (ConvKernels.cpp checks at run time): an
// 8-lane double vector is one register there, two halves under AVX2.
#include "flow/ConvKernels.hpp"
#include "flow/SplineKernels.hpp"

#if defined(FLOWLAT_AVX512_KERNELS)
#include <immintrin.h>

namespace flowlat::conv_kernels::avx512 {
#include "flow/ConvKernels.inc"
#include "flow/SplineKernels.inc"
}  // namespace flowlat::conv_kernels::avx512
#endif
