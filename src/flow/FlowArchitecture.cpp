#include "flow/FlowArchitecture.hpp"

namespace flowlat {
namespace {

template <typename T>
void read_if_present(const nlohmann::json& json, const char* key, T& value) {
  if (json.contains(key)) value = json.at(key).get<T>();
}

const char* fourier_name(FourierLayerKind kind) {
  switch (kind) {
    case FourierLayerKind::Diagonal: return "diagonal";
    case FourierLayerKind::Symmetric: return "symmetric";
    case FourierLayerKind::None: break;
  }
  return "none";
}

std::vector<std::string> coupling_names(const std::vector<CouplingKind>& kinds) {
  std::vector<std::string> names;
  for (CouplingKind kind : kinds) names.emplace_back(to_string(kind));
  return names;
}

}  // namespace

FlowArchitecture FlowArchitecture::from_config(const Config& config) {
  FlowArchitecture a;
  const FlowConfig& f = config.flow;
  a.lattice_shape = config.lattice.shape;
  a.n_layers = f.n_layers;
  a.hidden_channels = f.hidden_channels;
  a.kernel_size = f.kernel_size;
  a.final_tanh = f.final_tanh;
  a.coupling = f.coupling;
  a.spline_bins = f.spline_bins;
  a.spline_bound = f.spline_bound;
  a.fourier_layer = f.fourier_layer;
  a.fourier_mass2 = f.fourier_mass2;
  a.equivariance = f.equivariance;
  a.symmetrisation = f.symmetrisation;
  a.ode_layer = f.ode_layer;
  a.ode_pieces = f.ode_pieces;
  a.ode_substeps = f.ode_substeps;
  a.ode_frequencies = f.ode_frequencies;
  a.ode_channels = f.ode_channels;
  return a;
}

CouplingKind FlowArchitecture::coupling_of(int64_t layer) const {
  return coupling[static_cast<size_t>(layer) % coupling.size()];
}

nlohmann::json FlowArchitecture::to_json() const {
  return {{"lattice_shape", lattice_shape},
          {"n_layers", n_layers},
          {"hidden_channels", hidden_channels},
          {"kernel_size", kernel_size},
          {"final_tanh", final_tanh},
          {"coupling", coupling_names(coupling)},
          {"spline_bins", spline_bins},
          {"spline_bound", spline_bound},
          {"fourier_layer", fourier_name(fourier_layer)},
          {"equivariance", equivariance == Equivariance::Z2 ? "z2" : "none"},
          {"symmetrisation", symmetrisation == Symmetrisation::Z2 ? "z2" : "none"},
          {"ode_layer", ode_layer == OdeLayerKind::Global ? "global" : "none"},
          {"ode_pieces", ode_pieces},
          {"ode_substeps", ode_substeps},
          {"ode_frequencies", ode_frequencies},
          {"ode_channels", ode_channels}};
}

FlowArchitecture FlowArchitecture::from_json(const nlohmann::json& json) {
  FlowArchitecture a;
  a.lattice_shape = json.at("lattice_shape").get<std::vector<int64_t>>();
  a.n_layers = json.at("n_layers").get<int64_t>();
  a.hidden_channels = json.at("hidden_channels").get<std::vector<int64_t>>();
  a.kernel_size = json.at("kernel_size").get<int64_t>();
  a.final_tanh = json.at("final_tanh").get<bool>();
  if (json.contains("coupling")) {
    a.coupling.clear();
    for (const auto& name : json.at("coupling")) {
      a.coupling.push_back(name.get<std::string>() == "spline" ? CouplingKind::Spline : CouplingKind::Affine);
    }
  }
  read_if_present(json, "spline_bins", a.spline_bins);
  read_if_present(json, "spline_bound", a.spline_bound);
  std::string fourier = "none", equivariance = "none", symmetrisation = "none";
  read_if_present(json, "fourier_layer", fourier);
  read_if_present(json, "equivariance", equivariance);
  read_if_present(json, "symmetrisation", symmetrisation);
  a.fourier_layer = fourier == "diagonal"    ? FourierLayerKind::Diagonal
                    : fourier == "symmetric" ? FourierLayerKind::Symmetric
                                             : FourierLayerKind::None;
  std::string ode = "none";
  read_if_present(json, "ode_layer", ode);
  a.ode_layer = ode == "global" ? OdeLayerKind::Global : OdeLayerKind::None;
  read_if_present(json, "ode_pieces", a.ode_pieces);
  read_if_present(json, "ode_substeps", a.ode_substeps);
  read_if_present(json, "ode_frequencies", a.ode_frequencies);
  read_if_present(json, "ode_channels", a.ode_channels);
  a.equivariance = equivariance == "z2" ? Equivariance::Z2 : Equivariance::None;
  a.symmetrisation = symmetrisation == "z2" ? Symmetrisation::Z2 : Symmetrisation::None;
  return a;
}

std::string FlowArchitecture::differences(const FlowArchitecture& other, Compare compare) const {
  const nlohmann::json mine = to_json();
  const nlohmann::json theirs = other.to_json();
  std::string text;
  if (compare == Compare::IgnoreLattice && lattice_shape.size() != other.lattice_shape.size()) {  // d-dim kernels
    text = "lattice dimension " + std::to_string(other.lattice_shape.size()) + " vs " +
           std::to_string(lattice_shape.size());
  }
  for (const auto& [key, value] : mine.items()) {
    if (compare == Compare::IgnoreLattice && key == "lattice_shape") continue;
    if (key == "ode_substeps") continue;  // how finely the same model is integrated
    if (theirs.at(key) != value) {
      if (!text.empty()) text += ", ";
      text += key + " " + theirs.at(key).dump() + " vs " + value.dump();
    }
  }
  return text;
}

}  // namespace flowlat
