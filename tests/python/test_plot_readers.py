#!/usr/bin/env python3
"""Tests of tools/flowlat_results.py, the readers and numbers behind the plots: the
ensemble reader (slicing at n_written), the slope-1 offset, the ESS, the jackknife and
the value ± error formatting.

Run as `python3 tests/python/test_plot_readers.py` (exit status non-zero on failure).
The synthetic ensemble comes from plot_fixtures.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("numpy")

import unittest

import numpy as np

from plot_fixtures import L, N, EnsembleFixture  # noqa: E402
from project_paths import ROUNDING  # noqa: E402
import flowlat_results  # noqa: E402


class EnsembleReaders(EnsembleFixture, unittest.TestCase):
    """tools/flowlat_results.py on a synthetic flow ensemble."""

    # ---- helpers and the script's own numbers ---------------------------------------

    def test_pm_keeps_two_significant_digits_of_the_error(self):
        pm = flowlat_results.pm
        self.assertEqual(pm(0.7449660457761065, 0.003727039509137134), "0.7450 ± 0.0037")
        self.assertEqual(pm(9.291285298290807, 0.0007704027635858947), "9.29129 ± 0.00077")
        self.assertEqual(pm(123.4, 12.0), "123 ± 12")
        self.assertEqual(pm(float("nan"), 0.1), "n/a")
        self.assertEqual(pm(1.5, float("nan")), "1.5 ± ?")

    def test_reader_slices_n_written(self):
        ens = flowlat_results.load_ensemble(self.ens)
        self.assertEqual(ens["n"], N)
        np.testing.assert_allclose(ens["log_p"], -self.S, rtol=ROUNDING)
        np.testing.assert_allclose(ens["log_w"], -self.S - self.log_q, rtol=ROUNDING)
        M, P = flowlat_results.config_observables(self.ens, ens["n"])
        np.testing.assert_allclose(M, self.phi.sum(axis=(1, 2)), rtol=ROUNDING, atol=ROUNDING)
        self.assertEqual(P.shape, (N, L))

    def test_slope1_offset(self):
        ens = flowlat_results.load_ensemble(self.ens)
        b = flowlat_results.slope1_offset(-ens["log_p"], -ens["log_q"])
        self.assertAlmostEqual(b, np.mean(self.S) - np.mean(-self.log_q), places=9)
        # With log w = log p - log q = -S - log q, b = -mean(log w).
        self.assertAlmostEqual(b, -np.mean(ens["log_w"]), places=9)

    def test_ess(self):
        ess = flowlat_results.effective_sample_size
        self.assertAlmostEqual(ess(np.full(10, 3.25)), 1.0, places=12)
        lw = np.log(np.array([1.0, 3.0]))  # (1+3)^2 / (2 (1+9)) = 0.8
        self.assertAlmostEqual(ess(lw), 0.8, places=12)

    def test_jackknife_of_mean_is_standard_error(self):
        x = self.S
        mean, err = flowlat_results.jackknife(lambda i: np.mean(x[i]), N, N)
        self.assertAlmostEqual(float(mean), np.mean(x), places=10)
        self.assertAlmostEqual(float(err), np.std(x, ddof=1) / np.sqrt(N), places=8)


if __name__ == "__main__":
    unittest.main(verbosity=2)
