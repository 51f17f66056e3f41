"""Kind ``attack``: perturbations of a model's inputs and bounds over sets of inputs (imports ``core``).

What goes here: adversarial attacks on any model (FGSM, PGD in the l-infinity and l2 balls,
with projection and a random start), interval bound propagation through a network, and the
losses built from them (adversarial and IBP-certified training losses, which the one training
loop of :mod:`dlt.train` takes like any other loss). Robust and certified accuracy, which
read a trained model, are measurements (:mod:`dlt.measure`) built on these.
"""

from .ibp import Bounds, ibp_bounds, ibp_tightness
from .losses import AdversarialLoss, CertifiedLoss, ramp, worst_case_logits
from .perturb import NORMS, fgsm, pgd, project

__all__ = [
    # attacks
    "fgsm",
    "pgd",
    "project",
    "NORMS",
    # interval bounds
    "Bounds",
    "ibp_bounds",
    "ibp_tightness",
    # training losses
    "worst_case_logits",
    "CertifiedLoss",
    "AdversarialLoss",
    "ramp",
]
