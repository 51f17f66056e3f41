"""Topic face: measuring generalization, with bounds and with complexity measures.

The binary kl and its inverse, the Gaussian KL, the PAC-Bayes-kl bound with its Monte Carlo
correction and its union over grids of prior and posterior scales, and the classical VC
bound (``dlt.theory.kl``, ``dlt.theory.bounds``); the complexity measures of a trained classifier (distance from
initialization, spectral-norm product, path norm, PAC-Bayes flatness), the Monte Carlo error
of Gaussian weight perturbations, and Kendall's tau with its uncertainty
(``dlt.measure.complexity``, ``dlt.measure.perturbation``,
``dlt.measure.ranking``). The data of the chapter come from
:func:`dlt.data.binary_teacher`.
"""

from .data.teachers import BinaryTeacher, binary_teacher
from .measure.complexity import distance_from_init, path_norm, spectral_norm_product, zero_one_error
from .measure.perturbation import Sharpness, posterior_errors, sharpness
from .measure.ranking import KendallTau, kendall_tau
from .theory.bounds import (
    PacBayesBound,
    mc_error_bound,
    pac_bayes_bound,
    pac_bayes_kl_bound,
    vc_bound,
)
from .theory.kl import gaussian_kl, kl, kl_inverse

__all__ = [
    # bounds
    "kl",
    "kl_inverse",
    "gaussian_kl",
    "mc_error_bound",
    "pac_bayes_kl_bound",
    "pac_bayes_bound",
    "PacBayesBound",
    "vc_bound",
    # measures of a trained network
    "zero_one_error",
    "distance_from_init",
    "spectral_norm_product",
    "path_norm",
    "posterior_errors",
    "sharpness",
    "Sharpness",
    "kendall_tau",
    "KendallTau",
    # data
    "binary_teacher",
    "BinaryTeacher",
]
