#include "train/LearningRate.hpp"

#include <cmath>

namespace flowlat {

double learning_rate(const TrainConfig& train, int64_t step) {
  const double done = static_cast<double>(step - 1);
  double lr = train.lr;
  switch (train.lr_schedule) {
    case LrSchedule::Constant: break;
    case LrSchedule::Step:
      lr *= std::pow(train.lr_decay_factor, std::floor(done / static_cast<double>(train.lr_decay_every)));
      break;
    case LrSchedule::Cosine: {
      const double span = std::max<double>(1.0, static_cast<double>(train.steps - 1));
      const double fraction = std::min(1.0, done / span);
      lr = train.lr_min + (train.lr - train.lr_min) * 0.5 * (1.0 + std::cos(M_PI * fraction));
      break;
    }
  }
  if (step <= train.warmup_steps) lr *= static_cast<double>(step) / static_cast<double>(train.warmup_steps);
  return lr;
}

}  // namespace flowlat
