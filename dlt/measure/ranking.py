r"""Rank correlation of a complexity measure with the generalization gap, with its uncertainty.

Jiang et al. (2020) compare generalization measures by Kendall's rank correlation with the
gap over a family of trained networks; :func:`kendall_tau` gives it with the spread an
unrelated ranking would show at the same number of runs, and a bootstrap interval.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..core.params import Fraction, Int, Vector, validate_params
from ..core.validate import as_vector, check_fraction, check_int, generator

__all__ = ["KendallTau", "kendall_tau"]


class KendallTau(NamedTuple):
    """Kendall's tau-b with its uncertainty: ``null_std`` (the spread of tau for unrelated
    rankings of ``runs`` items) and a bootstrap interval ``(low, high)`` over resampled runs.

    Examples
    --------
    >>> kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]).tau
    0.6666666666666666
    """

    tau: float
    null_std: float
    low: float
    high: float
    runs: int


def _tau_b(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """tau-b of the last dimension of x and y (batched)."""
    sx = torch.sign(x[..., :, None] - x[..., None, :])
    sy = torch.sign(y[..., :, None] - y[..., None, :])
    num = (sx * sy).sum((-1, -2))
    den = torch.sqrt((sx.abs().sum((-1, -2))) * (sy.abs().sum((-1, -2))))
    return torch.where(den > 0, num / den.clamp_min(1e-300), torch.zeros_like(num))


@validate_params(
    {
        "x": Vector(),
        "y": Vector(),
        "level": Fraction(low_open=True, high_open=True),
        "resamples": Int(1),
    }
)
def kendall_tau(
    x: object,
    y: object,
    *,
    level: float = 0.9,
    resamples: int = 2000,
    seed: int | torch.Generator | None = 0,
) -> KendallTau:
    r"""Kendall's rank correlation :math:`\tau_b` of two sequences, with an honest uncertainty.

    .. math:: \tau_b = \frac{\sum_{i<j}\operatorname{sign}(x_i-x_j)\operatorname{sign}(y_i-y_j)}
              {\sqrt{(n_0 - n_x)(n_0 - n_y)}},

    :math:`n_0 = N(N-1)/2` pairs, :math:`n_x, n_y` the pairs tied in :math:`x` or :math:`y`.
    With :math:`N` runs, two unrelated rankings give :math:`\tau` with mean 0 and standard
    deviation :math:`\sqrt{2(2N+5)/(9N(N-1))}` (Kendall 1938): about 0.19 for 20 runs, so a
    :math:`|\tau|` below about twice that is not evidence of any correlation. The interval is
    the bootstrap percentile interval of level ``level`` over ``resamples`` resamplings of the
    runs with replacement.

    Parameters
    ----------
    x, y : Tensor of shape (N,)
        A measure and the generalization gap over :math:`N \ge 3` runs.
    level : float
        Coverage of the bootstrap interval, in (0, 1).
    resamples : int
        Bootstrap resamples (``>= 1``).
    seed : int or torch.Generator

    Returns
    -------
    KendallTau
        ``(tau, null_std, low, high, runs)``.

    Raises
    ------
    ValueError
        If the lengths differ, :math:`N < 3`, or an entry is not finite.

    References
    ----------
    Kendall (1938), A new measure of rank correlation, Biometrika 30; Jiang et al. (2020),
    ICLR, section 5.

    Examples
    --------
    >>> r = kendall_tau([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0])
    >>> round(r.tau, 3), round(r.null_std, 3), r.runs
    (0.6, 0.408, 5)
    """
    xt = as_vector(x, "x").double()
    yt = as_vector(y, "y", xt.shape[0]).double().to(xt.device)
    n = xt.shape[0]
    if n < 3:
        raise ValueError(f"x must have at least 3 entries, got {n}")
    level = check_fraction(level, "level", low_open=True, high_open=True)
    resamples = check_int(resamples, "resamples", minimum=1)
    tau = float(_tau_b(xt, yt))
    null_std = math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))
    idx = torch.randint(n, (resamples, n), generator=generator(seed)).to(xt.device)
    boot = _tau_b(xt[idx], yt[idx])
    a = (1 - level) / 2
    q = torch.quantile(boot, torch.tensor([a, 1 - a], dtype=boot.dtype, device=boot.device))
    return KendallTau(tau, null_std, float(q[0]), float(q[1]), n)
