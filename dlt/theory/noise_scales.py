r"""The gradient-noise scales of McCandlish et al. (2018) in Gaussian linear regression, exactly.

:math:`B_{\rm simple} = \operatorname{tr}\Sigma/|G|^2` and :math:`B_{\rm noise} =
\operatorname{tr}(H\Sigma)/G^\top H G` for the per-example gradients of the model of
:mod:`dlt.theory.sgd`, as closed forms of the error's second moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from ..core.params import NonNegative, Tensor, Vector, validate_params
from ..core.validate import as_tensor, as_vector, check_nonnegative

__all__ = ["gradient_noise_scales", "NoiseScales"]


class NoiseScales(NamedTuple):
    r"""The gradient-noise scales :math:`B_{\rm simple} = \operatorname{tr}\Sigma/|G|^2` and
    :math:`B_{\rm noise} = \operatorname{tr}(H\Sigma)/G^\top H G`.

    Examples
    --------
    >>> s = gradient_noise_scales([1.0], [1.0], noise=0.0)
    >>> float(s.b_simple), float(s.b_noise)  # one coordinate: Var(x^2 e) / (E x^2 e)^2 = 2
    (2.0, 2.0)
    """

    b_simple: torch.Tensor
    b_noise: torch.Tensor


@validate_params(
    {
        "second_moments": Tensor(tuple(range(1, 8)), "(..., d)"),
        "eigenvalues": Vector(),
        "noise": NonNegative(),
    }
)
def gradient_noise_scales(
    eigenvalues: torch.Tensor | Sequence[float],
    second_moments: torch.Tensor | Sequence[float],
    *,
    noise: float,
) -> NoiseScales:
    r"""The gradient-noise scales of McCandlish et al. in Gaussian linear regression, exactly.

    The per-example gradient :math:`g = x(x^\top e - \varepsilon)` at error :math:`e` has mean
    :math:`G = He` and covariance :math:`\Sigma = He e^\top H + (e^\top H e + \sigma^2) H`
    (Gaussian fourth moments). Averaging the quadratic forms over :math:`e` with
    :math:`\mathbb E e_i^2 = m_i` (and independent coordinates) gives

    .. math::

        B_{\rm simple} = \frac{\operatorname{tr}\Sigma}{|G|^2}
        = 1 + \frac{(\sum_i\lambda_i m_i + \sigma^2)\sum_i\lambda_i}{\sum_i \lambda_i^2 m_i},
        \qquad
        B_{\rm noise} = \frac{\operatorname{tr}(H\Sigma)}{G^\top H G}
        = 1 + \frac{(\sum_i\lambda_i m_i + \sigma^2)\sum_i\lambda_i^2}{\sum_i \lambda_i^3 m_i}.

    Parameters
    ----------
    eigenvalues : tensor of shape (d,)
        :math:`\lambda_i > 0`.
    second_moments : tensor of shape (..., d)
        :math:`m_i \ge 0`, not all zero; leading dimensions are kept (e.g. a trajectory).
    noise : float
        Label-noise standard deviation :math:`\sigma \ge 0`.

    Returns
    -------
    NoiseScales
        ``b_simple`` and ``b_noise``, tensors of shape ``(...)``.

    Raises
    ------
    ValueError
        If shapes disagree, a value is negative or not finite.

    References
    ----------
    McCandlish et al. (2018), "An empirical model of large-batch training", eqs. (2.8),
    (2.9).

    Examples
    --------
    >>> lam = torch.tensor([1.0, 0.1], dtype=torch.float64)
    >>> s = gradient_noise_scales(lam, torch.tensor([[1.0, 1.0], [0.0, 1.0]]), noise=0.0)
    >>> [round(v, 3) for v in s.b_noise.tolist()]  # the noise scale grows as the error flattens
    [2.11, 102.0]
    """
    lam = as_vector(eigenvalues, "eigenvalues")
    if bool((lam <= 0).any()):
        raise ValueError("eigenvalues must be > 0")
    m = torch.as_tensor(second_moments)
    if m.ndim == 0 or m.shape[-1] != lam.shape[0]:
        raise ValueError(
            f"second_moments must have shape (..., {lam.shape[0]}), got {tuple(m.shape)}"
        )
    m = as_tensor(m, "second_moments", ndim=range(1, 8), shape="(..., d)").to(lam.dtype)
    if bool((m < 0).any()) or bool(((m * lam).sum(-1) <= 0).any()):
        raise ValueError("second_moments must be >= 0 and not all zero")
    var = check_nonnegative(noise, "noise") ** 2
    loss2 = (m * lam).sum(-1) + var  # e^T H e + sigma^2
    b_simple = 1 + loss2 * lam.sum() / (m * lam**2).sum(-1)
    b_noise = 1 + loss2 * (lam**2).sum() / (m * lam**3).sum(-1)
    return NoiseScales(b_simple, b_noise)
