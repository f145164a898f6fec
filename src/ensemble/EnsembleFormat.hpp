#pragma once
// The public ensemble file format (README: "Ensemble files"). One HDF5 file:
//   /configs        [N, L1..Ld] float32|float64 (absent if store_configs: false)
//   /log_q /log_p /log_w   float64 [N]; log_p = -S, log_w = log_p - log_q
//   /sum_phi2 /sum_phi4    float64 [N]: sum_x phi^2 and sum_x phi^4 of each
//                   row (dS/dm2 and dS/dlambda), so that coupling reweighting
//                   and thermodynamic integration need no /configs (absent in
//                   files of flowlat before they were added)
//   /mcmc/state     int64 [N]  configuration held by the chain at step i
//   /mcmc/accepted  uint8 [N]
//   /chain_state/fields  float64 [C, L1..Ld]  HMC only: each chain's exact
//                   field after the last committed round (for --resume)
// Only the first `n_written` rows (root attribute) are valid. HMC files with
// chain_layout = "interleaved" hold row s C + c for kept trajectory s of
// chain c (older ones: chain-major, chain c in rows [c n, (c + 1) n)).
namespace flowlat::ensemble {

inline constexpr const char* kFormat = "flowlat-ensemble";
inline constexpr long kFormatVersion = 1;

inline constexpr const char* kConfigs = "/configs";
inline constexpr const char* kLogQ = "/log_q";
inline constexpr const char* kLogP = "/log_p";
inline constexpr const char* kLogW = "/log_w";
inline constexpr const char* kSumPhi2 = "/sum_phi2";
inline constexpr const char* kSumPhi4 = "/sum_phi4";
// The float64 datasets of one value per row.
inline constexpr const char* kRowColumns[] = {kLogQ, kLogP, kLogW, kSumPhi2, kSumPhi4};
inline constexpr const char* kChainState = "/mcmc/state";
inline constexpr const char* kChainAccepted = "/mcmc/accepted";
inline constexpr const char* kChainFields = "/chain_state/fields";

// Root attribute names.
inline constexpr const char* kNWritten = "n_written";
inline constexpr const char* kNTotal = "n_configs";
inline constexpr const char* kSource = "source";  // "flow" or "hmc"
inline constexpr const char* kChainLayout = "chain_layout";  // "interleaved" (HMC)

}  // namespace flowlat::ensemble
