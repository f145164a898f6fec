#pragma once
// The flow's log q of the configurations of another ensemble (an HMC one of
// the same couplings), for the upper bound E_p[log p - log q] >= log Z of
// `flowlat analyze FLOW.h5 --versus HMC.h5 --model MODEL.pt`
// (analysis/LogZBounds.hpp): the flow's reverse pass, in float64.
#include <string>
#include <vector>

#include "parallel/Communicator.hpp"

namespace flowlat {

// log q(phi_i) of every written row i of `ensemble_path` (its /configs) under
// the model `model_path`, which must be the model the flow ensemble
// `flow_path` was sampled from (its model_checksum; a ConfigError names
// both files otherwise, and a file without configurations). Rows are dealt
// to the ranks in contiguous blocks; every rank returns all of them. Collective.
std::vector<double> flow_log_q_of_rows(const std::string& model_path, const std::string& flow_path,
                                       const std::string& ensemble_path, const Communicator& comm);

}  // namespace flowlat
