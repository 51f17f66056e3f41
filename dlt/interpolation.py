"""Topic face: interpolating least squares, double descent and benign overfitting.

Min-norm and ridge solutions (:mod:`dlt.solve.least_squares`), random features
(:mod:`dlt.nets.features`), the limiting risks of Hastie et al. (:mod:`dlt.theory.risk`),
effective ranks and the bound of Bartlett et al. (:mod:`dlt.theory.benign`).
"""

from .nets.features import random_features
from .solve.least_squares import min_norm_interpolator, ridge, ridge_path
from .theory.benign import BLLBound, bll_risk_bound, critical_index, effective_ranks
from .theory.risk import asymptotic_risk_isotropic, mp_stieltjes, optimal_ridge_risk

__all__ = [
    # estimators
    "min_norm_interpolator",
    "ridge",
    "ridge_path",
    "random_features",
    # double descent: limiting risks
    "asymptotic_risk_isotropic",
    "optimal_ridge_risk",
    "mp_stieltjes",
    # benign overfitting: effective ranks and the bound
    "effective_ranks",
    "critical_index",
    "BLLBound",
    "bll_risk_bound",
]
