#pragma once
// What a model file must match to be loaded: lattice and network shape.
// Recorded as JSON in every model file; fields a file written before they
// existed lacks take their defaults (the tutorial's real NVP).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "config/Config.hpp"

namespace flowlat {

struct FlowArchitecture {
  std::vector<int64_t> lattice_shape;
  int64_t n_layers = 16;
  std::vector<int64_t> hidden_channels{8, 8};
  int64_t kernel_size = 3;
  bool final_tanh = true;
  std::vector<CouplingKind> coupling{CouplingKind::Affine};  // repeated over the layers
  int64_t spline_bins = 8;
  double spline_bound = 4.0;
  FourierLayerKind fourier_layer = FourierLayerKind::None;
  double fourier_mass2 = 1.0;  // initialisation only: not part of what must match
  Equivariance equivariance = Equivariance::None;
  Symmetrisation symmetrisation = Symmetrisation::None;
  OdeLayerKind ode_layer = OdeLayerKind::None;
  int64_t ode_pieces = 8;
  int64_t ode_substeps = 1;  // integration only: not part of what must match
  int64_t ode_frequencies = 16;
  int64_t ode_channels = 16;

  static FlowArchitecture from_config(const Config& config);
  // The coupling of layer `layer` (the list repeats). Local.
  CouplingKind coupling_of(int64_t layer) const;
  nlohmann::json to_json() const;
  static FlowArchitecture from_json(const nlohmann::json& json);
  // Human-readable list of differing fields, empty when equal; the lattice
  // shape is left out with IgnoreLattice (transfer across volumes). Local.
  enum class Compare { Everything, IgnoreLattice };
  std::string differences(const FlowArchitecture& other, Compare compare = Compare::Everything) const;
};

}  // namespace flowlat
