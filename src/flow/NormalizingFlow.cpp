#include "flow/NormalizingFlow.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace flowlat {
namespace {
constexpr const char* kArchitectureKey = "flowlat_architecture";
constexpr const char* kDtypeKey = "flowlat_dtype";
}

NormalizingFlowImpl::NormalizingFlowImpl(const FlowArchitecture& architecture)
    : architecture_(architecture), prior_(Lattice(architecture.lattice_shape)) {
  const Lattice& lattice = prior_.lattice();
  const auto activation = architecture.final_tanh ? OutputActivation::Tanh : OutputActivation::None;
  for (int64_t i = 0; i < architecture.n_layers; ++i) {
    auto net = make_conv_net(lattice.dim(), 1, 2, architecture.hidden_channels, architecture.kernel_size,
                             activation);
    const int parity = static_cast<int>(i % 2);
    layers_.push_back(register_module("coupling" + std::to_string(i), AffineCoupling(lattice, parity, net)));
  }
  if (const char* kernel = std::getenv("FLOWLAT_COUPLING_KERNEL")) {
    set_coupling_kernel(parse_coupling_kernel(kernel, "FLOWLAT_COUPLING_KERNEL"));
  }
}

void NormalizingFlowImpl::set_coupling_kernel(CouplingKernel kernel) {
  for (auto& layer : layers_) layer->set_kernel(kernel);
}

FlowSample NormalizingFlowImpl::forward(const torch::Tensor& z) {
  torch::Tensor x = z;
  torch::Tensor log_q = prior_.log_prob(z);
  for (auto& layer : layers_) {
    CouplingResult out = layer->forward(x);
    x = out.x;
    log_q = log_q - out.log_det;
  }
  return {x, log_q};
}

CouplingResult NormalizingFlowImpl::reverse(const torch::Tensor& x) {
  torch::Tensor z = x;
  torch::Tensor log_det = torch::zeros({x.size(0)}, x.options().dtype(torch::kFloat64));
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    CouplingResult out = (*it)->reverse(z);
    z = out.x;
    log_det = log_det + out.log_det;
  }
  return {z, log_det};
}

torch::Tensor NormalizingFlowImpl::log_q(const torch::Tensor& x) {
  // q(x) = r(z) |det dz/dx| with z = f^{-1}(x).
  CouplingResult back = reverse(x);
  return prior_.log_prob(back.x) + back.log_det;
}

int64_t NormalizingFlowImpl::parameter_count() const {
  int64_t count = 0;
  for (const auto& p : parameters()) count += p.numel();
  return count;
}

void NormalizingFlowImpl::save_to(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  save(archive);
  // The parameters' dtype, so that load_from can read them into tensors of
  // the same dtype whatever precision the loading run uses.
  const bool single = parameters().front().scalar_type() == torch::kFloat32;
  archive.write(kDtypeKey, c10::IValue(std::string(single ? "float32" : "float64")));
  archive.write(kArchitectureKey, c10::IValue(architecture_.to_json().dump()));
  archive.save_to(path);
}

void NormalizingFlowImpl::load_from(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": model file not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a readable flowlat model file");
  }
  c10::IValue stored;
  if (!archive.try_read(kArchitectureKey, stored) || !stored.isString()) {
    throw std::runtime_error(path + ": model file has no recorded architecture");
  }
  const auto theirs = FlowArchitecture::from_json(nlohmann::json::parse(stored.toStringRef()));
  const std::string diff = architecture_.differences(theirs);
  if (!diff.empty()) {
    throw std::runtime_error(path + ": model architecture differs from the configuration (file vs config: " +
                             diff + ")");
  }
  // Load into CPU tensors of the file's dtype (loading copies storage, it
  // does not convert); callers then move the module to their precision.
  c10::IValue dtype;
  const bool single = !archive.try_read(kDtypeKey, dtype) || dtype.toStringRef() == "float32";
  to(torch::kCPU, single ? torch::kFloat32 : torch::kFloat64);
  torch::nn::Module::load(archive);
}

}  // namespace flowlat
