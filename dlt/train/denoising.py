r"""The denoising loss of diffusion models, with the EDM weighting, for :func:`dlt.train.fit`."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..core.params import Positive, validate_params
from ..core.validate import check_positive, generator
from ..theory.denoising import scalings

__all__ = ["DenoisingLoss"]


class DenoisingLoss:
    r"""The EDM denoising loss: noise the batch, denoise it, weight the squared error.

    .. math:: \mathcal L = \mathbb E_{\sigma, \varepsilon}\,
        \lambda(\sigma)\, \|D(x_0 + \sigma\varepsilon, \sigma) - x_0\|^2, \qquad
        \lambda(\sigma) = \frac{1}{c_{\mathrm{out}}(\sigma)^2}
        = \frac{\sigma^2 + \sigma_d^2}{\sigma^2\sigma_d^2},

    with :math:`\ln\sigma` uniform on :math:`[\ln\sigma_{\min}, \ln\sigma_{\max}]` and
    :math:`\varepsilon \sim \mathcal N(0, I)`, one draw per example and step. For the
    preconditioned denoiser of :class:`dlt.nets.EDMDenoiser` this is
    :math:`\|F(c_{\mathrm{in}} x, \sigma) - (x_0 - c_{\mathrm{skip}} x)/c_{\mathrm{out}}\|^2`,
    a regression with targets of unit variance (Karras et al. 2022, eq. 8). Its minimizer
    over all functions, on a finite training set, is
    :func:`dlt.diffusion.optimal_denoiser`.

    Called by :func:`dlt.train.fit` (``takes_model = True``) as ``loss(model, x0, y, step)``
    with clean points ``x0`` of shape (B, d) (the same for every member) or (B, n_models, d)
    (member ``m`` reads ``x0[:, m]``: pass a tensor whose column ``m`` holds member ``m``'s
    training set, repeated to a common length); ``y`` is ignored. The loss is the mean over
    the batch and the coordinates, summed over members, so each member's gradient is its own.

    Parameters
    ----------
    sigma_min, sigma_max : float
        Range of the noise levels (0 < sigma_min < sigma_max).
    sigma_data : float, optional
        :math:`\sigma_d` of the weighting; default the model's ``sigma_data``.
    seed : int or torch.Generator
        Seed of the noise levels and the noise.

    References
    ----------
    Karras, Aittala, Aila and Laine (2022), Elucidating the design space of diffusion-based
    generative models, NeurIPS. Vincent (2011), A connection between score matching and
    denoising autoencoders, Neural Computation.

    Examples
    --------
    >>> from dlt.nets import EDMDenoiser
    >>> net = EDMDenoiser(2, width=8, n_models=2, seed=0)
    >>> loss = DenoisingLoss(seed=0)
    >>> float(loss(net, torch.randn(16, 2, 2), None, 0).detach()) > 0
    True
    """

    takes_model = True

    @validate_params({"sigma_min": Positive(), "sigma_max": Positive(), "sigma_data": Positive()})
    def __init__(
        self,
        sigma_min: float = 0.002,
        sigma_max: float = 80.0,
        sigma_data: float | None = None,
        seed: int | torch.Generator | None = 0,
    ) -> None:
        self.sigma_min = check_positive(sigma_min, "sigma_min")
        self.sigma_max = check_positive(sigma_max, "sigma_max")
        if self.sigma_max <= self.sigma_min:
            raise ValueError(
                f"sigma_max must be > sigma_min = {self.sigma_min}, got {self.sigma_max}"
            )
        self.sigma_data = None if sigma_data is None else check_positive(sigma_data, "sigma_data")
        self.generator = generator(seed)

    def __call__(self, model: nn.Module, x0: torch.Tensor, y: object, step: int) -> torch.Tensor:
        if x0.ndim == 3:
            x0 = x0.transpose(0, 1)  # (n_models, B, d)
        elif x0.ndim != 2:
            raise ValueError(
                f"x0 must have shape (B, d) or (B, n_models, d), got {tuple(x0.shape)}"
            )
        shape = (*x0.shape[:-1], 1)
        lo, hi = math.log(self.sigma_min), math.log(self.sigma_max)
        u = torch.rand(shape, generator=self.generator, dtype=torch.float64)
        sigma = (lo + (hi - lo) * u).exp().to(device=x0.device, dtype=x0.dtype)
        eps = torch.randn(x0.shape, generator=self.generator, dtype=torch.float64)
        noisy = x0 + sigma * eps.to(device=x0.device, dtype=x0.dtype)
        denoised = model(noisy, sigma[..., 0])
        sd = self.sigma_data if self.sigma_data is not None else float(getattr(model, "sigma_data"))  # noqa: B009
        weight = 1 / scalings(sigma, sd).c_out ** 2
        per = (weight * (denoised - x0) ** 2).mean(dim=(-2, -1))
        return per.sum()  # over members (a scalar already for a one-output model)
