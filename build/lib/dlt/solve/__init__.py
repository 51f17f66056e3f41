"""Kind ``solve``: estimators computed exactly from data (imports ``core``).

One ridge and one Lasso for the whole book, both with the data term
:math:`\\frac{1}{2n}\\|y - X\\beta\\|^2` (see :mod:`dlt.solve.least_squares`); kernel ridge and
Gaussian-process regression by Cholesky factorization.
"""

from .kernel import gp_posterior, kernel_regression
from .lasso import lasso
from .least_squares import min_norm_interpolator, ridge, ridge_path

__all__ = [
    "min_norm_interpolator",
    "ridge",
    "ridge_path",
    "lasso",
    "kernel_regression",
    "gp_posterior",
]
