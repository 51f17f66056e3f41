"""Topic face: the curvature of a training loss (sharpness, stability and the edge of stability).

Hessian-vector products by ``torch.func``, the top Hessian eigenvalue by power iteration,
Hutchinson's estimate of the Hessian's trace and the full Hessian of a small model
(``dlt.measure.hessian``, ``dlt.measure.tracking``); a :func:`dlt.train.fit` callback that
records the sharpness every k steps; the per-sample output gradients of a model; and the
linear-stability thresholds of gradient descent and batch-1 SGD at an interpolating minimum
(``dlt.theory.stability``).
"""

from .core.numeric import bisect_threshold
from .measure.hessian import TopEigen, hessian_trace, hvp, top_hessian_eigenvalue
from .measure.tracking import SharpnessCallback, full_hessian, output_jacobian
from .theory.stability import (
    StabilityThresholds,
    kernel_stable_lr,
    sgd_mean_square_rate,
    stability_thresholds,
)

__all__ = [
    # Hessian-vector products and what they estimate
    "hvp",
    "top_hessian_eigenvalue",
    "TopEigen",
    "hessian_trace",
    "full_hessian",
    # along training
    "SharpnessCallback",
    # linear stability at an interpolating minimum
    "output_jacobian",
    "stability_thresholds",
    "StabilityThresholds",
    "sgd_mean_square_rate",
    "kernel_stable_lr",
    # measured thresholds
    "bisect_threshold",
]
