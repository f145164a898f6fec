#include "train/HeldOutEvaluation.hpp"

#include "ensemble/IndependenceMetropolis.hpp"
#include "train/BatchShard.hpp"
#include "train/EffectiveSampleSize.hpp"

namespace flowlat {
namespace {
constexpr int64_t kChunk = 1024;  // configurations per forward pass
}

HeldOutResult evaluate_held_out(NormalizingFlow& flow, const Phi4Action& action, const TrainConfig& train,
                                int64_t step, const torch::TensorOptions& options, const Communicator& comm) {
  torch::NoGradGuard no_grad;
  const BatchShard shard = BatchShard::of(train.eval_size, comm.rank(), comm.size());
  std::vector<double> local;
  local.reserve(static_cast<size_t>(shard.count));
  for (int64_t first = 0; first < shard.count; first += kChunk) {
    const int64_t count = std::min(kChunk, shard.count - first);
    std::vector<uint64_t> keys(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      keys[i] = stream_key(train.seed, StreamPurpose::Evaluation, static_cast<uint64_t>(step),
                           static_cast<uint64_t>(shard.begin + first + i));
    }
    const FlowSample sample = flow->forward(flow->prior().draw(keys, options));
    const torch::Tensor log_w = (-action(sample.x) - sample.log_q).to(torch::kCPU, torch::kFloat64).contiguous();
    local.insert(local.end(), log_w.data_ptr<double>(), log_w.data_ptr<double>() + count);
  }
  HeldOutResult result;
  const torch::Tensor mine = torch::tensor(local, torch::kFloat64);
  result.ess = global_weight_sums(mine, comm).ess();
  // The chain needs the draws in index order: shards are contiguous, so
  // rank order is index order.
  const std::vector<double> all = comm.all_gather(local);
  IndependenceMetropolis chain(stream_key(train.seed, StreamPurpose::Evaluation, static_cast<uint64_t>(step),
                                          ~uint64_t{0}));
  for (size_t i = 0; i < all.size(); ++i) chain.offer(static_cast<int64_t>(i), all[i]);
  result.acceptance = all.size() > 1 ? static_cast<double>(chain.accepted_count()) / (all.size() - 1.0) : 0.0;
  return result;
}

}  // namespace flowlat
