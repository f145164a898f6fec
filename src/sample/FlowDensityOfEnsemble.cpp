#include "sample/FlowDensityOfEnsemble.hpp"

#include <algorithm>

#include "config/ConfigError.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "flow/NormalizingFlow.hpp"
#include "io/FileChecksum.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {
constexpr int64_t kBatchRows = 1024;

NormalizingFlow checked_model(const std::string& model_path, const std::string& flow_path) {
  const EnsembleReader flow_file = open_ensemble_input(flow_path);
  const std::string recorded =
      flow_file.has_attribute("model_checksum") ? flow_file.attribute_string("model_checksum") : "";
  const std::string actual = file_checksum(model_path);
  if (recorded != actual) {
    throw ConfigError("--model " + model_path + " (checksum " + actual + ") is not the model " + flow_path +
                      " was sampled from (model_checksum " + recorded + "); the bounds need that model");
  }
  NormalizingFlow flow(NormalizingFlowImpl::architecture_of(model_path));
  flow->load_from(model_path);
  flow->to(torch::kFloat64);
  flow->eval();
  for (torch::Tensor& p : flow->parameters()) p.set_requires_grad(false);
  return flow;
}

}  // namespace

std::vector<double> flow_log_q_of_rows(const std::string& model_path, const std::string& flow_path,
                                       const std::string& ensemble_path, const Communicator& comm) {
  std::vector<double> log_q;
  run_collectively(comm, [&] {
    NormalizingFlow flow = checked_model(model_path, flow_path);
    const EnsembleReader reader = open_ensemble_input(ensemble_path);
    if (!reader.has_configs()) {
      throw ConfigError(ensemble_path + ": has no /configs; the flow's log q of its rows needs them");
    }
    if (reader.lattice_shape() != flow->architecture().lattice_shape) {
      throw ConfigError(ensemble_path + ": another lattice than the model " + model_path + "'s");
    }
    const int64_t n = reader.n_written();
    log_q.assign(static_cast<size_t>(n), 0.0);
    const int64_t per_rank = (n + comm.size() - 1) / comm.size();
    const int64_t first = std::min(n, per_rank * comm.rank()), last = std::min(n, first + per_rank);
    std::vector<int64_t> shape{0};
    shape.insert(shape.end(), reader.lattice_shape().begin(), reader.lattice_shape().end());
    torch::NoGradGuard no_grad;
    for (int64_t offset = first; offset < last; offset += kBatchRows) {
      const int64_t count = std::min(kBatchRows, last - offset);
      std::vector<double> configs = reader.read_configs(offset, count);
      shape[0] = count;
      const torch::Tensor x = torch::from_blob(configs.data(), shape, torch::kFloat64);
      const torch::Tensor values = flow->log_q(x).contiguous();
      std::copy_n(values.data_ptr<double>(), count, log_q.begin() + offset);
    }
  });
  // Each row is non-zero on one rank only: the sum gathers them.
  comm.sum_in_place(log_q.data(), static_cast<int>(log_q.size()));
  return log_q;
}

}  // namespace flowlat
