import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def mnist_dir():
    root = os.environ.get("MICROGRAD_DATA") or os.path.join(os.path.dirname(REPO), "shared", "data")
    folder = os.path.join(root, "mnist")
    if not os.path.exists(os.path.join(folder, "t10k-images-idx3-ubyte.gz")):
        pytest.fail(f"MNIST files not found in {folder}: set MICROGRAD_DATA to the folder that holds mnist/")
    return folder
