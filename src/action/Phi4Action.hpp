#pragma once
// The tutorial's lattice phi^4 action (normalisation in the README):
//   S[phi] = sum_x [ sum_mu phi(x) (2 phi(x) - phi(x+mu) - phi(x-mu))
//                    + m2 phi(x)^2 + lambda phi(x)^4 ]
// with periodic boundaries. log p = -S (unnormalised).
#include <torch/torch.h>

namespace flowlat {

class Phi4Action {
 public:
  Phi4Action(double m2, double lambda) : m2_(m2), lambda_(lambda) {}

  // S of each configuration of a batch [B, L1, ..., Ld], as float64 [B],
  // differentiable w.r.t. phi whatever its dtype. Local.
  torch::Tensor operator()(const torch::Tensor& phi) const;

  double m2() const { return m2_; }
  double lambda() const { return lambda_; }

 private:
  double m2_;
  double lambda_;
};

}  // namespace flowlat
