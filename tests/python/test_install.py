#!/usr/bin/env python3
"""`cmake --install` of the build, then `flowlat run` from the installed tree.

Installs the build directory (FLOWLAT_BUILD_DIR, which ctest sets; default
build/) into a temporary prefix outside the source tree, checks the layout
and `flowlat --version`, then runs the whole pipeline, plots included, with
the installed binary on the installed input while the source tree is out of
the way: an empty directory is mounted over it in a private mount namespace
(`unshare -m`, as root or with user namespaces), so nothing under the source
tree, the build directory included, can be read. Where mount namespaces are
not permitted the run still happens and must report the installed tools as
the ones it used; the test says that the source tree was not hidden.

Run as `python3 tests/python/test_install.py`.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("h5py")

import json
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

from project_paths import BUILD, ROOT, ROUNDING  # noqa: E402

FIGURES = {"training.png", "configs.png", "action_vs_logq.png", "logw_hist.png", "magnetisation.png",
           "correlator.png", "m_eff.png"}


def cmake_project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(flowlat VERSION (\S+)", f.read()).group(1)


def hiding_is_permitted():
    """Whether this process may mount over the source tree in a private mount namespace."""
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    return probe.returncode == 0, probe.stderr.strip()


class InstalledTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="flowlat-install-")   # outside the source tree
        cls.prefix = os.path.join(cls.tmp.name, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cls.flowlat = os.path.join(cls.prefix, "bin", "flowlat")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_layout(self):
        share = os.path.join(self.prefix, "share", "flowlat")
        for path in ["bin/flowlat", "share/flowlat/tools/plot_ensemble.py", "share/flowlat/tools/plot_training.py",
                     "share/flowlat/tools/flowlat_model.py", "share/flowlat/tools/flowlat_results.py",
                     "share/flowlat/tools/flowlat_checkpoint.py", "share/flowlat/tools/debian_python.py",
                     "share/flowlat/input/phi4_L8.yaml",
                     "share/flowlat/jobscripts/train_slurm.sbatch", "share/doc/flowlat/LICENSE",
                     "share/doc/flowlat/README.md", "share/doc/flowlat/CITATION.cff",
                     "share/doc/flowlat/CHANGELOG.md"]:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, path)), path)
        self.assertTrue(os.access(self.flowlat, os.X_OK))
        self.assertFalse(any(name.endswith(".out") for name in os.listdir(os.path.join(share, "jobscripts"))))

    def test_version(self):
        done = subprocess.run([self.flowlat, "--version"], capture_output=True, text=True, check=True)
        lines = done.stdout.splitlines()
        self.assertEqual(lines[0], f"flowlat {cmake_project_version()}")
        fields = dict(line.split(": ", 1) for line in lines[1:])
        self.assertEqual(set(fields), {"commit", "build type", "instruction sets compiled", "LibTorch", "MPI",
                                       "HDF5"})
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True)
        if head.returncode == 0:   # a git checkout: the commit of the build, marked if the tree was dirty
            self.assertRegex(fields["commit"], "^" + head.stdout.strip() + "(-dirty)?$")
        self.assertIn("generic", fields["instruction sets compiled"].split())
        self.assertRegex(fields["HDF5"], r"^\d+\.\d+\.\d+ \(parallel\)$")
        self.assertRegex(fields["LibTorch"], r"^\d+\.\d+")

    def test_run_from_the_installed_tree_with_the_source_moved_away(self):
        work = os.path.join(self.tmp.name, "work")
        os.makedirs(work)
        input_file = os.path.join(self.prefix, "share", "flowlat", "input", "phi4_L8.yaml")
        command = [self.flowlat, "run", input_file, "--json", "run.json"]
        for key in ["train.steps=30", "train.batch_size=32", "sample.n_configs=1024", "sample.batch_size=256",
                    "flow.n_layers=4", "run.output_dir=run"]:
            command += ["--set", key]
        env = {k: v for k, v in os.environ.items() if k not in ("FLOWLAT_TOOLS_DIR",)}
        permitted, reason = hiding_is_permitted()
        if permitted:
            empty = os.path.join(self.tmp.name, "empty")
            os.makedirs(empty)
            script = (f"mount --bind {shlex.quote(empty)} {shlex.quote(ROOT)} && "
                      f"test ! -e {shlex.quote(os.path.join(ROOT, 'CMakeLists.txt'))} && "
                      f"exec {' '.join(shlex.quote(c) for c in command)}")
            argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
        else:
            print(f"note: the source tree was not hidden (mount namespaces not permitted: {reason})")
            argv = command
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        tools = os.path.join(self.prefix, "share", "flowlat", "tools")
        self.assertIn(f"plots (scripts in {tools}):", done.stdout)

        with open(os.path.join(work, "run.json")) as f:
            result = json.load(f)
        self.assertEqual({os.path.basename(p) for p in result["plots"]}, FIGURES)
        for png in result["plots"]:
            path = png if os.path.isabs(png) else os.path.join(work, png)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", png)
        self.assertEqual(result["train"]["steps"], 30)
        self.assertEqual(result["sample"]["n"], 1024)
        self.assertEqual(result["analysis"]["n"], 1024)
        self.assertAlmostEqual(result["analysis"]["ess"], result["sample"]["ess"], delta=ROUNDING)
        self.assertEqual(result["train"]["provenance"]["code_version"], cmake_project_version())
        with open(os.path.join(work, "run", "config.yaml")) as f:
            header = [line for line in f if line.startswith("# ")]
        self.assertIn(f"# code_version: {cmake_project_version()}\n", header)
        self.assertTrue(any(line.startswith("# kernels: ") for line in header), header)
        self.check_provenance_of_the_outputs(os.path.join(work, "run"), result["train"]["provenance"])

    def check_provenance_of_the_outputs(self, run, provenance):
        """The ensemble's attributes and the model file carry the --json's provenance fields."""
        import h5py
        import torch
        names = {"code_version", "git_commit", "build_type", "compiler", "instruction_sets", "libtorch",
                 "mpi_library", "hdf5", "kernels"}
        self.assertEqual(set(provenance), names)
        self.assertRegex(provenance["kernels"], r"^(fused couplings, \w+ convolution kernels|reference couplings "
                                                r"\(LibTorch operations\)) on cpu$")
        with h5py.File(os.path.join(run, "ensemble.h5"), "r") as f:
            for name in names:
                value = f.attrs[name]
                self.assertEqual(value.decode() if isinstance(value, bytes) else value, provenance[name], name)
        model = torch.jit.load(os.path.join(run, "model.pt"))
        self.assertEqual(json.loads(model.flowlat_provenance), provenance)


if __name__ == "__main__":
    if shutil.which("cmake") is None:
        print("cmake not found", file=sys.stderr)
        sys.exit(1)
    unittest.main()
