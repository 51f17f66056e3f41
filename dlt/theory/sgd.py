r"""Minibatch SGD on Gaussian linear regression, exactly: risk, steps to a target, noise scales.

Inputs :math:`x \sim \mathcal N(0, H)` with :math:`H = \operatorname{diag}(\lambda_1, \dots,
\lambda_d)`, labels :math:`y = w_*^\top x + \varepsilon`, :math:`\varepsilon \sim \mathcal N(0,
\sigma^2)`, and online SGD with batch size :math:`B` and learning rate :math:`\eta` on
:math:`L(w) = \tfrac12\,\mathbb E(y - w^\top x)^2`. With :math:`e = w - w_*` and a diagonal
second moment :math:`m_i = \mathbb E e_i^2` at the start (for instance :math:`w_0 = 0` and
independent coordinates of :math:`w_*`), Gaussian fourth moments close the recursion
(:math:`\mathbb E[x x^\top M x x^\top] = 2HMH + \operatorname{tr}(HM)H`)

.. math::

    m_i \leftarrow (1 - \eta\lambda_i)^2 m_i
    + \frac{\eta^2}{B}\Big(\lambda_i^2 m_i + \lambda_i \sum_j \lambda_j m_j + \sigma^2\lambda_i\Big),

and the expected excess risk is :math:`R = L - \sigma^2/2 = \tfrac12 \sum_i \lambda_i m_i`
(Jain et al. 2018 study the same minibatch recursion; Zhang et al. 2025 use this model as
the infinite-dimensional proxy of the critical batch size).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..core.params import Int, NonNegative, Vector, validate_params
from ..core.validate import as_vector, check_int, check_nonnegative, check_positive

__all__ = [
    "sgd_risk",
    "steps_to_target",
    "StepsToTarget",
    "fit_critical_batch",
    "HyperbolaFit",
]

_CAP = 1e30  # second moments are clipped here: a diverging run never reaches a target


def _spectrum(eigenvalues: object, init: object) -> tuple[torch.Tensor, torch.Tensor]:
    lam = as_vector(eigenvalues, "eigenvalues")
    if bool((lam <= 0).any()):
        raise ValueError("eigenvalues must be > 0")
    m0 = as_vector(init, "init", n=lam.shape[0]).to(lam.dtype)
    if bool((m0 < 0).any()):
        raise ValueError("init must be >= 0 (second moments)")
    return lam, m0


def _grid(values: object, name: str, *, integer: bool, dtype: torch.dtype) -> torch.Tensor:
    seq = [values] if isinstance(values, int | float) else values
    if isinstance(seq, torch.Tensor):
        seq = seq.reshape(-1).tolist()
    if not isinstance(seq, Sequence | np.ndarray) or len(seq) == 0:
        raise TypeError(f"{name} must be a number or a non-empty sequence, got {values!r}")
    out = [check_int(v, name, minimum=1) if integer else check_positive(v, name) for v in list(seq)]
    return torch.tensor(out, dtype=dtype)


def _step(
    m: torch.Tensor, lam: torch.Tensor, eta: torch.Tensor, inv_b: torch.Tensor, var: float
) -> torch.Tensor:
    # m: (n_batch, n_lr, d); eta: (1, n_lr, 1); inv_b: (n_batch, 1, 1)
    risk2 = (m * lam).sum(-1, keepdim=True)  # sum_j lambda_j m_j
    m = (1 - eta * lam) ** 2 * m + eta**2 * inv_b * (lam**2 * m + lam * risk2 + var * lam)
    return m.clamp(max=_CAP)


@validate_params(
    {"eigenvalues": Vector(), "init": Vector(), "noise": NonNegative(), "steps": Int(0)}
)
def sgd_risk(
    eigenvalues: torch.Tensor | Sequence[float],
    init: torch.Tensor | Sequence[float],
    *,
    noise: float,
    batch_size: int | Sequence[int],
    lr: float | Sequence[float],
    steps: int,
) -> torch.Tensor:
    r"""Expected excess risk of online minibatch SGD on Gaussian linear regression, exactly.

    Iterates the recursion of the module docstring for every pair of batch size and
    learning rate at once and returns :math:`R_t = \tfrac12\sum_i \lambda_i m_i(t)`.

    Parameters
    ----------
    eigenvalues : tensor of shape (d,)
        The spectrum :math:`\lambda_i > 0` of the input covariance.
    init : tensor of shape (d,)
        Second moments :math:`m_i(0) = \mathbb E (w_0 - w_*)_i^2 \ge 0`.
    noise : float
        Label-noise standard deviation :math:`\sigma \ge 0`.
    batch_size : int or sequence of int
        Batch sizes :math:`B \ge 1` (``n_batch`` of them).
    lr : float or sequence of float
        Learning rates :math:`\eta > 0` (``n_lr`` of them).
    steps : int
        Number of SGD steps :math:`\ge 0`.

    Returns
    -------
    Tensor of shape (n_batch, n_lr, steps + 1)
        The excess risk after ``0, 1, ..., steps`` steps, in the dtype of ``eigenvalues``;
        a diverging run saturates near ``1e30``.

    Raises
    ------
    ValueError
        If a shape, a sign or a size is wrong, or an input is not finite.

    References
    ----------
    Jain, Kakade, Kidambi, Netrapalli, Sidford (2018), "Parallelizing stochastic gradient
    descent for least squares regression", JMLR 18(223).

    Examples
    --------
    >>> lam = torch.tensor([1.0, 0.5], dtype=torch.float64)
    >>> r = sgd_risk(lam, torch.ones(2, dtype=torch.float64), noise=0.0, batch_size=[1, 4],
    ...              lr=0.5, steps=1)
    >>> r.shape, round(float(r[0, 0, 0]), 4)  # R_0 = (1 + 0.5) / 2
    (torch.Size([2, 1, 2]), 0.75)
    >>> bool(r[1, 0, 1] < r[0, 0, 1])  # a larger batch has less gradient noise
    True
    """
    lam, m0 = _spectrum(eigenvalues, init)
    var = check_nonnegative(noise, "noise") ** 2
    b = _grid(batch_size, "batch_size", integer=True, dtype=lam.dtype).to(lam.device)
    eta = _grid(lr, "lr", integer=False, dtype=lam.dtype).to(lam.device)
    steps = check_int(steps, "steps", minimum=0)
    inv_b, eta3 = (1 / b)[:, None, None], eta[None, :, None]
    m = m0.expand(len(b), len(eta), -1).clone()
    out = torch.empty(len(b), len(eta), steps + 1, dtype=lam.dtype, device=lam.device)
    out[..., 0] = 0.5 * (m * lam).sum(-1)
    for t in range(steps):
        m = _step(m, lam, eta3, inv_b, var)
        out[..., t + 1] = 0.5 * (m * lam).sum(-1)
    return out


class StepsToTarget(NamedTuple):
    """Steps (and examples) to reach each target, at the best learning rate per batch size.

    ``steps[k, j]`` is the fewest steps after which some learning rate of the grid brings
    the excess risk to ``targets[k]`` times its initial value with batch size
    ``batch_sizes[j]`` (``inf`` if none does within ``max_steps``); ``lr[k, j]`` is that
    learning rate (``nan`` if none), ``examples = steps * batch_sizes``.

    Examples
    --------
    >>> r = steps_to_target([1.0], [1.0], noise=0.0, batch_sizes=[1], lrs=[0.5], targets=[0.2])
    >>> r.steps.tolist()  # m <- (1/4) m + (1/4)(m + m): R_t = 0.75^t R_0, below 0.2 R_0 at t = 6
    [[6.0]]
    """

    batch_sizes: torch.Tensor
    targets: torch.Tensor
    steps: torch.Tensor
    lr: torch.Tensor
    examples: torch.Tensor


@validate_params(
    {"eigenvalues": Vector(), "init": Vector(), "noise": NonNegative(), "max_steps": Int(1)}
)
def steps_to_target(
    eigenvalues: torch.Tensor | Sequence[float],
    init: torch.Tensor | Sequence[float],
    *,
    noise: float,
    batch_sizes: Sequence[int],
    lrs: Sequence[float],
    targets: Sequence[float],
    max_steps: int = 100_000,
) -> StepsToTarget:
    r"""Steps to bring the excess risk to a fraction of its start, minimized over learning rates.

    :math:`S(B) = \min_{\eta} \min\{t : R_t(B, \eta) \le \text{target} \cdot R_0\}`, with
    :math:`R_t` from the recursion of :func:`sgd_risk`. The minimum over the grid is found
    on the fly: the first step at which any learning rate reaches the target is
    :math:`S(B)`, so the recursion stops as soon as every (target, batch size) pair is
    settled or at ``max_steps``.

    Parameters
    ----------
    eigenvalues, init, noise
        As in :func:`sgd_risk`.
    batch_sizes : sequence of int
        Batch sizes :math:`B \ge 1`.
    lrs : sequence of float
        The learning-rate grid (each :math:`> 0`).
    targets : sequence of float
        Targets as fractions of the initial excess risk, each in ``(0, 1)``.
    max_steps : int
        Give up after this many steps (``>= 1``).

    Returns
    -------
    StepsToTarget

    Raises
    ------
    ValueError
        If an argument has the wrong shape, sign or range.

    References
    ----------
    McCandlish, Kaplan, Amodei and the OpenAI Dota team (2018), "An empirical model of
    large-batch training", arXiv:1812.06162.

    Examples
    --------
    >>> lam = 1.0 / torch.arange(1, 51, dtype=torch.float64)
    >>> r = steps_to_target(lam, lam, noise=0.3, batch_sizes=[1, 8, 64], lrs=[0.1, 0.3, 1.0],
    ...                     targets=[0.1])
    >>> bool(r.steps[0, 0] > r.steps[0, 1] > r.steps[0, 2])  # larger batches, fewer steps
    True
    """
    lam, m0 = _spectrum(eigenvalues, init)
    var = check_nonnegative(noise, "noise") ** 2
    b = _grid(list(batch_sizes), "batch_sizes", integer=True, dtype=lam.dtype).to(lam.device)
    eta = _grid(list(lrs), "lrs", integer=False, dtype=lam.dtype).to(lam.device)
    tg = _grid(list(targets), "targets", integer=False, dtype=lam.dtype).to(lam.device)
    if bool((tg >= 1).any()):
        raise ValueError(f"targets must be fractions in (0, 1), got {tg.tolist()}")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    # m <- a * m + c * (sum_j lambda_j m_j + sigma^2), with a = (1 - eta lam)^2 + eta^2 lam^2 / B
    # and c = eta^2 lam / B; a batch size leaves the state once all its targets are settled.
    eta3, lam3 = eta[None, :, None], lam[None, None, :]
    inv_b = (1 / b)[:, None, None]
    a = (1 - eta3 * lam3) ** 2 + eta3**2 * lam3**2 * inv_b  # (n_batch, n_lr, d)
    c = eta3**2 * lam3 * inv_b
    m = m0.expand(len(b), len(eta), -1).clone()
    r0 = 0.5 * float((m0 * lam).sum())
    goal = (tg * r0)[:, None, None]  # (n_target, 1, 1)
    steps = torch.full((len(tg), len(b)), math.inf, dtype=lam.dtype, device=lam.device)
    best = torch.full_like(steps, math.nan)
    active = torch.arange(len(b), device=lam.device)
    for t in range(1, max_steps + 1):
        s2 = m @ lam  # (n_active, n_lr): sum_j lambda_j m_j
        m = (a * m + c * (s2 + var)[..., None]).clamp(max=_CAP)
        risk = 0.5 * (m @ lam)
        open_ = torch.isinf(steps[:, active])  # (n_target, n_active)
        hit = (risk[None] <= goal) & open_[..., None]
        new = hit.any(-1)
        if bool(new.any()):
            masked = torch.where(hit, risk[None].expand_as(hit), torch.inf)
            steps[:, active] = torch.where(
                new, torch.full_like(new, t, dtype=lam.dtype), steps[:, active]
            )
            best[:, active] = torch.where(new, eta[masked.argmin(-1)], best[:, active])
            keep = torch.isinf(steps[:, active]).any(0)
            if not bool(keep.any()):
                break
            if not bool(keep.all()):
                active, a, c, m = active[keep], a[keep], c[keep], m[keep]
    return StepsToTarget(b, tg, steps, best, steps * b)


class HyperbolaFit(NamedTuple):
    r"""The fit :math:`S(B) = S_{\min}(1 + B_{\rm crit}/B)`, :math:`E_{\min} = S_{\min} B_{\rm crit}`.

    ``rms_log_error`` is the root-mean-square of :math:`\log S - \log \hat S` over the
    points used.

    Examples
    --------
    >>> f = fit_critical_batch([1, 10, 100], [110.0, 20.0, 11.0])
    >>> round(f.b_crit, 3), round(f.s_min, 3), round(f.e_min, 3)
    (10.0, 10.0, 100.0)
    """

    s_min: float
    b_crit: float
    e_min: float
    rms_log_error: float


@validate_params({"batch_sizes": Vector(), "steps": Vector(finite=False)})
def fit_critical_batch(
    batch_sizes: torch.Tensor | Sequence[float], steps: torch.Tensor | Sequence[float]
) -> HyperbolaFit:
    r"""Fit :math:`S = S_{\min}(1 + B_{\rm crit}/B)` to steps against batch size, in log space.

    Minimizes :math:`\sum_j (\log S_j - \log S_{\min} - \log(1 + B_{\rm crit}/B_j))^2`. For
    a fixed :math:`B_{\rm crit}` the best :math:`\log S_{\min}` is a mean, so the fit is a
    one-dimensional search over :math:`\log B_{\rm crit}` (a grid, then a bounded Brent
    search), within :math:`[10^{-3}\min B, 10^{3}\max B]`. Points with infinite steps (never
    reached) are left out.

    Parameters
    ----------
    batch_sizes : tensor of shape (n,)
        Batch sizes, each :math:`> 0`.
    steps : tensor of shape (n,)
        Steps to the target, each :math:`> 0` or ``inf``; at least 3 finite.

    Returns
    -------
    HyperbolaFit

    Raises
    ------
    ValueError
        If the lengths differ, a value is not positive, or fewer than 3 points are finite.

    References
    ----------
    McCandlish et al. (2018), "An empirical model of large-batch training", eq. (2.11).

    Examples
    --------
    >>> b = [1, 2, 4, 8, 16, 32]
    >>> fit = fit_critical_batch(b, [5.0 * (1 + 4.0 / x) for x in b])
    >>> round(fit.b_crit, 4), round(fit.rms_log_error, 6)
    (4.0, 0.0)
    """
    from scipy.optimize import minimize_scalar

    bs = as_vector(batch_sizes, "batch_sizes", finite=True).to(torch.float64)
    st = as_vector(steps, "steps", n=bs.shape[0], finite=False).to(torch.float64)
    if bool(torch.isnan(st).any()):
        raise ValueError("steps must not be NaN (use inf for a target never reached)")
    if bool((bs <= 0).any()) or bool((st <= 0).any()):
        raise ValueError("batch_sizes and steps must be > 0")
    keep = torch.isfinite(st)
    if int(keep.sum()) < 3:
        raise ValueError(f"steps must have at least 3 finite values, got {int(keep.sum())}")
    b, log_s = bs[keep].numpy(), np.log(st[keep].numpy())

    def residual(log_c: float) -> np.ndarray:
        r = log_s - np.log1p(math.exp(log_c) / b)
        return r - r.mean()

    def loss(log_c: float) -> float:
        return float((residual(log_c) ** 2).sum())

    lo, hi = math.log(b.min() * 1e-3), math.log(b.max() * 1e3)
    grid = np.linspace(lo, hi, 200)
    k = int(np.argmin([loss(c) for c in grid]))
    a, z = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    log_c = float(minimize_scalar(loss, bounds=(a, z), method="bounded").x) if z > a else a
    b_crit = math.exp(log_c)
    s_min = math.exp(float((log_s - np.log1p(b_crit / b)).mean()))
    rms = math.sqrt(loss(log_c) / len(b))
    return HyperbolaFit(s_min, b_crit, s_min * b_crit, rms)
