#include "ensemble/IndependenceMetropolis.hpp"

#include <cmath>

namespace flowlat {

double IndependenceMetropolis::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

IndependenceMetropolis::Step IndependenceMetropolis::offer(int64_t index, double log_w) {
  ++steps_;
  // The first proposal starts the chain; then log u < log w_new - log w_cur.
  const bool accept = state_ < 0 || std::log(uniform()) < log_w - state_log_w_;
  if (accept) {
    state_ = index;
    state_log_w_ = log_w;
    if (steps_ > 1) ++accepted_;
  }
  return {state_, accept};
}

}  // namespace flowlat
