"""Run a script under Debian's /usr/bin/python3 when the current interpreter
lacks the Debian packages it needs (python3-numpy, -h5py, -matplotlib,
-torch). A python3 found earlier on PATH (pyenv, a venv) does not see them.

    use_debian_python("numpy")   # at the top of a script, before its imports
"""
import importlib
import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"


def use_debian_python(module):
    """Returns if `module` imports here; otherwise re-executes the running
    script with the same arguments under /usr/bin/python3 (if that is a
    different interpreter), or re-raises the ImportError."""
    try:
        importlib.import_module(module)
    except ImportError:
        if (os.path.exists(DEBIAN_PYTHON)
                and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)):
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        raise
