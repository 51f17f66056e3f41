"""dlt: deep learning theory you can run.

The library behind the dlt book. One module per topic, plus the shared pieces:

- :mod:`dlt.data` synthetic data with known ground truth
- :mod:`dlt.nets` networks with explicit parameterizations
- :mod:`dlt.train` the one training loop
- :mod:`dlt.kernels` infinite-width kernels and kernel methods
- :mod:`dlt.ntk` empirical NTKs and linearized networks
- :mod:`dlt.interpolation` min-norm and ridge interpolation, risk formulas, effective ranks
- :mod:`dlt.icl` in-context regression: prompts, linear self-attention, gradient-descent constructions
- :mod:`dlt.lessons` student copies of the lessons
- :mod:`dlt.check` executable claims
- :mod:`dlt.viz` the book's figures and explorers
"""

from . import check, data, icl, interpolation, kernels, nets, ntk, train
from ._device import device

__version__ = "0.1.0"

__all__ = ["check", "data", "device", "icl", "interpolation", "kernels", "nets", "ntk", "train", "viz", "__version__"]


def __getattr__(name: str) -> object:
    # dlt.viz imports matplotlib and ipywidgets; load it only when a chapter asks for it.
    if name == "viz":
        import importlib

        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'dlt' has no attribute {name!r}")
