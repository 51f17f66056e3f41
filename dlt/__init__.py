"""dlt: deep learning theory you can run.

The library behind the dlt book. Chapters find their methods under topic faces:

- :mod:`dlt.kernels` infinite-width kernels and kernel methods
- :mod:`dlt.ntk` empirical NTKs, linearized and output-scaled networks
- :mod:`dlt.feature_learning` lazy versus rich training: parameterizations, feature movement, muP
- :mod:`dlt.interpolation` min-norm and ridge interpolation, risk formulas, effective ranks
- :mod:`dlt.generalization_measures` PAC-Bayes and VC bounds, complexity measures, Kendall's tau
- :mod:`dlt.implicit_bias` max-margin classifiers, margins, logistic descent, diagonal networks
- :mod:`dlt.curvature` Hessian-vector products, sharpness and Hessian trace
- :mod:`dlt.scaling` batch size: the exact risk of minibatch SGD, the critical batch size, noise scales
- :mod:`dlt.grokking` modular arithmetic, the grokking network, Fourier spectra of embeddings, grokking times
- :mod:`dlt.icl` in-context regression: prompts, attention models, GD constructions, Bayes predictors
- :mod:`dlt.robustness` input gradients at initialization, FGSM and PGD, interval bounds, robust and certified accuracy
- :mod:`dlt.polynomial` CCP and NCP polynomial networks, monomial features and polynomial regression, finite differences
- :mod:`dlt.white_box` coding rate, rate reduction, the compression term and its gradient, MSSA, ISTA, a small CRATE
- :mod:`dlt.convergence` Du et al.'s H-infinity and linear rate, NTK scores of activations and skips
- :mod:`dlt.length_generalization` Boolean cube, Walsh analysis, min-degree interpolator; copy task, causal transformer
- :mod:`dlt.lottery` magnitude pruning (global and layer-wise), masked models, rewinding, iterative magnitude pruning
- :mod:`dlt.diffusion` optimal denoiser, EDM denoiser network and loss, probability-flow ODE, memorization fraction

and the shared pieces under their own names: :mod:`dlt.data` (synthetic data),
:mod:`dlt.nets` (networks), :mod:`dlt.train` (the one training loop), :mod:`dlt.check`
(executable claims), :mod:`dlt.viz` (figures and explorers), :mod:`dlt.lessons`, and
:func:`dlt.setup`, the one-line set-up of a chapter.

Behind the faces the code is organized by kind, one folder each (``core``, ``data``,
``nets``, ``solve``, ``theory``, ``train``, ``measure``, ``book``); CONTRIBUTING.md says which
kind may import which, and a test enforces it.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import (
    check,
    convergence,
    curvature,
    data,
    diffusion,
    feature_learning,
    generalization_measures,
    grokking,
    icl,
    implicit_bias,
    interpolation,
    kernels,
    length_generalization,
    lottery,
    nets,
    ntk,
    polynomial,
    robustness,
    scaling,
    train,
    white_box,
)
from .book.setup import setup
from .core.device import device

try:
    __version__ = _version("dlt-book")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "check",
    "convergence",
    "curvature",
    "data",
    "device",
    "diffusion",
    "feature_learning",
    "generalization_measures",
    "grokking",
    "icl",
    "implicit_bias",
    "interpolation",
    "kernels",
    "lottery",
    "length_generalization",
    "nets",
    "ntk",
    "polynomial",
    "robustness",
    "scaling",
    "setup",
    "train",
    "viz",
    "white_box",
    "__version__",
]


def __getattr__(name: str) -> object:
    # dlt.viz imports matplotlib and ipywidgets; load it only when a chapter asks for it.
    if name in ("viz", "lessons", "cli"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'dlt' has no attribute {name!r}")
