"""Kind ``solve``: estimators computed exactly from data (imports ``core``).

One ridge and one Lasso for the whole book, both with the data term
:math:`\\frac{1}{2n}\\|y - X\\beta\\|^2` (see :mod:`dlt.solve.least_squares`); kernel ridge and
Gaussian-process regression by Cholesky factorization; the max-margin classifiers in
:math:`\\ell_2` (a quadratic program) and :math:`\\ell_\\infty` (a linear program), and basis pursuit.
"""

from .kernel import gp_posterior, kernel_regression
from .lasso import lasso
from .least_squares import min_norm_interpolator, ridge, ridge_path
from .margins import (
    MaxMargin,
    max_margin_l2,
    max_margin_linf,
    max_margin_linf_spread,
    min_l1_interpolator,
)
from .polynomial import PolynomialFit, monomial_exponents, monomial_features, polynomial_fit

__all__ = [
    "min_norm_interpolator",
    "ridge",
    "ridge_path",
    "lasso",
    "kernel_regression",
    "gp_posterior",
    "MaxMargin",
    "max_margin_l2",
    "max_margin_linf",
    "max_margin_linf_spread",
    "min_l1_interpolator",
    # polynomial regression
    "monomial_exponents",
    "monomial_features",
    "polynomial_fit",
    "PolynomialFit",
]
