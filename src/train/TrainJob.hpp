#pragma once
// The `flowlat train` job: prepare the run directory (or continue one from
// its checkpoint), train, report progress, write history.csv, checkpoints
// and model.pt; stop resumably on a signal or at run.max_walltime.
#include <nlohmann/json.hpp>

#include "config/Config.hpp"
#include "job/RunDirectory.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// Fresh: a new run (run.resume: auto still continues from a checkpoint if
// there is one). Resume: continue from the newest valid checkpoint; refused
// when there is none.
enum class TrainStart { Fresh, Resume };

// Runs the whole training job and returns its results on rank 0 (files,
// steps, time, last steps' loss and batch ESS, best held-out ESS,
// provenance: the --json document; null on the other ranks). Collective;
// rank 0 prints and writes. Throws CollectiveError(StoppedResumable) after a
// checkpoint when stopped by a signal or run.max_walltime.
nlohmann::json run_training(const Config& config, const Communicator& comm, OverwritePolicy overwrite,
                            TrainStart start = TrainStart::Fresh);

}  // namespace flowlat
