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

// Rows of `sites` values of type T: each value promoted to float64, summed
// in site order.
template <typename T>
void sum_rows(const T* phi, int64_t rows, int64_t sites, double* s2, double* s4) {
  for (int64_t r = 0; r < rows; ++r, phi += sites) {
    double a = 0, b = 0;
    for (int64_t i = 0; i < sites; ++i) {
      const double p2 = static_cast<double>(phi[i]) * static_cast<double>(phi[i]);
      a += p2;
      b += p2 * p2;
    }
    s2[r] = a;
    s4[r] = b;
  }
}

// sum_x phi^2 and sum_x phi^4 of each row in float64, in site order: the
// same sums on every rank, device and batch split. A contiguous CPU tensor
// is read in place (no float64 copy on the sampling path).
void moment_sums(const torch::Tensor& configs, torch::Tensor& sum_phi2, torch::Tensor& sum_phi4) {
  const int64_t rows = configs.size(0);
  sum_phi2 = torch::zeros({rows}, torch::kFloat64);
  sum_phi4 = torch::zeros({rows}, torch::kFloat64);
  if (rows == 0) return;
  torch::Tensor x = configs.to(torch::kCPU).contiguous();
  if (x.scalar_type() != torch::kFloat32) x = x.to(torch::kFloat64);
  const int64_t sites = x.numel() / rows;
  double* s2 = sum_phi2.data_ptr<double>();
  double* s4 = sum_phi4.data_ptr<double>();
  if (x.scalar_type() == torch::kFloat32) {
    sum_rows(x.data_ptr<float>(), rows, sites, s2, s4);
  } else {
    sum_rows(x.data_ptr<double>(), rows, sites, s2, s4);
  }
}

}  // namespace

HostRows::HostRows(int64_t offset, const torch::Tensor& configs, const torch::Tensor& log_q,
                   const torch::Tensor& log_p, Precision precision)
    : offset_(offset),
      configs_(to_host(configs, to_dtype(precision))),
      log_q_(to_host(log_q, torch::kFloat64)),
      log_p_(to_host(log_p, torch::kFloat64)) {
  moment_sums(configs, sum_phi2_, sum_phi4_);
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
  rows.sum_phi2 = rows.count ? sum_phi2_.data_ptr<double>() : nullptr;
  rows.sum_phi4 = rows.count ? sum_phi4_.data_ptr<double>() : nullptr;
  return rows;
}

}  // namespace flowlat
