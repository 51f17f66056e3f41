"""Topic face: polynomial networks and polynomial regression.

The CCP and NCP networks of Chrysos et al. (``dlt.nets.polynomial``); monomial features
and the least-squares polynomial (``dlt.solve.polynomial``); finite differences along a
line (``dlt.theory.finite_differences``); the digits (``dlt.data.digits``).
"""

from .data.digits import Digits, digits
from .nets.polynomial import CCP, NCP
from .solve.polynomial import PolynomialFit, monomial_exponents, monomial_features, polynomial_fit
from .theory.finite_differences import finite_differences

__all__ = [
    # polynomial networks
    "CCP",
    "NCP",
    # polynomial regression
    "monomial_exponents",
    "monomial_features",
    "polynomial_fit",
    "PolynomialFit",
    # the degree test
    "finite_differences",
    # data
    "digits",
    "Digits",
]
