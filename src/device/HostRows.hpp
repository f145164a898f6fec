#pragma once
// A batch of ensemble rows copied to host memory in the layout the
// ensemble file stores (EnsembleWriter::write_rows): configurations in the
// given precision, float64 log q and log p, and each row's float64
// sum_x phi^2 and sum_x phi^4 (summed on the host in site order, from the
// configurations as given, before any rounding to the stored precision).
// Keeps the copies alive while the writer reads them. From a GPU the three
// copies run asynchronously into pinned memory with one synchronisation.
#include <torch/torch.h>

#include "config/Config.hpp"
#include "ensemble/EnsembleWriter.hpp"

namespace flowlat {

class HostRows {
 public:
  // Rows [offset, offset + configs.size(0)) on any device. Local.
  HostRows(int64_t offset, const torch::Tensor& configs, const torch::Tensor& log_q, const torch::Tensor& log_p,
           Precision precision);
  EnsembleRows view() const;

 private:
  int64_t offset_;
  torch::Tensor configs_, log_q_, log_p_, sum_phi2_, sum_phi4_;
};

}  // namespace flowlat
