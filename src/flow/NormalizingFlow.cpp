#include "flow/NormalizingFlow.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "config/ConfigError.hpp"
#include "flow/AffineCoupling.hpp"
#include "flow/FlowDevice.hpp"
#include "flow/RationalQuadraticSpline.hpp"
#include "flow/SplineCoupling.hpp"
#include "io/FileChecksum.hpp"
#include "provenance/BuildInfo.hpp"

namespace flowlat {
namespace {
constexpr const char* kArchitectureKey = "flowlat_architecture";
constexpr const char* kProvenanceKey = "flowlat_provenance";  // JSON: provenance/BuildInfo.hpp fields
constexpr const char* kDtypeKey = "flowlat_dtype";
constexpr const char* kTrainSecondsKey = "flowlat_train_seconds";
// fnv1a64 of every parameter's bytes in order: a model whose weights were
// altered after training is refused instead of sampled from.
constexpr const char* kParametersChecksumKey = "flowlat_parameters_checksum";

std::string parameters_checksum(const std::vector<torch::Tensor>& parameters) {
  std::string bytes;
  for (const torch::Tensor& p : parameters) {
    const torch::Tensor host = p.detach().to(torch::kCPU).contiguous();
    bytes.append(static_cast<const char*>(host.data_ptr()), host.numel() * host.element_size());
  }
  return bytes_checksum(bytes);
}

std::shared_ptr<CouplingLayerImpl> make_coupling(const FlowArchitecture& a, const Lattice& lattice, int64_t layer) {
  const int parity = static_cast<int>(layer % 2);
  if (a.coupling_of(layer) == CouplingKind::Spline) {
    auto net = make_conv_net(lattice.dim(), 1, spline_parameter_count(a.spline_bins), a.hidden_channels,
                             a.kernel_size, OutputActivation::None);
    return std::make_shared<SplineCouplingImpl>(lattice, parity, net, a.spline_bins, a.spline_bound, a.equivariance);
  }
  const auto activation = a.final_tanh ? OutputActivation::Tanh : OutputActivation::None;
  auto net = make_conv_net(lattice.dim(), 1, 2, a.hidden_channels, a.kernel_size, activation);
  return std::make_shared<AffineCouplingImpl>(lattice, parity, net, a.equivariance);
}

torch::serialize::InputArchive read_archive(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": model file not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::kCPU);
  } catch (const std::exception& e) {  // c10::Error, or TorchScript's parse errors of damaged code
    throw std::runtime_error(path + ": not a readable flowlat model file");
  }
  return archive;
}

FlowArchitecture recorded_architecture(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue stored;
  if (!archive.try_read(kArchitectureKey, stored) || !stored.isString()) {
    throw std::runtime_error(path + ": model file has no recorded architecture");
  }
  try {
    return FlowArchitecture::from_json(nlohmann::json::parse(stored.toStringRef()));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": the model's recorded architecture cannot be read (" + e.what() + ")");
  }
}

}  // namespace

NormalizingFlowImpl::NormalizingFlowImpl(const FlowArchitecture& architecture)
    : architecture_(architecture), prior_(Lattice(architecture.lattice_shape)) {
  const Lattice& lattice = prior_.lattice();
  if (architecture.fourier_layer != FourierLayerKind::None) {
    fourier_ = register_module("fourier",
                               FourierLayer(lattice, architecture.fourier_mass2, architecture.fourier_layer));
  }
  if (architecture.ode_layer == OdeLayerKind::Global) {
    const OdeLayerSize size{architecture.ode_pieces, architecture.ode_substeps, architecture.ode_frequencies,
                            architecture.ode_channels};
    ode_ = register_module("ode", OdeLayer(lattice, size));
  }
  for (int64_t i = 0; i < architecture.n_layers; ++i) {
    layers_.push_back(register_module("coupling" + std::to_string(i), make_coupling(architecture, lattice, i)));
  }
  set_coupling_kernel(coupling_kernel_from_environment());
}

void NormalizingFlowImpl::set_coupling_kernel(CouplingKernel kernel) {
  for (auto& layer : layers_) layer->set_kernel(kernel);
}

FlowSample NormalizingFlowImpl::forward(const torch::Tensor& z) {
  FlowSample out = push_forward(z);
  if (architecture_.symmetrisation == Symmetrisation::Z2) {
    // q_s(x) = (q(x) + q(-x)) / 2, the same for x and -x.
    out.log_q = torch::logaddexp(out.log_q, log_q_without_symmetrisation(-out.x)) - std::log(2.0);
  }
  return out;
}

FlowSample NormalizingFlowImpl::push_forward(const torch::Tensor& z) {
  torch::Tensor x = z;
  torch::Tensor log_q = prior_.log_prob(z);
  if (fourier_) {
    CouplingResult out = fourier_->forward(x);
    x = out.x;
    log_q = log_q - out.log_det;
  }
  if (ode_) {
    CouplingResult out = ode_->forward(x);
    x = out.x;
    log_q = log_q - out.log_det;
  }
  for (auto& layer : layers_) {
    CouplingResult out = layer->forward(x);
    x = out.x;
    log_q = log_q - out.log_det;
  }
  return {x, log_q};
}

FlowSample NormalizingFlowImpl::sample(const torch::Tensor& z, uint64_t sign_key) {
  FlowSample out = forward(z);
  if (architecture_.symmetrisation != Symmetrisation::Z2) return out;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(sign_key);
  const torch::Tensor bits = torch::randint(2, {z.size(0)}, generator, torch::TensorOptions().dtype(torch::kInt64));
  std::vector<int64_t> view(static_cast<size_t>(z.dim()), 1);
  view[0] = z.size(0);
  const torch::Tensor signs = (2 * bits - 1).to(out.x.options()).view(view);
  return {out.x * signs, out.log_q};
}

CouplingResult NormalizingFlowImpl::reverse(const torch::Tensor& x) {
  torch::Tensor z = x;
  torch::Tensor log_det = torch::zeros({x.size(0)}, x.options().dtype(torch::kFloat64));
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    CouplingResult out = (*it)->reverse(z);
    z = out.x;
    log_det = log_det + out.log_det;
  }
  if (ode_) {
    CouplingResult out = ode_->reverse(z);
    z = out.x;
    log_det = log_det + out.log_det;
  }
  if (fourier_) {
    CouplingResult out = fourier_->reverse(z);
    z = out.x;
    log_det = log_det + out.log_det;
  }
  return {z, log_det};
}

torch::Tensor NormalizingFlowImpl::log_q_without_symmetrisation(const torch::Tensor& x) {
  // q(x) = r(z) |det dz/dx| with z = f^{-1}(x).
  CouplingResult back = reverse(x);
  return prior_.log_prob(back.x) + back.log_det;
}

torch::Tensor NormalizingFlowImpl::log_q(const torch::Tensor& x) {
  const torch::Tensor plain = log_q_without_symmetrisation(x);
  if (architecture_.symmetrisation != Symmetrisation::Z2) return plain;
  return torch::logaddexp(plain, log_q_without_symmetrisation(-x)) - std::log(2.0);
}

int64_t NormalizingFlowImpl::parameter_count() const {
  int64_t count = 0;
  for (const auto& p : parameters()) count += p.numel();
  return count;
}

void NormalizingFlowImpl::initialise_from(NormalizingFlowImpl& trained) {
  const std::string diff = architecture_.differences(trained.architecture_, FlowArchitecture::Compare::IgnoreLattice);
  if (!diff.empty()) throw std::runtime_error("cannot start from a flow of another network (" + diff + ")");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto mine = layers_[i]->parameters();
    const auto theirs = trained.layers_[i]->parameters();
    for (size_t k = 0; k < mine.size(); ++k) mine[k].copy_(theirs[k].to(mine[k].options()));
  }
  if (fourier_) fourier_->interpolate_from(*trained.fourier_);
  if (ode_) ode_->initialise_from(*trained.ode_);
}

int64_t NormalizingFlowImpl::network_passes_per_sample() const {
  const int64_t per_layer = architecture_.equivariance == Equivariance::Z2 ? 2 : 1;
  const int64_t passes = architecture_.symmetrisation == Symmetrisation::Z2 ? 2 : 1;
  const int64_t ode = ode_ ? ode_->evaluations() : 0;
  return (architecture_.n_layers * per_layer + ode) * passes;
}

std::optional<double> NormalizingFlowImpl::train_seconds_of(const std::string& path) {
  torch::serialize::InputArchive archive = read_archive(path);
  c10::IValue seconds;
  if (!archive.try_read(kTrainSecondsKey, seconds) || !seconds.isDouble()) return std::nullopt;
  return seconds.toDouble();
}

void NormalizingFlowImpl::save_to(const std::string& path, double train_seconds) const {
  torch::serialize::OutputArchive archive;
  save(archive);
  // The parameters' dtype, so that load_from can read them into tensors of
  // the same dtype whatever precision the loading run uses.
  const bool single = parameters().front().scalar_type() == torch::kFloat32;
  archive.write(kDtypeKey, c10::IValue(std::string(single ? "float32" : "float64")));
  archive.write(kArchitectureKey, c10::IValue(architecture_.to_json().dump()));
  if (train_seconds >= 0) archive.write(kTrainSecondsKey, c10::IValue(train_seconds));
  const std::string kernels = flow_kernels(parameters().front().device());
  archive.write(kProvenanceKey, c10::IValue(provenance_json(kernels).dump()));
  archive.write(kParametersChecksumKey, c10::IValue(parameters_checksum(parameters())));
  archive.save_to(path);
}

FlowArchitecture NormalizingFlowImpl::architecture_of(const std::string& path) {
  torch::serialize::InputArchive archive = read_archive(path);
  return recorded_architecture(archive, path);
}

void NormalizingFlowImpl::load_from(const std::string& path) {
  torch::serialize::InputArchive archive = read_archive(path);
  const FlowArchitecture theirs = recorded_architecture(archive, path);
  const std::string diff = architecture_.differences(theirs);
  if (!diff.empty()) {
    // A sound file that does not fit the input: an input error (exit 2).
    throw ConfigError(path + ": model architecture differs from the configuration (file vs config: " + diff + ")");
  }
  // Load into CPU tensors of the file's dtype (loading copies storage, it
  // does not convert); callers then move the module to their precision.
  c10::IValue dtype;
  const bool single = !archive.try_read(kDtypeKey, dtype) || dtype.toStringRef() == "float32";
  to(torch::kCPU, single ? torch::kFloat32 : torch::kFloat64);
  try {
    torch::nn::Module::load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": damaged model file (its parameters cannot be read)");
  }
  c10::IValue recorded;
  if (archive.try_read(kParametersChecksumKey, recorded) && recorded.isString() &&
      recorded.toStringRef() != parameters_checksum(parameters())) {
    throw std::runtime_error(path + ": the parameters do not match the checksum recorded when the model was saved ("
                             + recorded.toStringRef() + "): the file was altered or damaged");
  }
}

}  // namespace flowlat
