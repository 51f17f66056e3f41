"""The topic faces of the book: each a module ``dlt.<name>`` that re-exports a topic's functions.

Part of the registry (:mod:`dlt.book.registry`, which re-exports :data:`FACES`); kept in its own
file so that neither file grows past the library's length limit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Face", "FACES"]


@dataclass(frozen=True)
class Face:
    """A topic face: a module ``dlt.<name>`` that re-exports a topic's functions from the kinds.

    ``title`` heads its section of the API page; ``exclude`` lists names it re-exports that
    the API page documents under another face (each object is documented once).

    Examples
    --------
    >>> FACES[0].name, FACES[0].title
    ('kernels', 'Kernels')
    """

    name: str
    title: str
    summary: str
    exclude: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # document only these (empty: every name of __all__)


FACES: tuple[Face, ...] = (
    Face("kernels", "Kernels", "infinite-width kernels and kernel methods"),
    Face(
        "ntk",
        "Empirical NTKs and linearized networks",
        "empirical NTKs, linearized and output-scaled networks",
    ),
    Face(
        "feature_learning",
        "Feature learning",
        "lazy versus rich training: parameterizations, feature movement, muP",
        members=(
            "hidden_features",
            "feature_movement",
            "weight_alignment",
            "coordinate_sizes",
            "random_alignment",
        ),
    ),
    Face(
        "interpolation",
        "Interpolation",
        "min-norm and ridge interpolation, risk formulas, effective ranks",
    ),
    Face(
        "generalization_measures",
        "Measuring generalization",
        "PAC-Bayes and VC bounds, complexity measures, Kendall's tau",
        exclude=("binary_teacher", "BinaryTeacher"),
    ),
    Face(
        "implicit_bias",
        "Implicit bias",
        "max-margin classifiers, margins, logistic descent, diagonal networks",
        exclude=("DiagonalNet", "LogisticPath"),
    ),
    Face("curvature", "Curvature", "Hessian-vector products, sharpness and Hessian trace"),
    Face(
        "scaling",
        "Batch size and the critical batch size",
        "batch size: the exact risk of minibatch SGD, the critical batch size, noise scales",
    ),
    Face(
        "grokking",
        "Grokking",
        "modular arithmetic, the grokking network, Fourier spectra of embeddings, grokking times",
    ),
    Face(
        "icl",
        "In-context learning",
        "in-context regression: prompts, attention models, GD constructions, Bayes predictors",
    ),
    Face(
        "robustness",
        "Robustness",
        "input gradients at initialization, FGSM and PGD, interval bounds, robust and certified accuracy",
        exclude=("digits", "Digits"),
    ),
    Face(
        "polynomial",
        "Polynomial networks",
        "CCP and NCP polynomial networks, monomial features and polynomial regression, finite differences",
        exclude=("digits", "Digits"),
    ),
    Face(
        "white_box",
        "White-box transformers",
        "coding rate, rate reduction, the compression term and its gradient, MSSA, ISTA, a small CRATE",
        exclude=("digits", "Digits"),
    ),
    Face(
        "convergence",
        "Global convergence and architecture choice",
        "Du et al.'s H-infinity and linear rate, NTK scores of activations and skips",
    ),
    Face(
        "length_generalization",
        "Length generalization and the unseen",
        "Boolean cube, Walsh analysis, min-degree interpolator; copy task, causal transformer",
    ),
    Face(
        "lottery",
        "Sparsity and lottery tickets",
        "magnitude pruning (global and layer-wise), masked models, rewinding, iterative magnitude pruning",
    ),
    Face(
        "diffusion",
        "Diffusion models",
        "optimal denoiser, EDM denoiser network and loss, probability-flow ODE, memorization fraction",
        exclude=("digits", "Digits"),
    ),
)
