#pragma once
// The learning-rate schedule (train.lr_schedule): a pure function of the
// step, so a restarted run continues it exactly without stored state.
//   constant: lr
//   step:     lr * lr_decay_factor^floor((step - 1) / lr_decay_every)
//   cosine:   lr_min + (lr - lr_min) (1 + cos(pi (step - 1) / (steps - 1))) / 2
// times a linear warm-up (step / warmup_steps) over the first warmup_steps.
#include <cstdint>

#include "config/Config.hpp"

namespace flowlat {

// The learning rate of step `step` (1-based). Local.
double learning_rate(const TrainConfig& train, int64_t step);

}  // namespace flowlat
