"""Gaussian linear regression with a given input spectrum: the solvable model of SGD."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..core.params import Int, NonNegative, Vector, validate_params
from ..core.validate import as_vector, check_int, check_nonnegative, generator
from .inputs import finish

__all__ = ["gaussian_linear_regression"]


@validate_params({"n": Int(1), "eigenvalues": Vector(), "w_star": Vector(), "noise": NonNegative()})
def gaussian_linear_regression(
    n: int,
    eigenvalues: torch.Tensor | Sequence[float],
    w_star: torch.Tensor | Sequence[float],
    *,
    noise: float = 0.0,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Samples of :math:`y = w_*^\top x + \sigma\varepsilon`, :math:`x \sim \mathcal N(0, \operatorname{diag}\lambda)`.

    Parameters
    ----------
    n : int
        Sample size ``>= 1``.
    eigenvalues : tensor of shape (d,)
        Variances :math:`\lambda_i \ge 0` of the input coordinates.
    w_star : tensor of shape (d,)
        The true weights.
    noise : float
        Label-noise standard deviation :math:`\sigma \ge 0`.
    seed : int or torch.Generator
        Seed of the inputs and the noise (drawn on the CPU in float64).

    Returns
    -------
    X : Tensor of shape (n, d)
    y : Tensor of shape (n,)

    Raises
    ------
    ValueError
        If the shapes disagree, a variance is negative or an input is not finite.

    Examples
    --------
    >>> lam = torch.tensor([4.0, 1.0], dtype=torch.float64)
    >>> X, y = gaussian_linear_regression(20000, lam, [1.0, 0.0], noise=0.5, seed=0,
    ...                                   dtype=torch.float64)
    >>> [round(v, 1) for v in X.var(0).tolist()], round(float(y.var()), 1)  # 4 + 0.25
    ([4.0, 1.0], 4.2)
    """
    n = check_int(n, "n", minimum=1)
    lam = as_vector(eigenvalues, "eigenvalues").to(torch.float64).cpu()
    if bool((lam < 0).any()):
        raise ValueError("eigenvalues must be >= 0 (variances)")
    w = as_vector(w_star, "w_star", n=lam.shape[0]).to(torch.float64).cpu()
    noise = check_nonnegative(noise, "noise")
    g = generator(seed)
    x = torch.randn(n, lam.shape[0], generator=g, dtype=torch.float64) * lam.sqrt()
    y = x @ w + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return finish(x, dtype, device), finish(y, dtype, device)
