r"""The Karras et al. (2022) noise schedule and the probability-flow ODE sampler.

For data noised to level :math:`\sigma`, :math:`x = x_0 + \sigma\varepsilon`, the
probability-flow ODE (Song et al. 2021) written in :math:`\sigma` is

.. math:: \frac{dx}{d\sigma} = -\sigma\,\nabla_x \log p_\sigma(x)
    = \frac{x - D(x, \sigma)}{\sigma},

using Tweedie's formula :math:`\nabla_x \log p_\sigma(x) = (D(x, \sigma) - x)/\sigma^2`,
where :math:`D` is the optimal denoiser. Integrated from :math:`\sigma_{\max}` down to 0,
it carries :math:`\mathcal N(0, \sigma_{\max}^2 I)` (approximately :math:`p_{\sigma_{\max}}`)
to the data distribution, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..core.params import Choice, Int, Positive, Tensor, validate_params
from ..core.validate import as_tensor, check_choice, check_int, check_positive

__all__ = ["karras_sigmas", "probability_flow_ode"]


@validate_params(
    {"n_steps": Int(2), "sigma_min": Positive(), "sigma_max": Positive(), "rho": Positive()}
)
def karras_sigmas(
    n_steps: int = 60,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    rho: float = 7.0,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    r"""The noise levels of Karras et al. (2022), eq. 5, followed by 0.

    .. math:: \sigma_i = \Big(\sigma_{\max}^{1/\rho} + \frac{i}{N-1}
        \big(\sigma_{\min}^{1/\rho} - \sigma_{\max}^{1/\rho}\big)\Big)^{\rho},
        \quad i = 0, \dots, N-1, \qquad \sigma_N = 0 .

    A large :math:`\rho` concentrates the steps at small :math:`\sigma`, where the denoiser
    changes fastest.

    Parameters
    ----------
    n_steps : int
        :math:`N \ge 2` noise levels (then the final 0).
    sigma_min, sigma_max : float
        :math:`0 < \sigma_{\min} < \sigma_{\max}`.
    rho : float
        :math:`\rho > 0`.

    Returns
    -------
    Tensor of shape (N + 1,), decreasing from ``sigma_max`` to ``sigma_min``, then 0.

    Examples
    --------
    >>> karras_sigmas(3, 1.0, 16.0, rho=2).tolist()  # (4 + i (1 - 4) / 2)^2
    [16.0, 6.25, 1.0, 0.0]
    """
    n = check_int(n_steps, "n_steps", minimum=2)
    lo, hi = check_positive(sigma_min, "sigma_min"), check_positive(sigma_max, "sigma_max")
    if hi <= lo:
        raise ValueError(f"sigma_max must be > sigma_min = {lo}, got {hi}")
    r = check_positive(rho, "rho")
    t = torch.linspace(0, 1, n, dtype=torch.float64)
    s = (hi ** (1 / r) + t * (lo ** (1 / r) - hi ** (1 / r))) ** r
    s[0], s[-1] = hi, lo  # exact ends
    return torch.cat([s, s.new_zeros(1)]).to(dtype)


@validate_params(
    {
        "noise": Tensor((1, 2, 3, 4), "(..., d)"),
        "sigmas": Tensor(1, "(N + 1,)"),
        "method": Choice(("euler", "heun")),
    }
)
def probability_flow_ode(
    denoiser: Callable[[torch.Tensor, float], torch.Tensor],
    noise: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    method: str = "euler",
) -> torch.Tensor:
    r"""Samples of a denoiser by integrating the probability-flow ODE down a noise schedule.

    Starting from :math:`x_0 = \sigma_0 z` with :math:`z` = ``noise``, each step from
    :math:`\sigma_i` to :math:`\sigma_{i+1}` is an Euler step of
    :math:`dx/d\sigma = (x - D(x, \sigma))/\sigma`,

    .. math:: x_{i+1} = x_i + (\sigma_{i+1} - \sigma_i)\,\frac{x_i - D(x_i, \sigma_i)}{\sigma_i},

    or with ``method="heun"`` the trapezoidal correction of Karras et al. (2022, algorithm 1)
    wherever :math:`\sigma_{i+1} > 0`. A last step to :math:`\sigma = 0` (as
    :func:`karras_sigmas` ends) returns :math:`D(x, \sigma_{N-1})`.

    Parameters
    ----------
    denoiser : callable ``(x, sigma) -> Tensor``
        :math:`D(x, \sigma)` for a batch ``x`` and a number ``sigma``, e.g.
        ``lambda x, s: optimal_denoiser(x, s, train)`` or a trained network. Its output may
        carry extra leading dimensions (the members of an :class:`dlt.nets.EDMDenoiser`):
        the state then takes them on.
    noise : Tensor of shape (..., d)
        Standard normal draws :math:`z`, one row per sample.
    sigmas : Tensor of shape (N + 1,)
        Decreasing noise levels, :func:`karras_sigmas`.
    method : {"euler", "heun"}

    Returns
    -------
    Tensor: the samples, of the shape of the denoiser's output.

    References
    ----------
    Song, Sohl-Dickstein, Kingma, Kumar, Ermon and Poole (2021), Score-based generative
    modeling through stochastic differential equations, ICLR. Karras, Aittala, Aila and
    Laine (2022), Elucidating the design space of diffusion-based generative models, NeurIPS.

    Examples
    --------
    >>> D = lambda x, s: x / (1 + s**2)  # data N(0, 1): D(x, s) = x / (1 + s^2)
    >>> z = torch.randn(20000, 1, generator=torch.Generator().manual_seed(0))
    >>> x = probability_flow_ode(D, z, karras_sigmas(40, 0.002, 80.0), method="heun")
    >>> round(float(x.std()), 2)
    1.0
    """
    if not callable(denoiser):
        raise TypeError(f"denoiser must be callable, got {type(denoiser).__name__}")
    z = as_tensor(noise, "noise", ndim=(1, 2, 3, 4), shape="(..., d)")
    s = as_tensor(sigmas, "sigmas", ndim=1, shape="(N + 1,)", dtype=torch.float64)
    method = check_choice(method, "method", ("euler", "heun"))
    if s.shape[0] < 2 or bool((s[:-1] <= 0).any()) or bool((s[1:] >= s[:-1]).any()):
        raise ValueError("sigmas must be decreasing, positive except possibly the last")
    if float(s[-1]) < 0:
        raise ValueError(f"sigmas must end at a level >= 0, got {float(s[-1])}")
    levels = s.tolist()
    x = levels[0] * z
    for cur, nxt in zip(levels[:-1], levels[1:], strict=True):
        slope = (x - denoiser(x, cur)) / cur
        x_next = x + (nxt - cur) * slope
        if method == "heun" and nxt > 0:
            slope_next = (x_next - denoiser(x_next, nxt)) / nxt
            x_next = x + (nxt - cur) * (slope + slope_next) / 2
        x = x_next
    return x
