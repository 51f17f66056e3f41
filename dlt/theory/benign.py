r"""Effective ranks and the risk bound of benign overfitting (Bartlett, Long, Lugosi and Tsigler 2020)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ..core.params import Int, NonNegative, Positive, validate_params
from ..core.validate import check_int, check_nonnegative, check_positive

__all__ = ["effective_ranks", "critical_index", "BLLBound", "bll_risk_bound"]


def _spectrum(eigenvalues: object) -> np.ndarray:
    lam = np.asarray(
        torch.as_tensor(eigenvalues).detach().cpu()
        if isinstance(eigenvalues, torch.Tensor)
        else eigenvalues,
        dtype=float,
    ).ravel()
    if lam.size == 0:
        raise ValueError("eigenvalues must be a non-empty 1-d array")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("eigenvalues must be finite and non-negative")
    return np.sort(lam)[::-1]


@validate_params({"k": Int(0)})
def effective_ranks(eigenvalues: object, k: int) -> tuple[float, float]:
    r"""The effective ranks :math:`r_k` and :math:`R_k` of a covariance spectrum.

    With eigenvalues sorted :math:`\lambda_1 \ge \lambda_2 \ge \dots` (Bartlett et al. 2020, Definition 3):

    .. math:: r_k(\Sigma) = \frac{\sum_{i > k} \lambda_i}{\lambda_{k+1}}, \qquad
              R_k(\Sigma) = \frac{\big(\sum_{i > k} \lambda_i\big)^2}{\sum_{i > k} \lambda_i^2} .

    Both measure how many directions the tail beyond the top ``k`` spreads over; for a flat
    tail of ``q`` equal eigenvalues both equal ``q``.

    Parameters
    ----------
    eigenvalues : array of shape (p,)
        Non-negative eigenvalues of :math:`\Sigma` (any order; sorted here).
    k : int
        ``0 <= k < p``.

    Returns
    -------
    (r_k, R_k) : tuple of float (``inf`` when the tail is zero).

    Raises
    ------
    ValueError
        If an eigenvalue is negative or not finite, or ``k`` is out of range.

    References
    ----------
    P. L. Bartlett, P. M. Long, G. Lugosi, A. Tsigler, "Benign overfitting in linear
    regression", PNAS 117(48), 30063-30070, 2020.

    Examples
    --------
    >>> effective_ranks([4.0, 1.0, 1.0, 1.0], 1)
    (3.0, 3.0)
    """
    lam = _spectrum(eigenvalues)
    k = check_int(k, "k", minimum=0)
    if k >= lam.size:
        raise ValueError(f"k must be < the number of eigenvalues ({lam.size}), got {k}")
    tail = lam[k:]
    if not tail[0] > 0:  # sorted in decreasing order: the whole tail is zero
        return math.inf, math.inf
    # both ranks are invariant to the scale of the spectrum: divide by the tail's largest
    # eigenvalue first, so that squares of tiny eigenvalues (1e-200) do not underflow to 0
    t = tail / tail[0]
    s1, s2 = float(t.sum()), float((t**2).sum())
    return s1, s1 * s1 / s2


@validate_params({"n": Int(1), "b": Positive()})
def critical_index(eigenvalues: object, n: int, b: float = 1.0) -> int:
    r"""The index :math:`k^\star = \min\{k \ge 0 : r_k(\Sigma) \ge b\,n\}` of Bartlett et al. (2020).

    Returns the number of eigenvalues (``p``) when no ``k`` qualifies.

    Examples
    --------
    >>> critical_index([1.0] * 5 + [0.005] * 10000, n=100)  # r_5 = 10000 >= n
    5
    """
    lam = _spectrum(eigenvalues)
    n = check_int(n, "n", minimum=1)
    b = check_positive(b, "b")
    tails = np.cumsum(lam[::-1])[::-1]  # tails[k] = sum_{i > k} lambda_i (0-based)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(lam > 0, tails / np.where(lam > 0, lam, 1.0), np.inf)
    ok = np.nonzero(r >= b * n)[0]
    return int(ok[0]) if ok.size else int(lam.size)


class BLLBound(NamedTuple):
    """The terms of :func:`bll_risk_bound`.

    Examples
    --------
    >>> bll_risk_bound([1.0] * 5 + [0.005] * 10000, n=100, noise=1.0).k_star
    5
    """

    k_star: int
    bias: float
    variance: float
    total: float


@validate_params(
    {
        "n": Int(1),
        "noise": NonNegative(),
        "signal": NonNegative(),
        "delta": Positive(),
        "c": Positive(),
    }
)
def bll_risk_bound(
    eigenvalues: object,
    n: int,
    *,
    noise: float,
    signal: float = 1.0,
    delta: float = 0.05,
    b: float = 1.0,
    c: float = 1.0,
) -> BLLBound:
    r"""The upper bound of Bartlett, Long, Lugosi and Tsigler (2020, Theorem 4) on the min-norm risk.

    With :math:`k^\star = \min\{k : r_k(\Sigma) \ge b n\}` (:func:`critical_index`), if
    :math:`k^\star < n / c_1` and :math:`\log(1/\delta) < n/c`, then with probability at least
    :math:`1 - \delta` the excess risk of the min-norm interpolator satisfies

    .. math::

        R(\hat\theta) \le c\,\|\theta^\star\|^2 \|\Sigma\| \max\Big\{\sqrt{\tfrac{r_0(\Sigma)}{n}},
            \tfrac{r_0(\Sigma)}{n}, \sqrt{\tfrac{\log(1/\delta)}{n}}\Big\}
        + c\,\log(1/\delta)\,\sigma^2\Big(\frac{k^\star}{n} + \frac{n}{R_{k^\star}(\Sigma)}\Big).

    The constants :math:`b, c, c_1 > 1` depend only on the sub-Gaussian constant :math:`\sigma_x` of the
    whitened features :math:`\Lambda^{-1/2}V^\top x` (:math:`\Sigma = V\Lambda V^\top`) and are not
    given numerically in the paper;
    this function takes ``b`` and ``c`` as arguments (default 1), so its value shows the
    *shape* of the bound (which terms dominate, how they scale with ``n`` and the spectrum),
    not a certified number. The variance term matches the paper's lower bound
    :math:`\mathbb{E} R \ge \frac{\sigma^2}{c}\big(\frac{k^\star}{n} + \frac{n}{R_{k^\star}}\big)`
    up to constants: overfitting is benign iff :math:`r_0/n`, :math:`k^\star/n` and
    :math:`n/R_{k^\star}` all tend to 0.

    Parameters
    ----------
    eigenvalues : array of shape (p,)
        Spectrum of :math:`\Sigma`, non-negative.
    n : int
        Sample size.
    noise : float
        Noise standard deviation :math:`\sigma \ge 0`.
    signal : float
        :math:`\|\theta^\star\| \ge 0`.
    delta : float
        Failure probability in ``(0, 1)``.
    b, c : float
        The universal constants (``> 0``).

    Returns
    -------
    BLLBound(k_star, bias, variance, total). ``variance`` is ``inf`` when :math:`k^\star = p`.

    Examples
    --------
    >>> bound = bll_risk_bound([1.0] * 5 + [0.005] * 10000, n=100, noise=1.0)
    >>> bound.k_star
    5
    """
    lam = _spectrum(eigenvalues)
    n = check_int(n, "n", minimum=1)
    sigma2 = check_nonnegative(noise, "noise") ** 2
    theta_norm2 = check_nonnegative(signal, "signal") ** 2
    delta = check_positive(delta, "delta")
    if delta >= 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    c = check_positive(c, "c")
    k_star = critical_index(lam, n, b)
    log_term = math.log(1 / delta)
    r0, _ = effective_ranks(lam, 0)
    bias = c * theta_norm2 * float(lam[0]) * max(math.sqrt(r0 / n), r0 / n, math.sqrt(log_term / n))
    if k_star >= lam.size:
        variance = math.inf
    else:
        _, R = effective_ranks(lam, k_star)
        variance = c * log_term * sigma2 * (k_star / n + n / R)
    return BLLBound(k_star, bias, variance, bias + variance)
