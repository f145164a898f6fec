#pragma once
// An HMC file's rows as the Gamma method's replicas: n_chains independent
// chains of equal length, stored interleaved (row s C + c, the current
// layout) or chain after chain (older files). Used by the chain estimator of
// `analyze` and by the log Z bracket's upper bound.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ensemble/EnsembleReader.hpp"

namespace flowlat {

struct ReplicaLayout {
  int64_t chains = 1;
  int64_t length = 0;         // rows per chain
  bool interleaved = false;   // row s C + c; otherwise chain c in one block
  bool separable = false;     // more than one chain, N = C x length with length >= 2
  // The Gamma method's replica lengths: C x length, or {N} when not separable.
  std::vector<std::size_t> lengths() const;
};

// The layout of `n_rows` rows of `reader` holding `chains` chains (the
// file's n_chains attribute, or 1). Local.
ReplicaLayout replica_layout(const EnsembleReader& reader, int64_t n_rows, int64_t chains);

// `rows` chain by chain (chain 0's rows first); unchanged when the layout
// is not interleaved or not separable. Local.
template <class T>
std::vector<T> chain_major(const std::vector<T>& rows, const ReplicaLayout& layout) {
  if (!layout.separable || !layout.interleaved) return rows;
  std::vector<T> ordered;
  ordered.reserve(rows.size());
  for (int64_t c = 0; c < layout.chains; ++c) {
    for (int64_t s = 0; s < layout.length; ++s) ordered.push_back(rows[static_cast<size_t>(s * layout.chains + c)]);
  }
  return ordered;
}

}  // namespace flowlat
