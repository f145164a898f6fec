#!/usr/bin/env python3
"""tools/flowlat_model.py as a script and on files that are no model.

Given a model it prints a summary (lattice, layers, parameter count) and
exits 0; given a checkpoint, an ensemble, text or a missing file it says
what the file is and what was expected, exit 2 (flowlat's input-error
code); without arguments a usage message, exit 2.

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
import tempfile
import unittest

from project_paths import FLOWLAT, ROOT, SCRATCH  # noqa: E402

SCRIPT = os.path.join(ROOT, "tools", "flowlat_model.py")


def script(*arguments):
    return subprocess.run([sys.executable, SCRIPT, *arguments], capture_output=True, text=True)


class ModelScript(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if SCRATCH:
            os.makedirs(SCRATCH, exist_ok=True)
        cls.tmp = tempfile.TemporaryDirectory(dir=SCRATCH)
        cls.run_dir = os.path.join(cls.tmp.name, "run")
        sets = ["lattice.shape=[4,6]", "train.steps=2", "train.batch_size=8", "run.device=cpu",
                "flow.n_layers=2", "flow.hidden_channels=[4]", "flow.fourier_layer=diagonal",
                f"run.output_dir={cls.run_dir}"]
        subprocess.run([FLOWLAT, "train", os.path.join(ROOT, "input", "phi4_L8.yaml")]
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

    def test_text_and_missing_files_are_refused(self):
        text = os.path.join(self.run_dir, "config.yaml")
        result = script(text)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{text}: not a flowlat model file: it is no LibTorch archive", result.stderr)
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
