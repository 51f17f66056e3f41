import math
import os

import numpy as np
import pytest
import torch

os.environ.setdefault("DLT_PROGRESS", "0")
os.environ.setdefault("DLT_STATIC", "1")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    """Doctests of dlt see torch, numpy and math, as a reader's session would."""
    doctest_namespace.update(torch=torch, np=np, math=math)


# dlt.check, dlt.viz, dlt.lessons and dlt.cli are aliases of the modules in dlt/book/ (the
# doctests run there); collecting the alias files too would import one module twice.
collect_ignore = ["dlt/check.py", "dlt/viz.py", "dlt/lessons.py", "dlt/cli.py"]
