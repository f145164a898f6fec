// The convolution loops for any CPU (ConvKernels.inc).
#include "flow/ConvKernels.hpp"
#include "flow/SplineKernels.hpp"

namespace flowlat::conv_kernels::generic {
#include "flow/ConvKernels.inc"
#include "flow/SplineKernels.inc"
}  // namespace flowlat::conv_kernels::generic
