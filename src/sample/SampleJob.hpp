#pragma once
// The `flowlat sample` job: a trained flow generates sample.n_configs
// configurations in batches of sample.batch_size, round-robin over ranks,
// into one ensemble file. Batch b's prior draws come from the stream keyed
// by (sample.seed, b), never by rank, so the file does not depend on the
// number of ranks that wrote it.
#include <string>

#include <nlohmann/json.hpp>

#include "config/Config.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

enum class SampleStart { Fresh, Resume };

struct SampleOptions {
  std::string model_path;   // empty: <run.output_dir>/model.pt
  std::string output_path;  // empty: <run.output_dir>/<sample.output>
  OverwritePolicy overwrite = OverwritePolicy::Refuse;
  SampleStart start = SampleStart::Fresh;
};

struct SampleTiming {
  double total_seconds = 0;
  double io_seconds = 0;  // HDF5 writes and flushes (rank 0's view)
  double summary_seconds = 0;
};

struct SampleResult {
  SampleTiming timing;
  // Rank 0: ensemble, N, ESS, IMH acceptance, log Z, rate, provenance (the
  // --json document of `flowlat sample`); null on the other ranks.
  nlohmann::json summary;
};

// Runs the whole sampling job; rank 0 prints. Collective.
SampleResult run_sampling(const Config& config, const Communicator& comm, const SampleOptions& options);

std::string default_ensemble_path(const Config& config);
std::string default_model_path(const Config& config);
// The model and ensemble files of a job: the options', else the defaults. Local.
std::string sample_model_path(const Config& config, const SampleOptions& options);
std::string sample_output_path(const Config& config, const SampleOptions& options);

}  // namespace flowlat
