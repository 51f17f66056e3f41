"""Topic face: the implicit bias of optimizers.

Max-margin classifiers in :math:`\\ell_2` and :math:`\\ell_\\infty` and basis pursuit
(``dlt.solve.margins``), the normalized margin of any classifier
(``dlt.measure.margins``), long runs of gradient, sign and Adam descent on the logistic
loss (``dlt.train.linear``), and diagonal linear networks with the potential their
gradient flow minimizes (``dlt.nets.diagonal``, ``dlt.theory.diagonal``).
"""

from .data.separable import separable_classes
from .measure.margins import margin
from .nets.diagonal import DiagonalNet
from .solve.margins import (
    MaxMargin,
    max_margin_l2,
    max_margin_linf,
    max_margin_linf_spread,
    min_l1_interpolator,
)
from .theory.diagonal import diagonal_net_solution, diagonal_potential
from .train.linear import LogisticPath, logistic_descent

__all__ = [
    # data
    "separable_classes",
    # max-margin programs and margins
    "MaxMargin",
    "max_margin_l2",
    "max_margin_linf",
    "max_margin_linf_spread",
    "margin",
    # optimizers on separable data
    "LogisticPath",
    "logistic_descent",
    # diagonal linear networks
    "DiagonalNet",
    "diagonal_potential",
    "diagonal_net_solution",
    "min_l1_interpolator",
]
