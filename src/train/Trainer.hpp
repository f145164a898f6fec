#pragma once
// Reverse-KL training of a NormalizingFlow, data-parallel over the ranks of
// a communicator. Every rank holds the same model: rank 0's initial
// parameters are broadcast, gradients are summed with one fused allreduce.
#include <torch/torch.h>

#include <memory>

#include "action/Phi4Action.hpp"
#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"
#include "job/StopMonitor.hpp"
#include "train/BatchShard.hpp"
#include "train/GradientSync.hpp"
#include "train/HeldOutEvaluation.hpp"

namespace flowlat {

struct StepMetrics {
  int64_t step = 0;     // 1-based index of the step just taken
  double loss = 0;      // mean(log q - log p) over the global batch
  double ess = 0;       // ESS of the global batch
  double seconds = 0;   // wall time of the step on this rank, held-out evaluation included
  bool skipped = false; // non-finite loss or gradient on some rank
  double lr = 0;        // learning rate of the step
  double eval_ess = std::nan("");         // held-out ESS after the step (NaN: not evaluated)
  double eval_acceptance = std::nan("");  // held-out chain acceptance after the step
  StopRequest stop = StopRequest::None;   // agreed by all ranks: stop after this step
  torch::Tensor log_w;  // this rank's log weights (log p - log q), float64; not kept in the history
};

// The parameters with the best held-out ESS so far (train.eval_every).
struct BestModel {
  double ess = -1;   // -1: none yet
  int64_t step = 0;
  std::vector<torch::Tensor> parameters;  // copies, in flow->parameters() order
};

class Trainer {
 public:
  // Builds the flow from train.seed (or from train.init_from), checks every
  // rank built the same architecture, broadcasts rank 0's parameters.
  // Collective.
  Trainer(const Config& config, Communicator comm, torch::Device device);

  // One optimisation step on the global batch, then a held-out evaluation
  // when the step is a multiple of train.eval_every. `local_stop` (this
  // rank's signal or wall-time request) travels in the step's existing
  // allreduce, so every rank returns the same metrics.stop. Collective.
  StepMetrics step(StopRequest local_stop = StopRequest::None);

  NormalizingFlow& flow() { return flow_; }
  torch::optim::Adam& optimizer() { return *optimizer_; }
  int64_t steps_done() const { return steps_done_; }
  void set_steps_done(int64_t steps) { steps_done_ = steps; }
  int64_t consecutive_skips() const { return consecutive_skips_; }
  void set_consecutive_skips(int64_t skips) { consecutive_skips_ = skips; }
  const BestModel& best() const { return best_; }
  void set_best(BestModel best) { best_ = std::move(best); }
  const BatchShard& shard() const { return shard_; }
  const Communicator& comm() const { return comm_; }
  // Throws CollectiveError if parameters differ between ranks. Collective.
  void verify_ranks_agree() const;

 private:
  void check_same_architecture() const;
  // Rescales the (summed) gradients to norm train.grad_clip if above. Local.
  void clip_gradients(const torch::Tensor& fused);
  void evaluate(StepMetrics& metrics);
  // The step at which the test hook FLOWLAT_FAULT_RANK/STEP makes this rank fail; 0: never.
  static int64_t injected_fault_step(int rank);

  const Config& config_;
  Communicator comm_;
  torch::Device device_;
  torch::TensorOptions options_;
  Phi4Action action_;
  NormalizingFlow flow_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<GradientSync> sync_;
  BatchShard shard_;
  BestModel best_;
  int64_t steps_done_ = 0;
  int64_t consecutive_skips_ = 0;
  int64_t fault_step_ = 0;
};

}  // namespace flowlat
