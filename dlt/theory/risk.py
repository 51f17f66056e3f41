r"""Limiting risks of ridge(less) least squares with isotropic features (Hastie et al. 2022)."""

from __future__ import annotations

import numpy as np

from ..core.params import NonNegative, validate_params
from ..core.validate import check_nonnegative

__all__ = ["mp_stieltjes", "asymptotic_risk_isotropic", "optimal_ridge_risk"]


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

    Examples
    --------
    >>> round(mp_stieltjes(-1.0, 1.0), 6)  # (sqrt(5) - 1) / 2
    0.618034
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


@validate_params({"noise": NonNegative(), "signal": NonNegative(), "lam": NonNegative()})
def asymptotic_risk_isotropic(
    gamma: object,
    *,
    signal: float = 1.0,
    noise: float = 1.0,
    lam: float = 0.0,
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
    :math:`\hat\beta_\lambda` of :func:`dlt.interpolation.ridge` with :math:`\lambda > 0`

    .. math:: R_\lambda(\gamma) = r^2 \lambda^2 m'(-\lambda)
              + \sigma^2\gamma\,\big(m(-\lambda) - \lambda m'(-\lambda)\big),

    with :math:`m` the Marchenko-Pastur Stieltjes transform (:func:`mp_stieltjes`).
    The risk of a test point is :math:`R + \sigma^2`.

    Parameters
    ----------
    gamma : float or array
        :math:`\gamma = p/n > 0`.
    signal : float
        :math:`r = \|\beta\| \ge 0`, the standard deviation of the signal :math:`x^\top\beta`.
    noise : float
        :math:`\sigma \ge 0`, the standard deviation of the noise :math:`\varepsilon`.
    lam : float
        Ridge penalty :math:`\lambda \ge 0`, in the convention of :func:`dlt.interpolation.ridge`.

    Returns
    -------
    float or ndarray (the shape of ``gamma``); ``inf`` at ``gamma == 1`` when ``lam == 0`` and ``noise > 0``.

    Raises
    ------
    ValueError
        If ``gamma <= 0``, ``signal < 0``, ``noise < 0`` or ``lam < 0``.

    References
    ----------
    T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, "Surprises in high-dimensional
    ridgeless least squares interpolation", Annals of Statistics 50(2), 949-986, 2022.

    Examples
    --------
    >>> round(asymptotic_risk_isotropic(0.5, signal=1.0, noise=1.0), 6)
    1.0
    >>> round(asymptotic_risk_isotropic(2.0, signal=1.0, noise=1.0), 6)
    1.5
    """
    g = _gamma_array(gamma)
    sigma2 = check_nonnegative(noise, "noise") ** 2
    r2 = check_nonnegative(signal, "signal") ** 2
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


@validate_params({"noise": NonNegative(), "signal": NonNegative()})
def optimal_ridge_risk(
    gamma: object, *, signal: float = 1.0, noise: float = 1.0
) -> float | np.ndarray:
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
    signal, noise : float
        :math:`r = \|\beta\|` and :math:`\sigma`, standard deviations of signal and noise
        (``>= 0``); with ``noise = 0`` the optimum is ridgeless and the risk
        is :math:`r^2 (1 - 1/\gamma)_+`.

    Returns
    -------
    float or ndarray.

    Examples
    --------
    >>> bool(optimal_ridge_risk(1.0) < 1.0)
    True
    """
    g = _gamma_array(gamma)
    sigma2 = check_nonnegative(noise, "noise") ** 2
    r2 = check_nonnegative(signal, "signal") ** 2
    if sigma2 == 0:
        return _out(r2 * np.clip(1 - 1 / g, 0, None))
    if r2 == 0:
        return _out(np.zeros_like(g))
    lam_star = g * sigma2 / r2
    a = 1 - g + lam_star
    m = (np.sqrt(a * a + 4 * g * lam_star) - a) / (2 * g * lam_star)
    return _out(sigma2 * g * m)
