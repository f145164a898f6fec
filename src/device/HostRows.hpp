#pragma once
// A batch of ensemble rows copied to host memory in the layout the
// ensemble file stores (EnsembleWriter::write_rows): configurations in the
// given precision, float64 log q and log p. Keeps the copies alive while
// the writer reads them. From a GPU the three copies run asynchronously
// into pinned memory with one synchronisation.
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
  torch::Tensor configs_, log_q_, log_p_;
};

}  // namespace flowlat
