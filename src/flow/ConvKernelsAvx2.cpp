// The convolution loops compiled with -mavx2 -mfma (CMakeLists.txt), run
// only where the CPU has both (ConvKernels.cpp checks at run time).
#include "flow/ConvKernels.hpp"
#include "flow/SplineKernels.hpp"

#if defined(FLOWLAT_AVX2_KERNELS)
namespace flowlat::conv_kernels::avx2 {
#include "flow/ConvKernels.inc"
#include "flow/SplineKernels.inc"
}  // namespace flowlat::conv_kernels::avx2
#endif
