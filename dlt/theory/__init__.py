"""Kind ``theory``: closed forms (imports ``core``, ``data``, ``solve``).

Infinite-width kernels and kernel gradient-descent dynamics, limiting risks of ridge(less)
regression, effective ranks and the benign-overfitting bound, the optimal one-step
in-context predictor and the exact Bayes predictors of in-context regression, the
linear-stability thresholds of gradient descent and batch-1 SGD at an interpolating minimum,
and the generalization bounds of ``dlt.theory.bounds`` and ``dlt.theory.kl``
(the kl inverse, PAC-Bayes-kl, VC).
"""

from .bounds import (
    PacBayesBound,
    mc_error_bound,
    pac_bayes_bound,
    pac_bayes_kl_bound,
    vc_bound,
)
from .convergence import h_infinity, linear_convergence_bound
from .denoising import EDMScalings, edm_scalings, memorization_baseline, optimal_denoiser
from .finite_differences import finite_differences
from .kl import gaussian_kl, kl, kl_inverse
from .robustness import ibp_tightness_at_init, input_gradient_norm, relu_input_gradient_norm

__all__ = [
    # generalization bounds
    "kl",
    "kl_inverse",
    "gaussian_kl",
    "mc_error_bound",
    "pac_bayes_kl_bound",
    "pac_bayes_bound",
    "PacBayesBound",
    "vc_bound",
    # robustness at initialization; finite differences (polynomial degree)
    "input_gradient_norm",
    "relu_input_gradient_norm",
    "ibp_tightness_at_init",
    "finite_differences",
    # diffusion: the optimal denoiser of a training set, EDM scalings, memorization baseline
    "optimal_denoiser",
    "edm_scalings",
    "EDMScalings",
    "memorization_baseline",
    # global convergence of gradient descent (Du et al. 2019)
    "h_infinity",
    "linear_convergence_bound",
]
