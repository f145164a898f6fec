#pragma once
// Sets a rank up to run a flow: its threads, the CPU kernels' instruction
// set (FLOWLAT_CPU_KERNELS, flow/ConvKernels.hpp) and its device.
#include <torch/torch.h>

#include <string>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// Threads, CPU kernels, device (made current) and GPU determinism of this
// rank; every rank fails alike (CollectiveError) if cuda is asked for and
// absent, the GPU layout is refused (run.gpu_sharing), the kernels named by
// FLOWLAT_CPU_KERNELS are not available, or FLOWLAT_COUPLING_KERNEL names
// one the device cannot run. Collective.
torch::Device prepare_flow_device(const RunConfig& run, const Communicator& comm);

// The coupling kernels this process runs on `device`, recorded in every
// output: "fused couplings, avx2 convolution kernels on cpu" or "reference
// couplings (LibTorch operations) on cuda:0". Call after prepare_flow_device. Local.
std::string flow_kernels(const torch::Device& device);

}  // namespace flowlat
