"""Topic face: batch size, the critical batch size and the gradient-noise scale.

The exact expected risk of minibatch SGD on Gaussian linear regression, the steps to a
target at the best learning rate, the hyperbola fit of McCandlish et al. and the noise
scales (``dlt.theory.sgd``, ``dlt.theory.noise_scales``); the data of that model (``dlt.data.linear``).
"""

from .data.linear import gaussian_linear_regression
from .theory.noise_scales import NoiseScales, gradient_noise_scales
from .theory.sgd import HyperbolaFit, StepsToTarget, fit_critical_batch, sgd_risk, steps_to_target

__all__ = [
    # the exact risk of minibatch SGD and the steps to a target
    "sgd_risk",
    "steps_to_target",
    "StepsToTarget",
    # the hyperbola S = S_min (1 + B_crit / B)
    "fit_critical_batch",
    "HyperbolaFit",
    # gradient-noise scales
    "gradient_noise_scales",
    "NoiseScales",
    # data
    "gaussian_linear_regression",
]
