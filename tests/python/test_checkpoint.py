#!/usr/bin/env python3
"""tools/flowlat_checkpoint.py against checkpoints the real binary writes.

The binary trains a small float64 model with held-out evaluation (so the
checkpoint carries a best model); Python's reading of checkpoint.ckpt must
give the step, the configuration, the history as history.csv has it and the
parameters of model.pt exactly; a damaged or truncated copy must be refused
with the reason, naming the file. As a script it summarises the checkpoint,
also when a python3 without torch runs it.

Run as `python3 tests/python/test_checkpoint.py`; FLOWLAT_BINARY names the
executable (default build/flowlat).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("torch")

import csv
import math
import shutil
import subprocess
import unittest

import torch

from project_paths import FLOWLAT, INPUT, ROUNDING, TOOLS, python_without, scratch_dir  # noqa: E402
import flowlat_checkpoint  # noqa: E402

STEPS = 12


class CheckpointInPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = scratch_dir()
        cls.run_dir = os.path.join(cls.tmp.name, "run")
        sets = []
        for o in ["lattice.shape=[4,4]", f"train.steps={STEPS}", "train.batch_size=16", "train.lr=0.01",
                  "train.eval_every=4", "train.eval_size=64", "train.checkpoint_every=5",
                  "flow.n_layers=2", "flow.hidden_channels=[4]", "flow.fourier_layer=diagonal",
                  "run.precision=float64", "run.device=cpu", f"run.output_dir={cls.run_dir}"]:
            sets += ["--set", o]
        subprocess.run([FLOWLAT, "train", INPUT, *sets], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cls.path = os.path.join(cls.run_dir, "checkpoint.ckpt")
        cls.ckpt = flowlat_checkpoint.load(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_counters_and_configuration(self):
        self.assertEqual(self.ckpt["format"], "flowlat-training-checkpoint")
        self.assertEqual(self.ckpt["step"], STEPS)
        self.assertEqual(self.ckpt["n_ranks"], 1)
        self.assertGreater(self.ckpt["train_seconds"], 0)
        with open(os.path.join(self.run_dir, "config.yaml")) as f:
            stored = "".join(line for line in f if not line.startswith("#"))
        self.assertEqual(self.ckpt["config"], stored)

    def test_history_equals_history_csv(self):
        with open(os.path.join(self.run_dir, "history.csv")) as f:
            rows = list(csv.DictReader(f))
        history = self.ckpt["history"]
        self.assertEqual(tuple(history.shape), (STEPS, len(flowlat_checkpoint.HISTORY_COLUMNS)))
        for i, row in enumerate(rows):
            self.assertEqual(int(row["step"]), i + 1)
            for j, name in enumerate(flowlat_checkpoint.HISTORY_COLUMNS):
                value = history[i, j].item()
                if row[name] == "":
                    self.assertTrue(math.isnan(value), (i, name))
                else:
                    # history.csv prints seconds with 6 digits, the rest to the last digit
                    relative = 1e-5 if name == "seconds" else ROUNDING
                    self.assertAlmostEqual(value, float(row[name]), delta=relative * abs(value), msg=(i, name))

    def test_model_parameters_equal_model_pt(self):
        model = dict(torch.jit.load(os.path.join(self.run_dir, "model.pt")).named_parameters())
        self.assertGreater(len(model), 0)
        for name, value in model.items():
            self.assertTrue(torch.equal(self.ckpt["model"][name], value), name)
        self.assertEqual(len(self.ckpt["best_parameters"]), len(model))
        best = dict(torch.jit.load(os.path.join(self.run_dir, "model_best.pt")).named_parameters())
        for stored, name in zip(self.ckpt["best_parameters"], model):
            self.assertTrue(torch.equal(stored, best[name]), name)
        self.assertEqual(self.ckpt["best_step"] % 4, 0)

    def test_damaged_copies_are_refused_naming_the_file(self):
        with open(self.path, "rb") as f:
            raw = bytearray(f.read())
        damaged = os.path.join(self.tmp.name, "damaged.ckpt")
        flipped = bytearray(raw)
        flipped[-100] ^= 0x01
        with open(damaged, "wb") as f:
            f.write(flipped)
        with self.assertRaisesRegex(ValueError, "damaged.ckpt: checksum mismatch"):
            flowlat_checkpoint.load(damaged)
        with open(damaged, "wb") as f:
            f.write(raw[:-10])
        with self.assertRaisesRegex(ValueError, "damaged.ckpt: truncated"):
            flowlat_checkpoint.load(damaged)
        shutil.copy(os.path.join(self.run_dir, "model.pt"), damaged)
        with self.assertRaisesRegex(ValueError, "damaged.ckpt: not a flowlat checkpoint"):
            flowlat_checkpoint.load(damaged)

    def test_script_summary_with_a_python3_without_torch(self):
        python = python_without("torch")
        if python is None:
            self.skipTest("no python3 without torch on PATH")
        done = subprocess.run([python, os.path.join(TOOLS, "flowlat_checkpoint.py"), self.path],
                              capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)  # it re-executes under Debian's python3
        self.assertIn(f"{self.path}: step {STEPS}, 1 rank(s)", done.stdout)


if __name__ == "__main__":
    unittest.main()
