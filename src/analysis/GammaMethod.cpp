#include "analysis/GammaMethod.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace flowlat {
namespace {

constexpr double kPi = 3.14159265358979323846;

using Complex = std::complex<double>;

// Spelled out: std::complex's operator* takes a slow NaN/Inf-recovery path.
Complex times(Complex x, Complex y) {
  return {x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real()};
}

// Radix-2 FFTs, hand-written because no library of the project but LibTorch
// has one, and direct sums for Gamma(t) cost O(N W) with W up to ~N/7.
// Recursive on contiguous halves so that sub-transforms stay in cache.
// twiddle[k] = exp(-2 pi i k / m); a sub-transform of length len uses every
// (m/len)-th entry. The forward transform (decimation in frequency) leaves
// the spectrum in bit-reversed order and the inverse (decimation in time)
// takes it so, which is all a pointwise |X|^2 needs: no permutation.
void fft_forward(Complex* a, std::size_t len, const std::vector<Complex>& twiddle,
                 std::size_t stride) {
  if (len < 2) return;
  const std::size_t half = len / 2;
  for (std::size_t k = 0; k < half; ++k) {
    const Complex u = a[k], v = a[k + half];
    a[k] = u + v;
    a[k + half] = times(u - v, twiddle[k * stride]);
  }
  fft_forward(a, half, twiddle, 2 * stride);
  fft_forward(a + half, half, twiddle, 2 * stride);
}

// Unnormalised inverse of fft_forward.
void fft_inverse(Complex* a, std::size_t len, const std::vector<Complex>& twiddle,
                 std::size_t stride) {
  if (len < 2) return;
  const std::size_t half = len / 2;
  fft_inverse(a, half, twiddle, 2 * stride);
  fft_inverse(a + half, half, twiddle, 2 * stride);
  for (std::size_t k = 0; k < half; ++k) {
    const Complex u = a[k], v = times(a[k + half], std::conj(twiddle[k * stride]));
    a[k] = u + v;
    a[k + half] = u - v;
  }
}

// sum_i d_i d_{i+t} of one replicum for t = 1..t_max, through the
// zero-padded FFT, added to `sums`.
void add_lagged_products(const double* d, std::size_t n, std::size_t t_max, std::vector<double>& sums) {
  std::size_t m = 1;
  while (m < n + t_max) m <<= 1;  // no circular wrap-around up to lag t_max
  // Exact twiddles from a table rather than a recurrence, which drifts.
  std::vector<Complex> twiddle(m / 2);
  for (std::size_t k = 0; k < m / 2; ++k) twiddle[k] = std::polar(1.0, -2.0 * kPi * k / m);
  std::vector<Complex> a(m);
  std::copy(d, d + n, a.begin());
  fft_forward(a.data(), m, twiddle, 1);
  for (Complex& z : a) z = std::norm(z);
  fft_inverse(a.data(), m, twiddle, 1);
  for (std::size_t t = 1; t <= t_max && t < n; ++t) sums[t] += a[t].real() / m;
}

// Gamma(t) = sum_r sum_i d^r_i d^r_{i+t} / sum_r (N_r - t) for t = 0..t_max
// over the replicas (independent chains) laid end to end in d (Wolff eq. 31
// and its replica form, sec. 3.3); Gamma(0) summed directly for full precision.
std::vector<double> autocovariance(const std::vector<double>& d, const std::vector<std::size_t>& lengths,
                                   std::size_t t_max) {
  std::vector<double> gamma(t_max + 1, 0.0);
  std::size_t first = 0;
  for (std::size_t length : lengths) {
    if (t_max > 0) add_lagged_products(d.data() + first, length, t_max, gamma);
    first += length;
  }
  for (std::size_t t = 1; t <= t_max; ++t) {
    std::size_t pairs = 0;
    for (std::size_t length : lengths) pairs += length > t ? length - t : 0;
    gamma[t] = pairs > 0 ? gamma[t] / static_cast<double>(pairs) : 0.0;
  }
  double sum_sq = 0;
  for (double x : d) sum_sq += x * x;
  gamma[0] = sum_sq / static_cast<double>(d.size());
  return gamma;
}

// Wolff's automatic window (eq. 52): the first W with g(W) < 0. With
// s = W/tau, g(W) < 0 iff s e^-s < sqrt(W/N); as s e^-s <= 1/e, every
// W > N/e^2 qualifies whatever tau. The throw guards that argument only.
std::size_t automatic_window(const std::vector<double>& gamma, std::size_t n, double s_tau) {
  double rho_sum = 0;  // tau_int(W) - 1/2
  for (std::size_t w = 1; w < gamma.size(); ++w) {
    rho_sum += gamma[w] / gamma[0];
    const double tau = rho_sum <= 0 ? std::numeric_limits<double>::epsilon()
                                    : s_tau / std::log((rho_sum + 1.0) / rho_sum);
    if (std::exp(-static_cast<double>(w) / tau) - tau / std::sqrt(static_cast<double>(w) * n) <
        0) {
      return w;
    }
  }
  throw std::runtime_error("gamma_method: the automatic window did not close up to W = " +
                           std::to_string(gamma.size() - 1) + " for N = " + std::to_string(n));
}

// Error analysis of the projected fluctuations delpro of a quantity `value`,
// the replicas of the given lengths laid end to end.
GammaMethodResult analyse(double value, const std::vector<double>& delpro, const std::vector<std::size_t>& lengths,
                          double s_tau) {
  GammaMethodResult result;
  result.value = value;
  const std::size_t n = delpro.size();
  if (std::all_of(delpro.begin(), delpro.end(), [](double x) { return x == 0.0; })) {
    return result;  // no fluctuations: error 0, tau_int 1/2
  }
  // Lags past N/e^2 + 1 are never needed (see automatic_window); Wolff's
  // UWerr stops at N/2 (here: half the shortest replicum).
  const std::size_t shortest = *std::min_element(lengths.begin(), lengths.end());
  const std::size_t t_max = std::min(shortest / 2, static_cast<std::size_t>(n / std::exp(2.0)) + 2);
  const std::vector<double> gamma = autocovariance(delpro, lengths, s_tau == 0 ? 0 : t_max);
  const std::size_t w = s_tau == 0 || t_max == 0 ? 0 : automatic_window(gamma, n, s_tau);
  double c = gamma[0];
  for (std::size_t t = 1; t <= w; ++t) c += 2.0 * gamma[t];
  if (!(c > 0)) {
    throw std::runtime_error("gamma_method: estimated error^2 = " + std::to_string(c / n) +
                             " is not positive at W = " + std::to_string(w));
  }
  // Subtracting the sample mean biases every Gamma(t) by -C_F/N (eq. 49;
  // with R replicas the bias is the same to this order).
  const double shift = c / n;
  c += (2.0 * w + 1.0) * shift;
  const double gamma0 = gamma[0] + shift;
  result.error = std::sqrt(c / n);
  result.tau_int = c / (2.0 * gamma0);
  result.error_of_error = result.error * std::sqrt((w + 0.5) / n);
  result.tau_int_error =
      2.0 * result.tau_int * std::sqrt(std::max(0.0, w + 0.5 - result.tau_int) / n);
  result.window = static_cast<int>(w);
  return result;
}

void validate_length_and_s(std::size_t n, double s_tau) {
  if (n < 2) {
    throw std::invalid_argument("gamma_method: series of length " + std::to_string(n) +
                                " is too short; at least 2 samples are needed");
  }
  if (!(s_tau >= 0) || !std::isfinite(s_tau)) {
    throw std::invalid_argument("gamma_method: S = " + std::to_string(s_tau) +
                                " is outside the allowed range [0, inf)");
  }
}

void validate(const std::vector<std::vector<double>>& primaries, double s_tau) {
  if (primaries.empty()) throw std::invalid_argument("gamma_method: no primary series given");
  const std::size_t n = primaries[0].size();
  validate_length_and_s(n, s_tau);
  for (std::size_t a = 1; a < primaries.size(); ++a) {
    if (primaries[a].size() != n) {
      throw std::invalid_argument("gamma_method: primary series " + std::to_string(a) + " has " +
                                  std::to_string(primaries[a].size()) +
                                  " samples but series 0 has " + std::to_string(n));
    }
  }
}

// The mean, exactly the value for a constant series so that its deviations
// vanish exactly (rounding would otherwise fake a tiny correlated signal).
double exact_mean(const std::vector<double>& x, std::size_t index) {
  long double sum = 0;
  for (double v : x) sum += v;
  if (!std::isfinite(static_cast<double>(sum))) {
    throw std::invalid_argument("gamma_method: primary series " + std::to_string(index) +
                                " contains non-finite values");
  }
  if (std::all_of(x.begin(), x.end(), [&x](double v) { return v == x[0]; })) return x[0];
  return static_cast<double>(sum / x.size());
}

std::vector<double> deviations(const std::vector<double>& x, double mean) {
  std::vector<double> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - mean;
  return d;
}

// delpro_i = sum_a df/da_a (a_{a,i} - abar_a): the linearised fluctuation of
// f, by central differences with step h_a = naive error of primary a (UWerr).
std::vector<double> projected_fluctuations(
    const std::vector<std::vector<double>>& primaries, const std::vector<double>& means,
    const std::function<double(const std::vector<double>&)>& f) {
  const std::size_t n = primaries[0].size();
  std::vector<double> delpro(n, 0.0);
  std::vector<double> shifted = means;
  for (std::size_t a = 0; a < primaries.size(); ++a) {
    const std::vector<double> d = deviations(primaries[a], means[a]);
    double sum_sq = 0;
    for (double x : d) sum_sq += x * x;
    const double h = std::sqrt(sum_sq / n / n);
    if (h == 0) continue;  // constant primary: it cannot contribute
    const double up = means[a] + h, down = means[a] - h;
    shifted[a] = up;
    const double f_up = f(shifted);
    shifted[a] = down;
    const double f_down = f(shifted);
    shifted[a] = means[a];
    const double grad = (f_up - f_down) / (up - down);
    if (!std::isfinite(grad)) {
      throw std::runtime_error("gamma_method: f is not finite near the means (derivative by "
                               "primary " + std::to_string(a) + ")");
    }
    for (std::size_t i = 0; i < n; ++i) delpro[i] += grad * d[i];
  }
  return delpro;
}

}  // namespace

GammaMethodResult gamma_method(const std::vector<double>& series, double s_tau) {
  validate_length_and_s(series.size(), s_tau);
  const double mean = exact_mean(series, 0);
  return analyse(mean, deviations(series, mean), {series.size()}, s_tau);
}

GammaMethodResult gamma_method(const std::vector<std::vector<double>>& primaries,
                               const std::function<double(const std::vector<double>&)>& f,
                               double s_tau) {
  return gamma_method(primaries, f, {primaries.empty() ? 0 : primaries[0].size()}, s_tau);
}

GammaMethodResult gamma_method(const std::vector<std::vector<double>>& primaries,
                               const std::function<double(const std::vector<double>&)>& f,
                               const std::vector<std::size_t>& replica_lengths, double s_tau) {
  validate(primaries, s_tau);
  std::size_t total = 0;
  for (std::size_t length : replica_lengths) {
    if (length < 2) throw std::invalid_argument("gamma_method: every replicum needs at least 2 samples");
    total += length;
  }
  if (total != primaries[0].size()) {
    throw std::invalid_argument("gamma_method: the replica lengths add up to " + std::to_string(total) +
                                ", not to the " + std::to_string(primaries[0].size()) + " samples");
  }
  std::vector<double> means(primaries.size());
  for (std::size_t a = 0; a < primaries.size(); ++a) means[a] = exact_mean(primaries[a], a);
  return analyse(f(means), projected_fluctuations(primaries, means, f), replica_lengths, s_tau);
}

}  // namespace flowlat
