#!/usr/bin/env python3
"""tools/flowlat_model.py as a script and on files that are no model.

Given a model it prints a summary (lattice, layers, parameter count) and
exits 0, also when run by a python3 without torch (it re-executes under
Debian's); given a checkpoint, an ensemble, text, a damaged model or a
missing file it says what the file is and what was expected, exit 2
(flowlat's input-error code); without arguments a usage message, exit 2.

Run as `python3 tests/python/test_model_cli.py`; FLOWLAT_BINARY names the
executable (default build/flowlat).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("torch")

import subprocess
import unittest

import h5py

from project_paths import FLOWLAT, INPUT, TOOLS, python_without, scratch_dir  # noqa: E402

SCRIPT = os.path.join(TOOLS, "flowlat_model.py")


def script(*arguments, python=sys.executable):
    return subprocess.run([python, SCRIPT, *arguments], capture_output=True, text=True)


class ModelScript(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = scratch_dir()
        cls.run_dir = os.path.join(cls.tmp.name, "run")
        sets = ["lattice.shape=[4,6]", "train.steps=2", "train.batch_size=8", "run.device=cpu",
                "flow.n_layers=2", "flow.hidden_channels=[4]", "flow.fourier_layer=diagonal",
                f"run.output_dir={cls.run_dir}"]
        subprocess.run([FLOWLAT, "train", INPUT]
                       + [a for s in sets for a in ("--set", s)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_a_model_is_summarised(self):
        result = script(os.path.join(self.run_dir, "model.pt"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("flowlat model", result.stdout)
        self.assertIn("lattice 4x6", result.stdout)
        self.assertIn("Fourier layer (diagonal); 2 couplings (affine; hidden [4], kernel 3)", result.stdout)
        self.assertRegex(result.stdout, r"\n  [1-9][0-9]* parameters stored in float32")

    def test_a_checkpoint_is_named_as_one(self):
        path = os.path.join(self.run_dir, "checkpoint.ckpt")
        result = script(path)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}: not a flowlat model file: it is a flowlat training checkpoint", result.stderr)
        self.assertIn("expected a model file of flowlat train", result.stderr)
        self.assertNotIn("PytorchStreamReader", result.stderr)

    def test_a_model_is_summarised_by_a_python3_without_torch(self):
        python = python_without("torch")
        if python is None:
            self.skipTest("no python3 without torch on PATH")
        result = script(os.path.join(self.run_dir, "model.pt"), python=python)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("lattice 4x6", result.stdout)

    def test_an_ensemble_is_named_as_one(self):
        path = os.path.join(self.tmp.name, "hmc.h5")
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "flowlat-ensemble"
            f.attrs["source"] = "hmc"
        result = script(path)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}: not a flowlat model file: it is a flowlat hmc ensemble (HDF5", result.stderr)
        self.assertIn("expected a model file of flowlat train", result.stderr)

    def test_a_truncated_model_is_named_as_one(self):
        path = os.path.join(self.tmp.name, "truncated.pt")
        with open(os.path.join(self.run_dir, "model.pt"), "rb") as f:
            head = f.read(4096)
        with open(path, "wb") as f:
            f.write(head)
        result = script(path)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}: not a flowlat model file: it is a zip archive LibTorch cannot read "
                      "(a damaged or truncated model file?)", result.stderr)

    def test_text_and_missing_files_are_refused(self):
        text = os.path.join(self.run_dir, "config.yaml")
        result = script(text)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{text}: not a flowlat model file: it is a text file; expected a model file",
                      result.stderr)
        missing = os.path.join(self.run_dir, "nothere.pt")
        result = script(missing)
        self.assertEqual(result.returncode, 2)
        self.assertIn("it cannot be read (No such file or directory)", result.stderr)

    def test_without_arguments_a_usage_message(self):
        result = script()
        self.assertEqual(result.returncode, 2)
        self.assertIn("usage:", result.stderr)


if __name__ == "__main__":
    unittest.main()
