#include "train/Trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "device/DeviceSelection.hpp"
#include "parallel/CollectiveError.hpp"
#include "train/EffectiveSampleSize.hpp"
#include "train/LearningRate.hpp"
#include "train/ReverseKl.hpp"

namespace flowlat {

Trainer::Trainer(const Config& config, Communicator comm, torch::Device device)
    : config_(config),
      comm_(comm),
      device_(device),
      options_(torch::TensorOptions().dtype(to_dtype(config.run.precision)).device(device)),
      action_(config.action.m2, config.action.lambda),
      shard_(BatchShard::of(config.train.batch_size, comm.rank(), comm.size())),
      fault_step_(injected_fault_step(comm.rank())) {
  if (config.train.batch_size < comm.size()) {
    throw CollectiveError("train.batch_size (" + std::to_string(config.train.batch_size) +
                              ") must be at least the number of ranks (" + std::to_string(comm.size()) + ")",
                          ExitCode::InputError);
  }
  torch::manual_seed(config.train.seed);
  flow_ = NormalizingFlow(FlowArchitecture::from_config(config));
  if (!config.train.init_from.empty()) {
    // Transfer: the same network trained on any lattice size.
    // Every rank reads the same file, so every rank fails alike: an input error.
    try {
      NormalizingFlow trained(NormalizingFlowImpl::architecture_of(config.train.init_from));
      trained->load_from(config.train.init_from);
      flow_->initialise_from(*trained);
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      const std::string& file = config.train.init_from;
      const bool names_file = what.compare(0, file.size(), file) == 0;
      throw CollectiveError("train.init_from: " + (names_file ? what : file + ": " + what), ExitCode::InputError);
    }
  }
  flow_->to(device_, options_.dtype().toScalarType());
  check_same_architecture();
  sync_ = std::make_unique<GradientSync>(comm_, flow_->parameters());
  sync_->broadcast_from_root();
  const auto adam = torch::optim::AdamOptions(config.train.lr)
                        .betas(std::make_tuple(config.train.adam_beta1, config.train.adam_beta2));
  optimizer_ = std::make_unique<torch::optim::Adam>(flow_->parameters(), adam);
}

void Trainer::check_same_architecture() const {
  const std::string text = flow_->architecture().to_json().dump() + std::to_string(flow_->parameter_count());
  if (!comm_.all_equal(std::hash<std::string>{}(text))) {
    throw CollectiveError("ranks built different flow architectures (check that every rank reads the same "
                          "configuration)", ExitCode::RuntimeFailure);
  }
}

int64_t Trainer::injected_fault_step(int rank) {
  // Test hook (README: test hooks): FLOWLAT_FAULT_RANK=r FLOWLAT_FAULT_STEP=s
  // makes rank r throw at step s, to check that one failing rank stops the
  // whole job. Read once, here.
  const char* fault_rank = std::getenv("FLOWLAT_FAULT_RANK");
  const char* fault_step = std::getenv("FLOWLAT_FAULT_STEP");
  if (!fault_rank || !fault_step || std::atoi(fault_rank) != rank) return 0;
  return std::atoll(fault_step);
}

void Trainer::clip_gradients(const torch::Tensor& fused) {
  if (config_.train.grad_clip <= 0) return;
  torch::NoGradGuard no_grad;
  // One device-to-host synchronisation: the norm of the summed fused gradient.
  const double norm = fused.to(torch::kFloat64).norm().item<double>();
  if (norm <= config_.train.grad_clip) return;
  for (auto& p : flow_->parameters()) {
    if (p.grad().defined()) p.mutable_grad().mul_(config_.train.grad_clip / norm);
  }
}

void Trainer::evaluate(StepMetrics& metrics) {
  flow_->eval();
  const HeldOutResult held_out = evaluate_held_out(flow_, action_, config_.train, metrics.step, options_, comm_);
  flow_->train();
  metrics.eval_ess = held_out.ess;
  metrics.eval_acceptance = held_out.acceptance;
  if (held_out.ess > best_.ess) {
    best_.ess = held_out.ess;
    best_.step = metrics.step;
    best_.parameters.clear();
    for (const auto& p : flow_->parameters()) best_.parameters.push_back(p.detach().clone());
  }
}

StepMetrics Trainer::step(StopRequest local_stop) {
  const auto start = std::chrono::steady_clock::now();
  StepMetrics metrics;
  metrics.step = steps_done_ + 1;
  if (fault_step_ == metrics.step) {
    throw std::runtime_error("injected fault at step " + std::to_string(fault_step_) + " (FLOWLAT_FAULT_RANK)");
  }
  metrics.lr = learning_rate(config_.train, metrics.step);
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(metrics.lr);
  }

  optimizer_->zero_grad();
  std::vector<uint64_t> keys(static_cast<size_t>(shard_.count));
  for (int64_t i = 0; i < shard_.count; ++i) {
    keys[i] = stream_key(config_.train.seed, StreamPurpose::Training, static_cast<uint64_t>(metrics.step),
                         static_cast<uint64_t>(shard_.begin + i));
  }
  // Weighted by the global batch so that the sum over ranks is the gradient
  // of the global-batch loss, also for uneven shards.
  const ReverseKlBatch batch =
      accumulate_reverse_kl_gradients(flow_, action_, flow_->prior().draw(keys, options_), config_.train.estimator,
                                      static_cast<double>(config_.train.batch_size));
  const torch::Tensor& log_w = batch.log_w;

  const double local_loss = batch.loss.item<double>();
  // One device-to-host synchronisation for every gradient: the fused buffer.
  torch::Tensor fused_gradients = sync_->fused_gradients();
  const bool local_bad = !std::isfinite(local_loss) || !GradientSync::all_finite(fused_gradients);
  // Stop requests ride along in the step's sum allreduce: no extra message.
  std::vector<double> extra{local_loss, local_bad ? 1.0 : 0.0, local_stop == StopRequest::Signal ? 1.0 : 0.0,
                            local_stop == StopRequest::WallTime ? 1.0 : 0.0};
  const WeightSums sums = global_weight_sums(log_w, comm_, &extra);
  metrics.loss = extra[0];
  metrics.skipped = extra[1] > 0;
  metrics.stop = extra[2] > 0 ? StopRequest::Signal : extra[3] > 0 ? StopRequest::WallTime : StopRequest::None;
  metrics.ess = sums.ess();
  metrics.log_w = log_w;

  if (metrics.skipped) {
    optimizer_->zero_grad();
    if (++consecutive_skips_ >= config_.train.max_skipped_steps) {
      throw CollectiveError("training diverged: " + std::to_string(consecutive_skips_) +
                                " consecutive steps with a non-finite loss or gradient (train.max_skipped_steps = " +
                                std::to_string(config_.train.max_skipped_steps) + "); lower train.lr",
                            ExitCode::RuntimeFailure);
    }
  } else {
    consecutive_skips_ = 0;
    sync_->sum_gradients(fused_gradients);
    clip_gradients(fused_gradients);
    optimizer_->step();
  }
  steps_done_ = metrics.step;
  if (steps_done_ % config_.train.check_every == 0) verify_ranks_agree();
  if (config_.train.eval_every > 0 && steps_done_ % config_.train.eval_every == 0) evaluate(metrics);
  metrics.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return metrics;
}

void Trainer::verify_ranks_agree() const {
  if (!comm_.all_equal(sync_->parameter_checksum())) {
    throw CollectiveError("parameters differ between ranks after step " + std::to_string(steps_done_),
                          ExitCode::RuntimeFailure);
  }
}

}  // namespace flowlat
