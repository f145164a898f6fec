#include "device/HostRows.hpp"

#include "device/DeviceSelection.hpp"

namespace flowlat {
namespace {

// A host copy in `dtype`: from a device, an asynchronous copy into pinned
// memory (the caller synchronises once for all of them).
torch::Tensor to_host(const torch::Tensor& t, torch::Dtype dtype) {
  if (t.device().is_cpu()) return t.to(dtype).contiguous();
  torch::Tensor host = torch::empty(t.sizes(), t.options().device(torch::kCPU).dtype(dtype).pinned_memory(true));
  host.copy_(t.to(dtype), /*non_blocking=*/true);
  return host;
}

}  // namespace

HostRows::HostRows(int64_t offset, const torch::Tensor& configs, const torch::Tensor& log_q,
                   const torch::Tensor& log_p, Precision precision)
    : offset_(offset),
      configs_(to_host(configs, to_dtype(precision))),
      log_q_(to_host(log_q, torch::kFloat64)),
      log_p_(to_host(log_p, torch::kFloat64)) {
  // Three copies in flight, one wait.
  for (const torch::Tensor* t : {&configs, &log_q, &log_p}) {
    if (t->is_cuda()) {
      torch::cuda::synchronize(t->device().index());
      break;
    }
  }
}

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
