"""Topic face: memorization and generalization in diffusion models.

The optimal denoiser of a training set, the EDM preconditioning and the memorization
baseline (``dlt.theory.denoising``); the denoiser network (``dlt.nets.EDMDenoiser``); the
denoising loss (``dlt.train.DenoisingLoss``); the Karras schedule and the probability-flow
ODE sampler (``dlt.sample``); the memorization fraction (``dlt.measure``); the ring of
Gaussians (``dlt.data.gaussian_ring``) and the digits (``dlt.data.digits``).
"""

from .data.digits import Digits, digits
from .data.ring import gaussian_ring
from .measure.memorization import Memorization, memorization_fraction
from .nets.denoiser import EDMDenoiser
from .sample.ode import karras_sigmas, probability_flow_ode
from .theory.denoising import EDMScalings, edm_scalings, memorization_baseline, optimal_denoiser
from .train.denoising import DenoisingLoss

__all__ = [
    # the closed form
    "optimal_denoiser",
    "edm_scalings",
    "EDMScalings",
    # the network and its loss
    "EDMDenoiser",
    "DenoisingLoss",
    # sampling
    "karras_sigmas",
    "probability_flow_ode",
    # memorization
    "memorization_fraction",
    "Memorization",
    "memorization_baseline",
    # data
    "gaussian_ring",
    "digits",
    "Digits",
]
