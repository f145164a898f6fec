#pragma once
// The `flowlat hmc` job: the hybrid Monte Carlo baseline (HmcSampler) for
// the configuration's action, written as an ensemble file that `flowlat
// analyze` reads like a flow's (source = "hmc", log_q = log_p = -S so log_w
// = 0 exactly, /mcmc/state = row index, /mcmc/accepted = the trajectory's
// Metropolis decision). Every parameter comes from the `hmc:` section; at
// the end rank 0 prints the acceptance, <exp(-dH)> and the observables
// with tau_int of each.
#include <string>

#include <nlohmann/json.hpp>

#include "config/Config.hpp"
#include "ensemble/EnsembleWriter.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// Resume: continue a file stopped by a signal, run.max_walltime or a kill
// from its last committed round.
enum class HmcStart { Fresh, Resume };

struct HmcOptions {
  std::string output_path;  // empty: <run.output_dir>/<hmc.output>
  OverwritePolicy overwrite = OverwritePolicy::Refuse;
  HmcStart start = HmcStart::Fresh;
  // Skip: the file keeps log p, the sums of phi^2 and phi^4 and the chain
  // states but no /configs (thermodynamic integration's nodes need only the
  // sums; a fresh file only, a resumed one keeps its layout).
  ConfigStorage storage = ConfigStorage::Store;
};

// Runs the whole job: thermalisation (and tuning), then rounds of
// trajectories, each committed with the chains' fields so that a stopped
// or killed job continues bitwise with --resume. Throws
// CollectiveError(StoppedResumable) when stopped by a signal or
// run.max_walltime. Collective; rank 0 prints and returns the results
// (acceptance, energy violation, the analysis as `flowlat analyze --json`
// has it, provenance: the --json document); null on the other ranks.
// The ensemble file the job writes: options.output_path, else
// <run.output_dir>/<hmc.output>. Local.
std::string hmc_output_path(const Config& config, const HmcOptions& options);

nlohmann::json run_hmc(const Config& config, const Communicator& comm, const HmcOptions& options);

}  // namespace flowlat
