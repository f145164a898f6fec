#pragma once
// The independence-Metropolis chain over flow proposals in file order:
// proposal i is accepted with probability min(1, w_i / w_current). It needs
// only log w, so it runs on a stream of log weights.
#include <cstdint>
#include <random>

namespace flowlat {

class IndependenceMetropolis {
 public:
  explicit IndependenceMetropolis(uint64_t seed) : rng_(seed) {}

  struct Step {
    int64_t state;  // index of the configuration the chain holds after the step
    bool accepted;
  };
  // Offers proposal `index` with log weight `log_w`; the first proposal is
  // always taken. Local.
  Step offer(int64_t index, double log_w);

  int64_t accepted_count() const { return accepted_; }
  int64_t steps() const { return steps_; }

 private:
  double uniform();  // in [0, 1), 53 random bits

  std::mt19937_64 rng_;
  int64_t state_ = -1;
  double state_log_w_ = 0;
  int64_t accepted_ = 0;
  int64_t steps_ = 0;
};

}  // namespace flowlat
