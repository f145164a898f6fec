// The convolution loops for any CPU (ConvKernels.inc).
#include "flow/ConvKernels.hpp"

namespace flowlat::conv_kernels::generic {
#include "flow/ConvKernels.inc"
}  // namespace flowlat::conv_kernels::generic
