#pragma once
// Wolff's Gamma method for the error of Monte Carlo averages with
// autocorrelations: U. Wolff, "Monte Carlo errors with less errors",
// Comput. Phys. Commun. 156 (2004) 143, hep-lat/0306017, as in his UWerr
// (single replicum or several: independent chains of the same process,
// their autocorrelations summed replicum by replicum, sec. 3.3). Derived quantities f(means) are linearised with a
// numerical gradient (step: the naive error of each primary), the projected
// fluctuations' autocorrelation Gamma_F(t) is summed up to the window W, the
// first W with exp(-W/tau) - tau/sqrt(W N) < 0 where
// tau = S / ln((2 tau_int(W) + 1) / (2 tau_int(W) - 1)), and the O(W/N)
// bias of Gamma_F from the subtracted mean is corrected (paper eq. 49).
#include <cstddef>
#include <functional>
#include <vector>

namespace flowlat {

struct GammaMethodResult {
  double value = 0;           // f of the means (the mean for one primary)
  double error = 0;           // sqrt(2 tau_int Gamma_F(0) / N), bias-corrected
  double error_of_error = 0;  // error sqrt((W + 1/2) / N)
  double tau_int = 0.5;       // integrated autocorrelation time at W
  double tau_int_error = 0;   // 2 tau_int sqrt((W + 1/2 - tau_int) / N) (Madras-Sokal)
  int window = 0;             // W chosen by the automatic windowing
};

// Wolff's default ratio S = tau / tau_int guessed for the windowing.
constexpr double kGammaMethodDefaultS = 1.5;

// Mean of one Markov-chain series with its autocorrelation-aware error.
// A constant series gives error 0 and tau_int 1/2; s_tau = 0 assumes no
// autocorrelation (W = 0). The criterion always closes by W ~ N/e^2, so a
// window that is not << N is the sign of a series too short for its tau.
// Throws std::invalid_argument for N < 2, non-finite data or s_tau < 0, and
// std::runtime_error if the estimated error^2 is not positive. Local.
GammaMethodResult gamma_method(const std::vector<double>& series,
                               double s_tau = kGammaMethodDefaultS);

// Derived quantity f(means of the primaries) of several series measured on
// the same chain ([primary][sample], equal lengths), e.g. a ratio or a Binder
// cumulant. Same conventions and exceptions as above, plus
// std::invalid_argument for no primaries or unequal lengths. Local.
GammaMethodResult gamma_method(const std::vector<std::vector<double>>& primaries,
                               const std::function<double(const std::vector<double>&)>& f,
                               double s_tau = kGammaMethodDefaultS);

// The same for R replicas (independent chains) laid end to end in each
// primary, of lengths `replica_lengths` (each >= 2, summing to the series
// length): Gamma(t) sums lagged products within each replicum only, and
// N is the total length. Local.
GammaMethodResult gamma_method(const std::vector<std::vector<double>>& primaries,
                               const std::function<double(const std::vector<double>&)>& f,
                               const std::vector<std::size_t>& replica_lengths,
                               double s_tau = kGammaMethodDefaultS);

}  // namespace flowlat
