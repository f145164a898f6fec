#include "flow/CouplingKernel.hpp"

#include <cstdlib>
#include <stdexcept>

namespace flowlat {

CouplingKernel resolve_coupling_kernel(CouplingKernel requested, const torch::Device& device) {
  switch (requested) {
    case CouplingKernel::Auto: return device.is_cpu() ? CouplingKernel::Fused : CouplingKernel::Reference;
    case CouplingKernel::Fused:
      if (!device.is_cpu()) {
        throw std::invalid_argument("the fused coupling kernel runs on the CPU only, not on " + device.str());
      }
      return requested;
    case CouplingKernel::Reference: return requested;
  }
  throw std::invalid_argument("unknown coupling kernel");
}

CouplingKernel parse_coupling_kernel(const std::string& text, const std::string& what) {
  if (text == "auto") return CouplingKernel::Auto;
  if (text == "reference") return CouplingKernel::Reference;
  if (text == "fused") return CouplingKernel::Fused;
  throw std::invalid_argument(what + ": unknown coupling kernel '" + text + "' (allowed: auto, reference, fused)");
}

CouplingKernel coupling_kernel_from_environment() {
  const char* kernel = std::getenv("FLOWLAT_COUPLING_KERNEL");
  return kernel ? parse_coupling_kernel(kernel, "FLOWLAT_COUPLING_KERNEL") : CouplingKernel::Auto;
}

}  // namespace flowlat
