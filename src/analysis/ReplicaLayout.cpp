#include "analysis/ReplicaLayout.hpp"

#include "ensemble/EnsembleFormat.hpp"

namespace flowlat {

std::vector<std::size_t> ReplicaLayout::lengths() const {
  if (!separable) return {static_cast<std::size_t>(chains * length)};
  return std::vector<std::size_t>(static_cast<size_t>(chains), static_cast<std::size_t>(length));
}

ReplicaLayout replica_layout(const EnsembleReader& reader, int64_t n_rows, int64_t chains) {
  ReplicaLayout layout;
  layout.separable = chains > 1 && n_rows % chains == 0 && n_rows / chains >= 2;
  layout.chains = layout.separable ? chains : 1;
  layout.length = n_rows / layout.chains;
  layout.interleaved = reader.has_attribute(ensemble::kChainLayout) &&
                       reader.attribute_string(ensemble::kChainLayout) == "interleaved";
  return layout;
}

}  // namespace flowlat
