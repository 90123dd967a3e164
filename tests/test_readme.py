"""README.md's list of the NumPy functions micrograd differentiates is the one the code has."""
import os
import sys

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "scripts"))

import numpy_list  # noqa: E402


def test_readme_lists_what_micrograd_numpy_has():
    with open(os.path.join(REPO, "README.md")) as f:
        listed = numpy_list.current(f.read())
    assert listed is not None, "README.md lost its generated list of NumPy functions"
    assert listed == numpy_list.section(), "README.md is out of date: run python scripts/numpy_list.py --write"
