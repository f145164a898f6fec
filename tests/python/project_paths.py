"""What every Python test shares: the source tree, tools/, the input file,
the build directory and binary under test, the scratch area ctest gives, the
tolerance of float64 rounding and a python3 that lacks a module.

FLOWLAT_BINARY, FLOWLAT_BUILD_DIR and FLOWLAT_TEST_SCRATCH (set by ctest)
override the defaults. Not a test itself (ctest runs tests/python/test_*.py).
"""
import os
import subprocess
import tempfile

from debian_python import DEBIAN_PYTHON  # tools/ is on sys.path: each test puts it there first

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
INPUT = os.path.join(ROOT, "input", "phi4_L8.yaml")  # the runs' input; --set adapts it
BUILD = os.environ.get("FLOWLAT_BUILD_DIR", os.path.join(ROOT, "build"))
FLOWLAT = os.environ.get("FLOWLAT_BINARY", os.path.join(ROOT, "build", "flowlat"))
SCRATCH = os.environ.get("FLOWLAT_TEST_SCRATCH")

ROUNDING = 1e-12  # float64 numbers that agree but for rounding (relative; absolute near 0)


def scratch_dir():
    """A temporary directory under SCRATCH (the build tree, under ctest), else under /tmp."""
    if SCRATCH:
        os.makedirs(SCRATCH, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=SCRATCH)


def python_without(module):
    """A python3 on PATH, not Debian's, that cannot import `module` (pyenv, a venv), or None:
    the tools must find Debian's python3 themselves when run with it."""
    debian = os.path.realpath(DEBIAN_PYTHON)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, "python3")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) != debian:
            probe = subprocess.run([candidate, "-c", f"import {module}"], capture_output=True)
            if probe.returncode != 0:
                return candidate
    return None
