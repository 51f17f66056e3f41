import os

import pytest
import torch

os.environ.setdefault("DLT_PROGRESS", "0")
os.environ.setdefault("DLT_STATIC", "1")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
