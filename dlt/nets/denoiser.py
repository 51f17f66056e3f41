r"""A small denoiser network with the EDM preconditioning, ``n_models`` members at once.

:class:`EDMDenoiser` is the network of :mod:`dlt.diffusion`: an MLP :math:`F` on the scaled
input and a Fourier embedding of the noise level, wrapped in the preconditioning of Karras
et al. (2022) (:func:`dlt.diffusion.edm_scalings`). Its members train side by side
with batched matrix products, each on its own training set.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..core.params import Int, Positive, validate_params
from ..core.validate import check_finite, check_int, check_positive, generator
from ..theory.denoising import scalings

__all__ = ["EDMDenoiser"]


class EDMDenoiser(nn.Module):
    r"""An EDM-preconditioned denoising MLP with a noise-level embedding, ``n_models`` members.

    :math:`F` is an MLP with SiLU activations on the concatenation of the scaled input
    :math:`c_{\mathrm{in}} x \in \mathbb R^d` and the noise-level embedding

    .. math:: e(\sigma) = \big(\sin(k c_{\mathrm{noise}}), \cos(k c_{\mathrm{noise}})\big)_{k=1}^{K},
        \qquad c_{\mathrm{noise}} = \tfrac14 \ln\sigma,

    with ``depth`` hidden layers of width ``width`` and :math:`d` outputs; the coefficients
    are those of :func:`dlt.diffusion.edm_scalings`. Weights start
    :math:`\mathcal N(0, 1/\mathrm{fan\_in})`, the last layer scaled by 0.1, biases zero.

    Parameters
    ----------
    dim : int
        Data dimension :math:`d \ge 1`.
    width : int
        Hidden width (>= 1).
    depth : int
        Number of hidden layers (>= 1).
    n_models : int
        Number of independent members (>= 1), trained side by side.
    n_freq : int
        Number :math:`K \ge 1` of frequencies of the noise embedding.
    sigma_data : float
        :math:`\sigma_d > 0` of the preconditioning.
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    References
    ----------
    Karras, Aittala, Aila and Laine (2022), Elucidating the design space of diffusion-based
    generative models, NeurIPS.

    Examples
    --------
    >>> net = EDMDenoiser(2, width=16, n_models=3, seed=0)
    >>> net(torch.zeros(3, 5, 2), 0.5).shape  # (n_models, m, d) per member
    torch.Size([3, 5, 2])
    >>> net(torch.zeros(5, 2), torch.ones(5)).shape  # (m, d): the same points for all
    torch.Size([3, 5, 2])
    """

    @validate_params(
        {
            "dim": Int(1),
            "width": Int(1),
            "depth": Int(1),
            "n_models": Int(1),
            "n_freq": Int(1),
            "sigma_data": Positive(),
        }
    )
    def __init__(
        self,
        dim: int,
        *,
        width: int = 128,
        depth: int = 3,
        n_models: int = 1,
        n_freq: int = 8,
        sigma_data: float = 0.5,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        w = check_int(width, "width", minimum=1)
        depth = check_int(depth, "depth", minimum=1)
        m = check_int(n_models, "n_models", minimum=1)
        self.n_freq = check_int(n_freq, "n_freq", minimum=1)
        self.sigma_data = check_positive(sigma_data, "sigma_data")
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)
        sizes = [self.dim + 2 * self.n_freq] + [w] * depth + [self.dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            scale = (0.1 if i == len(sizes) - 2 else 1.0) / math.sqrt(a)
            weight = torch.randn(m, a, b, generator=g, dtype=torch.float64) * scale
            self.weights.append(nn.Parameter(weight.to(dtype)))
            self.biases.append(nn.Parameter(torch.zeros(m, 1, b, dtype=dtype)))
        self.register_buffer("freqs", torch.arange(1, self.n_freq + 1, dtype=dtype))

    @property
    def n_models(self) -> int:
        """The number of members."""
        return int(self.weights[0].shape[0])

    def raw(self, x_in: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        """The network :math:`F`: ``x_in`` (n_models, m, d), ``c_noise`` (n_models, m, 1)."""
        angles = c_noise * self.get_buffer("freqs")
        h = torch.cat([x_in, angles.sin(), angles.cos()], dim=-1)
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(bias, h, weight)
            if i < last:
                h = torch.nn.functional.silu(h)
        return h

    def forward(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        """Denoised points (n_models, m, d) for noisy points ``x`` of shape (n_models, m, d)
        (one set per member) or (m, d) (the same for all), at noise levels ``sigma``: a
        number, (m,), or (n_models, m)."""
        m = self.n_models
        x = check_finite(x, "x")
        if x.ndim == 2:
            x = x.unsqueeze(0).expand(m, *x.shape)
        if x.ndim != 3 or x.shape[0] != m or x.shape[2] != self.dim:
            raise ValueError(
                f"x must have shape (m, {self.dim}) or ({m}, m, {self.dim}), got {tuple(x.shape)}"
            )
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        s = (
            s.reshape(-1)[None, :, None]
            if s.ndim == 1
            else s.reshape(*s.shape, *[1] * (3 - s.ndim))
        )
        s = s.expand(m, x.shape[1], 1)
        c = scalings(s, self.sigma_data)
        return c.c_skip * x + c.c_out * self.raw(c.c_in * x, c.c_noise)
