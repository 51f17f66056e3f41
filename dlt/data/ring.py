r"""A ring of Gaussians in the plane: the data of the diffusion chapter."""

from __future__ import annotations

import math

import torch

from ..core.params import Int, Positive, validate_params
from ..core.validate import check_int, check_positive, generator
from .inputs import finish

__all__ = ["gaussian_ring"]


@validate_params({"n": Int(1), "k": Int(1), "radius": Positive(), "std": Positive()})
def gaussian_ring(
    n: int,
    k: int = 8,
    *,
    radius: float = 1.2,
    std: float = 0.3,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""``n`` points of an equal mixture of ``k`` Gaussians on a circle in the plane.

    .. math:: x = r\big(\cos\tfrac{2\pi j}{k}, \sin\tfrac{2\pi j}{k}\big) + s\,z, \qquad
        j \sim \mathrm{U}\{0, \dots, k-1\},\ z \sim \mathcal N(0, I_2)

    Its per-coordinate standard deviation is :math:`\sqrt{r^2/2 + s^2}` (for ``k >= 3``):
    0.9 with the defaults.

    Parameters
    ----------
    n, k : int
        Number of points and of components (>= 1).
    radius, std : float
        :math:`r > 0` and :math:`s > 0`.
    seed : int or torch.Generator
    dtype, device : optional

    Returns
    -------
    Tensor of shape (n, 2)

    Examples
    --------
    >>> x = gaussian_ring(20000, seed=0)
    >>> x.shape, round(float(x.std(0).mean()), 1)
    (torch.Size([20000, 2]), 0.9)
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(k, "k", minimum=1)
    r, s = check_positive(radius, "radius"), check_positive(std, "std")
    g = generator(seed)
    j = torch.randint(k, (n,), generator=g).to(torch.float64)
    angle = 2 * math.pi * j / k
    centers = r * torch.stack([angle.cos(), angle.sin()], dim=1)
    x = centers + s * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return finish(x, dtype, device)
