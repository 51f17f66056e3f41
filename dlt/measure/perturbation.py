r"""Gaussian weight perturbations of a trained classifier: its posterior error and flatness.

:func:`posterior_errors` is the Monte Carlo training error of :math:`\mathcal N(w, \sigma^2 I)`,
the empirical term of the PAC-Bayes bound (:mod:`dlt.theory.bounds`); :func:`sharpness` is
the flatness measure of Jiang et al. (2020) built on it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.func import functional_call, vmap

from ..core.params import Fraction, Int, Matrix, Model, Tensor, validate_params
from ..core.validate import as_tensor, check_fraction, check_int, generator
from .complexity import _data, _errors, _module, zero_one_error

__all__ = ["posterior_errors", "Sharpness", "sharpness"]


@validate_params(
    {"X": Matrix(), "model": Model(), "samples": Int(1), "sigmas": Tensor((0, 1), "(r,)")}
)
def posterior_errors(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    sigmas: object,
    samples: int = 20,
    *,
    seed: int | torch.Generator | None = 0,
) -> torch.Tensor:
    r"""Monte Carlo 0-1 errors of the Gaussian posteriors :math:`Q_\sigma = \mathcal N(w, \sigma^2 I)`.

    .. math:: \hat e_m(\sigma) = \frac1m\sum_{j=1}^m \hat L_S(w + \sigma z_j),\qquad
              z_j \sim \mathcal N(0, I_D)\ \text{i.i.d.},

    with the same draws :math:`z_j` for every :math:`\sigma` (common random numbers, so the
    errors of neighbouring scales are compared with little noise; for each :math:`\sigma`
    alone the draws are still independent, as :func:`dlt.generalization_measures.mc_error_bound` needs).
    Evaluated for all draws at once with ``torch.func.vmap``.

    Parameters
    ----------
    model : nn.Module
        The network whose parameters :math:`w` are the posterior mean.
    X : Tensor of shape (n, d)
    y : Tensor of shape (n,)
        Integer labels.
    sigmas : float or Tensor of shape (r,)
        Posterior standard deviations (``>= 0``).
    samples : int
        Draws :math:`m \ge 1`.
    seed : int or torch.Generator

    Returns
    -------
    Tensor of shape (r,)
        The errors, in the dtype of the model's parameters.

    Raises
    ------
    ValueError
        If the shapes disagree, a scale is negative or an input is not finite.

    References
    ----------
    Dziugaite & Roy (2017), UAI, section 5.

    Examples
    --------
    >>> net = nn.Linear(2, 2)
    >>> X = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    >>> y = net(X).argmax(1)
    >>> posterior_errors(net, X, y, [0.0, 100.0], samples=10).tolist()[0]
    0.0
    """
    model = _module(model)
    Xt, yt = _data(model, X, y)
    samples = check_int(samples, "samples", minimum=1)
    p0 = next(model.parameters())
    if not isinstance(sigmas, torch.Tensor):  # a Python float is a double: not via float32
        sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    s = as_tensor(sigmas, "sigmas", ndim=(0, 1), shape="(r,)").to(p0).reshape(-1)
    if bool((s < 0).any()):
        raise ValueError(f"sigmas must be >= 0, got {float(s.min())}")
    names = [k for k, _ in model.named_parameters()]
    params = [p.detach() for p in model.parameters()]
    g = generator(seed)
    noise = [
        torch.randn(samples, *p.shape, generator=g, dtype=p.dtype).to(p.device) for p in params
    ]

    def error(*flat: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, dict(zip(names, flat, strict=True)), (Xt,))
        return _errors(out, yt)

    batched = vmap(error)
    with torch.no_grad():
        errs = [
            batched(*[p + sig * z for p, z in zip(params, noise, strict=True)]).mean() for sig in s
        ]
    return torch.stack(errs)


class Sharpness(NamedTuple):
    """Jiang et al.'s flatness: the scale ``sigma`` (sigma') and the measure ``value`` = 1/sigma'^2.

    Examples
    --------
    >>> Sharpness(sigma=0.5, value=4.0).value
    4.0
    """

    sigma: float
    value: float


@validate_params(
    {
        "X": Matrix(),
        "model": Model(),
        "deviation": Fraction(low_open=True, high_open=True),
        "samples": Int(1),
        "iters": Int(1),
    }
)
def sharpness(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    deviation: float = 0.1,
    samples: int = 20,
    iters: int = 20,
    seed: int | torch.Generator | None = 0,
) -> Sharpness:
    r"""The PAC-Bayes flatness of Jiang et al. (2020): :math:`1/\sigma'^2` for the largest tolerable noise.

    :math:`\sigma'` is the largest :math:`\sigma` such that isotropic Gaussian weight noise
    raises the expected training error by at most ``deviation``,

    .. math:: \mathbb E_{u \sim \mathcal N(0, \sigma^2 I)}\big[\hat L_S(w + u)\big] \le
              \hat L_S(w) + \text{deviation},

    found by bisection in :math:`\log\sigma` on :math:`[10^{-4}, 10^2]` with the expectation
    estimated from ``samples`` fixed draws (:func:`posterior_errors`). This is the form of
    the ``pacbayes.flatness`` measure of Jiang et al., with the deviation measured in 0-1
    training error; their *magnitude-aware* variant (noise proportional to each weight) and
    the worst-case sharpness of Keskar et al. (2017) are not computed here.

    Parameters
    ----------
    model : nn.Module
    X : Tensor of shape (n, d)
    y : Tensor of shape (n,)
    deviation : float
        Allowed rise of the error, in (0, 1).
    samples, iters : int
        Monte Carlo draws and bisection steps (both ``>= 1``).
    seed : int or torch.Generator

    Returns
    -------
    Sharpness
        ``(sigma, value)`` with ``value = 1 / sigma**2``.

    Raises
    ------
    ValueError
        If the shapes disagree or an argument is out of range.

    References
    ----------
    Jiang, Neyshabur, Mobahi, Krishnan & Bengio (2020), Fantastic generalization measures
    and where to find them, ICLR.

    Examples
    --------
    >>> net = nn.Linear(2, 2)
    >>> X = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    >>> s = sharpness(net, X, net(X).argmax(1))
    >>> 1e-4 < s.sigma < 1e2, round(s.value * s.sigma**2, 6)
    (True, 1.0)
    """
    model = _module(model)
    Xt, yt = _data(model, X, y)
    deviation = check_fraction(deviation, "deviation", low_open=True, high_open=True)
    samples = check_int(samples, "samples", minimum=1)
    iters = check_int(iters, "iters", minimum=1)
    g = generator(seed)
    state = g.get_state()
    base = zero_one_error(model, Xt, yt)
    lo, hi = math.log(1e-4), math.log(1e2)
    for _ in range(iters):
        mid = (lo + hi) / 2
        g.set_state(state)  # the same draws at every scale
        err = float(posterior_errors(model, Xt, yt, math.exp(mid), samples, seed=g)[0])
        if err <= base + deviation:
            lo = mid
        else:
            hi = mid
    sigma = math.exp(lo)
    return Sharpness(sigma, 1 / sigma**2)
