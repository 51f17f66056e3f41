"""Kind ``measure``: empirical quantities of a trained or random model (imports ``core``, ``nets``).

The empirical NTK and the distance between kernels, the normalized margin of linear
classifiers, and the curvature of a training loss (Hessian-vector products, the top
Hessian eigenvalue, Hutchinson's trace); feature movement belongs here too.
"""

from .hessian import TopEigen, hessian_trace, hvp, top_hessian_eigenvalue
from .margins import margin
from .ntk import empirical_ntk, kernel_distance

__all__ = [
    "empirical_ntk",
    "kernel_distance",
    "margin",
    "hvp",
    "top_hessian_eigenvalue",
    "hessian_trace",
    "TopEigen",
]
