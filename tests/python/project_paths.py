"""What every Python test shares: the source tree, tools/, the build
directory and binary under test, and the scratch area ctest gives.

FLOWLAT_BINARY, FLOWLAT_BUILD_DIR and FLOWLAT_TEST_SCRATCH (set by ctest)
override the defaults. Not a test itself (ctest runs tests/python/test_*.py).
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
BUILD = os.environ.get("FLOWLAT_BUILD_DIR", os.path.join(ROOT, "build"))
FLOWLAT = os.environ.get("FLOWLAT_BINARY", os.path.join(ROOT, "build", "flowlat"))
SCRATCH = os.environ.get("FLOWLAT_TEST_SCRATCH")
