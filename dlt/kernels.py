"""Topic face: infinite-width kernels of fully connected networks, and kernel methods.

The NNGP and NTK recursions (:mod:`dlt.theory.kernels`) for every activation of the
registry with a closed form, each activation's Gaussian expectations
(:mod:`dlt.core.activations`), and the kernel estimators (:mod:`dlt.solve.kernel`).
"""

from .core.activations import erf_expectations, relu_expectations
from .solve.kernel import gp_posterior, kernel_regression
from .theory.kernel_dynamics import kernel_gd_dynamics
from .theory.kernels import (
    Kernels,
    erf_nngp,
    erf_ntk,
    nngp,
    nngp_ntk,
    ntk,
    relu_nngp,
    relu_ntk,
    textbook_kernels,
)
from .theory.stability import kernel_stable_lr

__all__ = [
    # the recursions
    "nngp",
    "ntk",
    "nngp_ntk",
    "Kernels",
    "textbook_kernels",
    "relu_nngp",
    "relu_ntk",
    "erf_nngp",
    "erf_ntk",
    # Gaussian expectations of activations
    "relu_expectations",
    "erf_expectations",
    # kernel methods
    "kernel_regression",
    "gp_posterior",
    "kernel_gd_dynamics",
    "kernel_stable_lr",
]
