"""Kind ``sample``: samplers that turn a denoiser or score into samples (imports ``core``, ``theory``).

What goes here: noise-level schedules (the Karras et al. schedule), the probability-flow ODE
sampler, ancestral and DDIM sampling. A sampler takes any denoiser ``D(x, sigma)``: the
closed-form optimal denoiser of :mod:`dlt.theory` or a trained network of :mod:`dlt.nets`.
"""

from .ode import karras_sigmas, probability_flow_ode

__all__ = ["karras_sigmas", "probability_flow_ode"]
