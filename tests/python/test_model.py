#!/usr/bin/env python3
"""tools/flowlat_model.py against the C++ flow.

For several architectures (affine, Fourier + Z2-equivariant splines, mixed
couplings with symmetrisation; a non-square lattice; the symmetric Fourier
layer with the continuous layer, alone and with splines in 3d) the real binary trains a
small float64 model and samples an ensemble; Python's log q of the stored
configurations must equal the stored (C++) log q to 1e-10, and Python's own
samples must round-trip (log_prob of a sample = the log q it came with). The
README's Python example ("The model in Python") runs as written on such a model.

Run as `python3 tests/python/test_model.py`; FLOWLAT_BINARY names the
executable (default build/flowlat).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("torch")

import ast
import json
import re
import subprocess
import unittest

import h5py
import torch

from project_paths import FLOWLAT, INPUT, ROOT, TOOLS, scratch_dir  # noqa: E402
import flowlat_model  # noqa: E402

README = os.path.join(ROOT, "README.md")

RECIPES = {
    "affine": ["flow.n_layers=4", "flow.hidden_channels=[6]"],
    "fourier_spline_z2": ["flow.n_layers=2", "flow.hidden_channels=[5, 4]", "flow.coupling=spline",
                          "flow.spline_bins=5", "flow.spline_bound=2.5", "flow.fourier_layer=diagonal",
                          "flow.equivariance=z2"],
    "mixed_symmetrised_6x4": ["lattice.shape=[6,4]", "flow.n_layers=3", "flow.hidden_channels=[4]",
                              "flow.coupling=[spline, affine]", "flow.symmetrisation=z2",
                              "flow.fourier_layer=diagonal"],
    "symmetric_fourier_ode": ["flow.n_layers=0", "flow.fourier_layer=symmetric", "flow.ode_layer=global",
                              "flow.ode_pieces=4", "flow.ode_substeps=2", "flow.ode_frequencies=3", "flow.ode_channels=4"],
    "ode_spline_3d": ["lattice.shape=[4,4,4]", "flow.n_layers=2", "flow.hidden_channels=[4]",
                      "flow.coupling=spline", "flow.fourier_layer=symmetric", "flow.ode_layer=global",
                      "flow.ode_pieces=3", "flow.ode_substeps=4", "flow.ode_frequencies=2", "flow.ode_channels=2"],
}

# log q through the reverse map equals the forward one to rounding for the
# coupling and Fourier layers; the continuous layer's reverse integration
# inverts its forward one only to the RK4 error, O(h^4) (OdeLayer.hpp): up to
# ~3e-4 with one step per piece at the stiffest field allowed, hence the
# substeps of these recipes.
INVERSE_TOLERANCE = {"symmetric_fourier_ode": 1e-5, "ode_spline_3d": 1e-5}


def readme_model_example():
    """The code of the ```python block that follows the README line starting "**The model in
    Python.**" (within that paragraph: before the next bold lead-in or heading), or None."""
    with open(README) as f:
        lines = f.read().splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.startswith("**The model in Python.**")), None)
    if start is None:
        return None
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(("**", "#")):
            return None
        if lines[i].startswith("```"):
            if lines[i].strip() != "```python" or "```" not in lines[i + 1:]:
                return None
            return "\n".join(lines[i + 1:lines.index("```", i + 1)]) + "\n"
    return None


def run_as_a_reader(code):
    """exec the code statement by statement from the repository root, with flowlat_model
    importable only through the code's own sys.path line; (its namespace, (x, log_q) right
    after the statement that calls flow.sample or None, the flowlat_model it imported)."""
    namespace, sampled = {"__name__": "readme_example"}, None
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    saved_module = sys.modules.pop("flowlat_model", None)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p) != TOOLS]
    try:
        os.chdir(ROOT)
        for statement in ast.parse(code).body:
            exec(compile(ast.Module([statement], []), README, "exec"), namespace)
            if "flow.sample(" in ast.unparse(statement):
                sampled = namespace["x"], namespace["log_q"]
        return namespace, sampled, sys.modules.get("flowlat_model")
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        if saved_module is not None:
            sys.modules["flowlat_model"] = saved_module


def flowlat(*arguments):
    subprocess.run([FLOWLAT] + list(arguments), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class PythonModelMatchesCpp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = scratch_dir()
        cls.runs = {}
        for name, overrides in RECIPES.items():
            out = os.path.join(cls.tmp.name, name)
            # A recipe's key replaces the default's (flowlat refuses a key set twice).
            keys = {}
            for o in ["lattice.shape=[4,4]", "train.steps=15", "train.batch_size=16", "train.lr=0.01",
                      "run.precision=float64", "run.device=cpu", "sample.n_configs=256", "sample.batch_size=64",
                      f"run.output_dir={out}"] + overrides:
                keys[o.split("=", 1)[0]] = o
            sets = []
            for o in keys.values():
                sets += ["--set", o]
            flowlat("train", INPUT, *sets)
            flowlat("sample", INPUT, *sets)
            cls.runs[name] = out

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_log_q_of_the_ensemble_equals_the_stored_one(self):
        for name, out in self.runs.items():
            with h5py.File(os.path.join(out, "ensemble.h5"), "r") as f:
                configs = torch.tensor(f["configs"][()])
                stored = torch.tensor(f["log_q"][()])
            self.assertEqual(configs.dtype, torch.float64, name)
            flow = flowlat_model.load(os.path.join(out, "model.pt"), dtype=torch.float64)
            difference = (flow.log_prob(configs) - stored).abs().max().item()
            self.assertLess(difference, INVERSE_TOLERANCE.get(name, 1e-10), name)
            # The layers moved the field: a wrong mask or channel order would not match.
            self.assertGreater((flow.log_prob(configs) - flow.prior_log_prob(configs)).abs().max().item(), 1e-3)

    def test_samples_round_trip(self):
        generator = torch.Generator().manual_seed(5)
        for name, out in self.runs.items():
            flow = flowlat_model.load(os.path.join(out, "model.pt"), dtype=torch.float64)
            x, log_q = flow.sample(64, generator=generator)
            self.assertEqual(list(x.shape[1:]), flow.shape, name)
            self.assertLess((flow.log_prob(x) - log_q).abs().max().item(), INVERSE_TOLERANCE.get(name, 1e-10), name)

    def test_analyze_json_to_stdout_is_the_json_alone(self):
        # `flowlat analyze E --json -`: stdout parses as JSON (tables on stderr), no file named "-".
        out = self.runs["affine"]
        ensemble = os.path.join(out, "ensemble.h5")
        done = subprocess.run([FLOWLAT, "analyze", ensemble, "--json", "-"], cwd=out, check=True,
                              capture_output=True, text=True)
        report = json.loads(done.stdout)
        with h5py.File(ensemble, "r") as f:
            self.assertAlmostEqual(report["ess"], float(f.attrs["ess"]), places=12)
            self.assertEqual(report["n"], int(f.attrs["n_written"]))
        self.assertIn("chi2", done.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "-")))

    def test_readme_example_runs_and_round_trips(self):
        block = readme_model_example()
        self.assertIsNotNone(block, "README.md: no ```python block after "
                                    "'**The model in Python.**'")
        model = os.path.join(self.runs["affine"], "model.pt")  # a 4x4 float64 model
        code, n_paths = re.subn(r'(flowlat_model\.load\()"[^"]*"',
                                lambda m: f"{m.group(1)}{model!r}", block)
        self.assertEqual(n_paths, 1, block)
        torch.manual_seed(11)
        namespace, sampled, example_module = run_as_a_reader(code)
        self.assertEqual(os.path.realpath(example_module.__file__),
                         os.path.realpath(os.path.join(TOOLS, "flowlat_model.py")))
        self.assertIsNotNone(sampled, "the example does not call flow.sample")
        x, log_q = sampled
        self.assertEqual(list(x.shape), [1024, 4, 4])
        self.assertEqual((x.dtype, log_q.dtype), (torch.float64, torch.float64))
        self.assertEqual(list(log_q.shape), [1024])
        self.assertTrue(torch.isfinite(log_q).all())
        self.assertGreater(log_q.std().item(), 0.1)  # distinct configurations, distinct densities
        # The example's last line: log_prob of the samples = the log q they came with.
        self.assertIs(namespace["x"], x)
        self.assertIsNot(namespace["log_q"], log_q)  # recomputed, not the sampled tensor
        self.assertEqual(namespace["log_q"].dtype, torch.float64)
        self.assertLess((namespace["log_q"] - log_q).abs().max().item(), 1e-10)

    def test_float32_evaluation_agrees_to_single_precision(self):
        out = self.runs["fourier_spline_z2"]
        with h5py.File(os.path.join(out, "ensemble.h5"), "r") as f:
            configs = torch.tensor(f["configs"][()])
            stored = torch.tensor(f["log_q"][()])
        flow = flowlat_model.load(os.path.join(out, "model.pt"), dtype=torch.float32)
        self.assertLess((flow.log_prob(configs) - stored).abs().max().item(), 1e-3)


if __name__ == "__main__":
    unittest.main()
