"""Topic face: robustness against width, depth and initialization.

The digits (``dlt.data.digits``); ReLU networks with a stated initialization
(``dlt.nets.sequential``); the closed forms at initialization (``dlt.theory.robustness``);
attacks, interval bounds and the training losses built from them (``dlt.attack``); input
Jacobians, robust and certified accuracy (``dlt.measure.robust``).
"""

from .attack.ibp import Bounds, ibp_bounds, ibp_tightness
from .attack.losses import AdversarialLoss, CertifiedLoss, ramp, worst_case_logits
from .attack.perturb import NORMS, fgsm, pgd, project
from .data.digits import Digits, digits
from .measure.robust import certified_accuracy, input_jacobian_norms, robust_accuracy
from .nets.sequential import INITS, relu_network
from .theory.robustness import ibp_tightness_at_init, input_gradient_norm, relu_input_gradient_norm

__all__ = [
    # data and networks
    "digits",
    "Digits",
    "relu_network",
    "INITS",
    # closed forms at initialization
    "input_gradient_norm",
    "relu_input_gradient_norm",
    "ibp_tightness_at_init",
    # attacks
    "fgsm",
    "pgd",
    "project",
    "NORMS",
    # interval bounds
    "ibp_bounds",
    "Bounds",
    "ibp_tightness",
    # training losses
    "CertifiedLoss",
    "AdversarialLoss",
    "worst_case_logits",
    "ramp",
    # measurements
    "input_jacobian_norms",
    "robust_accuracy",
    "certified_accuracy",
]
