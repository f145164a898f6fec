#pragma once
// The `flowlat run` job, the whole pipeline: train, sample, analyze, then
// the plots (tools/plot_training.py, tools/plot_ensemble.py) when Python
// with matplotlib and h5py is there, else the commands that make them.
#include <string>

#include <nlohmann/json.hpp>

#include "config/Config.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// Resume: continue training from its newest checkpoint and sampling from
// the rows written.
enum class RunStart { Fresh, Resume };

struct RunOptions {
  std::string hmc_path;  // HMC ensemble shown beside the flow in the plots; empty: none
  RunStart start = RunStart::Fresh;
  OverwritePolicy overwrite = OverwritePolicy::Refuse;
};

// Runs the pipeline. Collective; rank 0 prints, plots and returns the
// results: {"train": ..., "sample": ... (run_training's and run_sampling's),
// "analysis": (as `flowlat analyze --json`), "plots": [PNG paths] (empty
// when not made)}, the --json document; null on the other ranks.
nlohmann::json run_pipeline(const Config& config, const Communicator& comm, const RunOptions& options);

}  // namespace flowlat
