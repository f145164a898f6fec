#include "device/HostRows.hpp"

#include "device/DeviceSelection.hpp"

namespace flowlat {

HostRows::HostRows(int64_t offset, const torch::Tensor& configs, const torch::Tensor& log_q,
                   const torch::Tensor& log_p, Precision precision)
    : offset_(offset),
      configs_(configs.to(torch::kCPU, to_dtype(precision)).contiguous()),
      log_q_(log_q.to(torch::kCPU, torch::kFloat64).contiguous()),
      log_p_(log_p.to(torch::kCPU, torch::kFloat64).contiguous()) {}

EnsembleRows HostRows::view() const {
  EnsembleRows rows;
  rows.offset = offset_;
  rows.count = log_q_.numel();
  rows.configs = rows.count ? configs_.data_ptr() : nullptr;
  rows.log_q = rows.count ? log_q_.data_ptr<double>() : nullptr;
  rows.log_p = rows.count ? log_p_.data_ptr<double>() : nullptr;
  return rows;
}

}  // namespace flowlat
