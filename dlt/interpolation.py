r"""Interpolating least squares: min-norm and ridge solutions, random features, risk formulas.

The estimators work on a design ``X`` of shape ``(n, p)`` or a batch of designs of shape
``(T, n, p)`` (``T`` independent trials solved at once), and go through the thin SVD
:math:`X = U S V^\top`, so they are sound on both sides of :math:`p = n` and never form
the inverse of an ill-conditioned Gram matrix.

The closed forms are those of isotropic ridge(less) regression (Hastie, Montanari, Rosset
and Tibshirani 2022) and the effective ranks of benign overfitting (Bartlett, Long,
Lugosi and Tsigler 2020).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ._validate import check_choice, check_int, check_nonnegative, check_positive, generator

__all__ = [
    "min_norm_interpolator",
    "ridge",
    "ridge_path",
    "random_features",
    "asymptotic_risk_isotropic",
    "optimal_ridge_risk",
    "mp_stieltjes",
    "effective_ranks",
    "critical_index",
    "BLLBound",
    "bll_risk_bound",
]

_FEATURE_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "erf": torch.erf,
    "identity": lambda z: z,
}


def _design(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a (batched) design and response; return float tensors of shape (..., n, p), (..., n)."""
    if not isinstance(X, torch.Tensor):
        X = torch.as_tensor(X)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    if X.ndim not in (2, 3):
        raise ValueError(f"X must have shape (n, p) or (trials, n, p), got shape {tuple(X.shape)}")
    if X.shape[-1] == 0 or X.shape[-2] == 0:
        raise ValueError(f"X must be non-empty, got shape {tuple(X.shape)}")
    if not X.is_floating_point():
        X = X.to(torch.get_default_dtype())
    if y.ndim == X.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim != X.ndim - 1:
        raise ValueError(f"y must have shape {tuple(X.shape[:-1])} to match X, got shape {tuple(y.shape)}")
    if y.shape[-1] != X.shape[-2]:
        raise ValueError(f"y must have length {X.shape[-2]} (the rows of X), got length {y.shape[-1]}")
    if X.ndim == 3 and y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} trials to match X, got {y.shape[0]}")
    return X, y.to(dtype=X.dtype, device=X.device)


def _thin_svd(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin SVD ``X = U diag(s) Vh``, computed on the tall orientation (LAPACK is faster there)."""
    if X.shape[-1] > X.shape[-2]:
        Ut, s, Vht = torch.linalg.svd(X.transpose(-1, -2), full_matrices=False)
        return Vht.transpose(-1, -2), s, Ut.transpose(-1, -2)
    return torch.linalg.svd(X, full_matrices=False)


def _svd_solve(X: torch.Tensor, y: torch.Tensor, shrink: torch.Tensor | None, rcond: float | None) -> torch.Tensor:
    U, s, Vh = _thin_svd(X)
    Uty = (U.transpose(-1, -2) @ y.unsqueeze(-1)).squeeze(-1)
    if shrink is None:  # pseudo-inverse: 1/s above the cut-off, 0 below
        cut = (rcond if rcond is not None else max(X.shape[-2:]) * torch.finfo(X.dtype).eps)
        tol = cut * s[..., :1]
        inv = torch.where(s > tol, 1.0 / s.clamp_min(torch.finfo(X.dtype).tiny), torch.zeros_like(s))
    else:
        inv = s / (s**2 + shrink)
    return (Vh.transpose(-1, -2) @ (inv * Uty).unsqueeze(-1)).squeeze(-1)


def min_norm_interpolator(X: torch.Tensor, y: torch.Tensor, *, rcond: float | None = None) -> torch.Tensor:
    r"""The minimum-norm least-squares solution :math:`\hat\beta = X^{+} y`.

    .. math:: \hat\beta = \arg\min\{\|\beta\|_2 : \beta \text{ minimizes } \|y - X\beta\|_2\}
              = V S^{+} U^\top y, \qquad X = U S V^\top .

    For :math:`p > n` (and :math:`X` of full row rank) it interpolates, :math:`X\hat\beta = y`,
    and equals the limit of gradient descent on the squared loss from :math:`\beta_0 = 0`; for
    :math:`p < n` it is ordinary least squares. It is the ridgeless limit
    :math:`\lambda \to 0^+` of :func:`ridge` (Hastie et al. 2022).

    Parameters
    ----------
    X : Tensor of shape (n, p) or (T, n, p)
        Design; a leading dimension solves ``T`` independent problems at once.
    y : Tensor of shape (n,) or (T, n)
        Responses.
    rcond : float, optional
        Singular values below ``rcond * s_max`` count as zero (default ``max(n, p) * eps``,
        as ``numpy.linalg.pinv``).

    Returns
    -------
    Tensor of shape (p,) or (T, p).

    Raises
    ------
    ValueError
        If the shapes of ``X`` and ``y`` do not match.

    References
    ----------
    T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, "Surprises in high-dimensional
    ridgeless least squares interpolation", Annals of Statistics 50(2), 2022.

    Examples
    --------
    >>> X, y = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    >>> torch.allclose(X @ min_norm_interpolator(X, y), y)
    True
    """
    X, y = _design(X, y)
    if rcond is not None:
        rcond = check_nonnegative(rcond, "rcond")
    return _svd_solve(X, y, None, rcond)


def ridge(X: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    r"""Ridge regression with the :math:`1/n` normalisation of Hastie et al. (2022).

    .. math:: \hat\beta_\lambda = \arg\min_\beta \tfrac1n\|y - X\beta\|_2^2 + \lambda\|\beta\|_2^2
              = (X^\top X / n + \lambda I)^{-1} X^\top y / n
              = V\,\mathrm{diag}\Big(\frac{s_i}{s_i^2 + n\lambda}\Big) U^\top y .

    ``lam = 0`` gives :func:`min_norm_interpolator`.

    Parameters
    ----------
    X : Tensor of shape (n, p) or (T, n, p)
    y : Tensor of shape (n,) or (T, n)
    lam : float
        Penalty :math:`\lambda \ge 0`.

    Returns
    -------
    Tensor of shape (p,) or (T, p).

    Raises
    ------
    ValueError
        If ``lam < 0`` or the shapes do not match.

    Examples
    --------
    >>> X, y = torch.randn(20, 5, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    >>> b = ridge(X, y, 0.1)
    >>> torch.allclose(b, torch.linalg.solve(X.T @ X / 20 + 0.1 * torch.eye(5, dtype=X.dtype), X.T @ y / 20))
    True
    """
    lam = check_nonnegative(lam, "lam")
    X, y = _design(X, y)
    if lam == 0:
        return _svd_solve(X, y, None, None)
    return _svd_solve(X, y, torch.tensor(X.shape[-2] * lam, dtype=X.dtype, device=X.device), None)


def ridge_path(X: torch.Tensor, y: torch.Tensor, lams: object) -> torch.Tensor:
    r"""Ridge solutions :math:`\hat\beta_\lambda` of :func:`ridge` for several penalties from one SVD.

    Parameters
    ----------
    X : Tensor of shape (n, p) or (T, n, p)
    y : Tensor of shape (n,) or (T, n)
    lams : sequence of float
        Penalties :math:`\lambda \ge 0` (``0`` gives the min-norm interpolator).

    Returns
    -------
    Tensor of shape (L, p) or (T, L, p) for ``L = len(lams)``.

    Examples
    --------
    >>> X, y = torch.randn(10, 30, dtype=torch.float64), torch.randn(10, dtype=torch.float64)
    >>> torch.allclose(ridge_path(X, y, [0.0, 0.5])[1], ridge(X, y, 0.5))
    True
    """
    lam_list = [check_nonnegative(v, "lams") for v in np.atleast_1d(np.asarray(lams, dtype=float))]
    X, y = _design(X, y)
    U, s, Vh = _thin_svd(X)
    Uty = (U.transpose(-1, -2) @ y.unsqueeze(-1)).squeeze(-1).unsqueeze(-2)  # (..., 1, k)
    n = X.shape[-2]
    tol = max(X.shape[-2:]) * torch.finfo(X.dtype).eps * s[..., :1]
    pinv = torch.where(s > tol, 1.0 / s.clamp_min(torch.finfo(X.dtype).tiny), torch.zeros_like(s))
    inv = torch.stack([pinv if lam == 0 else s / (s**2 + n * lam) for lam in lam_list], dim=-2)  # (..., L, k)
    return (inv * Uty) @ Vh


def random_features(
    X: torch.Tensor,
    n_features: int,
    activation: str = "relu",
    seed: int | torch.Generator | None = 0,
) -> torch.Tensor:
    r"""Random features :math:`\phi(x) = \sigma(W x / \sqrt{d})` with :math:`W_{jk} \sim \mathcal N(0, 1)`.

    .. math:: \Phi = \sigma\big(X W^\top / \sqrt{d}\big) \in \mathbb{R}^{n \times N}

    Random-features regression fits the second layer only, by :func:`min_norm_interpolator`
    or :func:`ridge` on :math:`\Phi` (Rahimi and Recht 2007; its double descent at
    :math:`N = n` is computed exactly by Mei and Montanari 2022).

    The weights are drawn from ``seed`` alone, with shape ``(N, d)`` for ``X`` of shape
    ``(n, d)`` and ``(T, N, d)`` for a batch ``(T, n, d)``: calling again with the same
    seed and shapes (say on test inputs) gives the same feature map.

    Parameters
    ----------
    X : Tensor of shape (n, d) or (T, n, d)
    n_features : int
        Number of features ``N >= 1``.
    activation : {"relu", "tanh", "erf", "identity"}
    seed : int or torch.Generator

    Returns
    -------
    Tensor of shape (n, N) or (T, n, N).

    References
    ----------
    S. Mei, A. Montanari, "The generalization error of random features regression: precise
    asymptotics and the double descent curve", Comm. Pure Appl. Math. 75(4), 2022.

    Examples
    --------
    >>> X = torch.randn(4, 3)
    >>> torch.equal(random_features(X, 10, seed=1), random_features(X, 10, seed=1))
    True
    """
    if not isinstance(X, torch.Tensor):
        X = torch.as_tensor(X, dtype=torch.get_default_dtype())
    if X.ndim not in (2, 3) or X.shape[-1] == 0:
        raise ValueError(f"X must have shape (n, d) or (trials, n, d), got shape {tuple(X.shape)}")
    n_features = check_int(n_features, "n_features", minimum=1)
    phi = _FEATURE_ACTIVATIONS[check_choice(activation, "activation", tuple(_FEATURE_ACTIVATIONS))]
    d = X.shape[-1]
    g = generator(seed)
    W = torch.randn(*X.shape[:-2], n_features, d, generator=g, dtype=torch.float64)
    W = W.to(dtype=X.dtype if X.is_floating_point() else torch.get_default_dtype(), device=X.device)
    return phi(X.to(W.dtype) @ W.transpose(-1, -2) / math.sqrt(d))


def _gamma_array(gamma: object) -> np.ndarray:
    g = np.asarray(gamma, dtype=float)
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise ValueError(f"gamma must be > 0 (gamma = p/n), got {gamma!r}")
    return g


def _out(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


def mp_stieltjes(z: float, gamma: object) -> float | np.ndarray:
    r"""Stieltjes transform :math:`m(z) = \int (s - z)^{-1} d\mu_\gamma(s)` of Marchenko-Pastur, at ``z < 0``.

    .. math:: m(-\lambda) = \frac{-(1 - \gamma + \lambda)
              + \sqrt{(1 - \gamma + \lambda)^2 + 4\gamma\lambda}}{2\gamma\lambda}

    (the limiting spectral law of :math:`X^\top X / n` for isotropic rows and
    :math:`p/n \to \gamma`, including its atom at 0 when :math:`\gamma > 1`).

    Parameters
    ----------
    z : float
        A point :math:`z = -\lambda < 0`.
    gamma : float or array
        Aspect ratio :math:`\gamma = p/n > 0`.
    """
    lam = -float(z)
    if not lam > 0:
        raise ValueError(f"z must be < 0, got {z!r}")
    g = _gamma_array(gamma)
    a = 1 - g + lam
    return _out((np.sqrt(a * a + 4 * g * lam) - a) / (2 * g * lam))


def _mp_stieltjes_derivative(lam: float, g: np.ndarray) -> np.ndarray:
    """m'(z) at z = -lam (derivative in z), from the closed form of m."""
    a = 1 - g + lam
    D = np.sqrt(a * a + 4 * g * lam)
    df = (((a + 2 * g) / D - 1) * lam - (D - a)) / (2 * g * lam * lam)  # d/dlam m(-lam)
    return -df


def asymptotic_risk_isotropic(
    gamma: object,
    r2: float = 1.0,
    sigma2: float = 1.0,
    lam: float = 0.0,
    *,
    snr: float | None = None,
) -> float | np.ndarray:
    r"""Limiting excess risk of ridge(less) least squares with isotropic features.

    Model: :math:`y = x^\top\beta + \varepsilon`, :math:`x \sim \mathcal N(0, I_p)`,
    :math:`\|\beta\|^2 = r^2`, :math:`\mathrm{Var}\,\varepsilon = \sigma^2`, and
    :math:`n, p \to \infty` with :math:`p/n \to \gamma`. The excess risk
    :math:`R = \mathbb{E}_x (x^\top\hat\beta - x^\top\beta)^2 = \|\hat\beta - \beta\|^2`
    converges to (Hastie et al. 2022, Theorems 1 and 5)

    .. math::

        R_0(\gamma) = \begin{cases}
            \sigma^2 \dfrac{\gamma}{1 - \gamma}, & \gamma < 1, \\[1ex]
            r^2\Big(1 - \dfrac1\gamma\Big) + \sigma^2 \dfrac{1}{\gamma - 1}, & \gamma > 1,
        \end{cases}

    for the min-norm interpolator (``lam = 0``; infinite at :math:`\gamma = 1`), and for ridge
    :math:`\hat\beta_\lambda` of :func:`ridge` with :math:`\lambda > 0`

    .. math:: R_\lambda(\gamma) = r^2 \lambda^2 m'(-\lambda)
              + \sigma^2\gamma\,\big(m(-\lambda) - \lambda m'(-\lambda)\big),

    with :math:`m` the Marchenko-Pastur Stieltjes transform (:func:`mp_stieltjes`).
    The risk of a test point is :math:`R + \sigma^2`.

    Parameters
    ----------
    gamma : float or array
        :math:`\gamma = p/n > 0`.
    r2 : float
        Signal energy :math:`r^2 = \|\beta\|^2 \ge 0`.
    sigma2 : float
        Noise variance :math:`\sigma^2 \ge 0`.
    lam : float
        Ridge penalty :math:`\lambda \ge 0` (normalisation of :func:`ridge`).
    snr : float, optional
        If given, :math:`r^2/\sigma^2`; then ``sigma2`` sets the scale and ``r2 = snr * sigma2``.

    Returns
    -------
    float or ndarray (the shape of ``gamma``); ``inf`` at ``gamma == 1`` when ``lam == 0`` and ``sigma2 > 0``.

    Raises
    ------
    ValueError
        If ``gamma <= 0``, ``r2 < 0``, ``sigma2 < 0``, ``snr < 0`` or ``lam < 0``.

    References
    ----------
    T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, "Surprises in high-dimensional
    ridgeless least squares interpolation", Annals of Statistics 50(2), 949-986, 2022.

    Examples
    --------
    >>> round(asymptotic_risk_isotropic(0.5, r2=1.0, sigma2=1.0), 6)
    1.0
    >>> round(asymptotic_risk_isotropic(2.0, r2=1.0, sigma2=1.0), 6)
    1.5
    """
    g = _gamma_array(gamma)
    sigma2 = check_nonnegative(sigma2, "sigma2")
    if snr is not None:
        r2 = check_nonnegative(snr, "snr") * sigma2
    r2 = check_nonnegative(r2, "r2")
    lam = check_nonnegative(lam, "lam")
    if lam == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            under = sigma2 * g / (1 - g)
            over = r2 * (1 - 1 / g) + sigma2 / (g - 1)
            risk = np.where(g < 1, under, over)
            risk = np.where(g == 1, np.inf if sigma2 > 0 else 0.0, risk)
        return _out(risk)
    m = np.asarray(mp_stieltjes(-lam, g))
    dm = _mp_stieltjes_derivative(lam, g)
    return _out(r2 * lam**2 * dm + sigma2 * g * (m - lam * dm))


def optimal_ridge_risk(gamma: object, r2: float = 1.0, sigma2: float = 1.0) -> float | np.ndarray:
    r"""Limiting excess risk of optimally tuned ridge, isotropic features.

    The risk of :func:`asymptotic_risk_isotropic` is minimised at :math:`\lambda^\star = \gamma\sigma^2/r^2`,
    where the bias and variance terms in :math:`m'` cancel and

    .. math:: R^\star(\gamma) = \sigma^2 \gamma\, m(-\lambda^\star),

    finite and increasing in :math:`\gamma`: optimal regularisation removes the peak at
    :math:`\gamma = 1` (Dicker 2016; Hastie et al. 2022, Corollary 5).

    Parameters
    ----------
    gamma : float or array
        :math:`\gamma = p/n > 0`.
    r2, sigma2 : float
        Signal energy and noise variance (``>= 0``); with ``sigma2 = 0`` the optimum is
        ridgeless and the risk is :math:`r^2 (1 - 1/\gamma)_+`.

    Returns
    -------
    float or ndarray.

    Examples
    --------
    >>> bool(optimal_ridge_risk(1.0) < 1.0)
    True
    """
    g = _gamma_array(gamma)
    sigma2 = check_nonnegative(sigma2, "sigma2")
    r2 = check_nonnegative(r2, "r2")
    if sigma2 == 0:
        return _out(r2 * np.clip(1 - 1 / g, 0, None))
    if r2 == 0:
        return _out(np.zeros_like(g))
    lam_star = g * sigma2 / r2
    a = 1 - g + lam_star
    m = (np.sqrt(a * a + 4 * g * lam_star) - a) / (2 * g * lam_star)
    return _out(sigma2 * g * m)


def _spectrum(eigenvalues: object) -> np.ndarray:
    lam = np.asarray(torch.as_tensor(eigenvalues).detach().cpu() if isinstance(eigenvalues, torch.Tensor)
                     else eigenvalues, dtype=float).ravel()
    if lam.size == 0:
        raise ValueError("eigenvalues must be a non-empty 1-d array")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("eigenvalues must be finite and non-negative")
    return np.sort(lam)[::-1]


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
    s1, s2 = float(tail.sum()), float((tail**2).sum())
    r_k = s1 / tail[0] if tail[0] > 0 else math.inf
    R_k = s1 * s1 / s2 if s2 > 0 else math.inf
    return r_k, R_k


def critical_index(eigenvalues: object, n: int, b: float = 1.0) -> int:
    r"""The index :math:`k^\star = \min\{k \ge 0 : r_k(\Sigma) \ge b\,n\}` of Bartlett et al. (2020).

    Returns the number of eigenvalues (``p``) when no ``k`` qualifies.
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
    """The terms of :func:`bll_risk_bound`."""

    k_star: int
    bias: float
    variance: float
    total: float


def bll_risk_bound(
    eigenvalues: object,
    n: int,
    sigma2: float,
    *,
    theta_norm2: float = 1.0,
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

    The constants :math:`b, c, c_1 > 1` are universal but not given numerically in the paper;
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
    sigma2 : float
        Noise level :math:`\sigma^2 \ge 0`.
    theta_norm2 : float
        :math:`\|\theta^\star\|^2 \ge 0`.
    delta : float
        Failure probability in ``(0, 1)``.
    b, c : float
        The universal constants (``> 0``).

    Returns
    -------
    BLLBound(k_star, bias, variance, total). ``variance`` is ``inf`` when :math:`k^\star = p`.

    Examples
    --------
    >>> bound = bll_risk_bound([1.0] * 5 + [0.005] * 10000, n=100, sigma2=1.0)
    >>> bound.k_star
    5
    """
    lam = _spectrum(eigenvalues)
    n = check_int(n, "n", minimum=1)
    sigma2 = check_nonnegative(sigma2, "sigma2")
    theta_norm2 = check_nonnegative(theta_norm2, "theta_norm2")
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
