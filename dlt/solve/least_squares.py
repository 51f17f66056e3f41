r"""Least squares, min-norm and ridge solutions, batched, through the thin SVD.

One ridge for the whole book, in the convention of Hastie et al. (2022) and of glmnet:

.. math:: \hat\beta_\lambda = \arg\min_\beta\ \tfrac{1}{2n}\|y - X\beta\|_2^2
          + \tfrac{\lambda}{2}\|\beta\|_2^2 = (X^\top X / n + \lambda I)^{-1} X^\top y / n,

so :math:`\lambda` is a penalty per sample: the Bayes posterior mean for :math:`\beta \sim
\mathcal{N}(0, \tau^2 I)` and noise :math:`\sigma^2` is :math:`\lambda = \sigma^2 / (n\tau^2)`.
The Lasso of :mod:`dlt.solve.lasso` uses the same :math:`\tfrac{1}{2n}` data term.

The estimators take a design ``X`` of shape ``(n, p)`` or a batch ``(T, n, p)`` (``T``
independent problems solved at once) and go through the thin SVD
:math:`X = U S V^\top`, so they are sound on both sides of :math:`p = n` and never form the
inverse of an ill-conditioned Gram matrix.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.params import NonNegative, Tensor, validate_params
from ..core.validate import as_tensor, check_finite, check_nonnegative

__all__ = ["min_norm_interpolator", "ridge", "ridge_path"]  # check_design: a shared helper


def check_design(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a (batched) design and response; return float tensors ``(..., n, p)``, ``(..., n)``."""
    X = as_tensor(X, "X", ndim=(2, 3), shape="(n, p) or (trials, n, p)")
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    if y.ndim == X.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim != X.ndim - 1:
        raise ValueError(
            f"y must have shape {tuple(X.shape[:-1])} to match X, got shape {tuple(y.shape)}"
        )
    if y.shape[-1] != X.shape[-2]:
        raise ValueError(
            f"y must have length {X.shape[-2]} (the rows of X), got length {y.shape[-1]}"
        )
    if X.ndim == 3 and y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} trials to match X, got {y.shape[0]}")
    return X, check_finite(y.to(dtype=X.dtype, device=X.device), "y")


def _thin_svd(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin SVD ``X = U diag(s) Vh``, computed on the tall orientation (LAPACK is faster there)."""
    if X.shape[-1] > X.shape[-2]:
        Ut, s, Vht = torch.linalg.svd(X.transpose(-1, -2), full_matrices=False)
        return Vht.transpose(-1, -2), s, Ut.transpose(-1, -2)
    return torch.linalg.svd(X, full_matrices=False)


def _svd_solve(
    X: torch.Tensor, y: torch.Tensor, shrink: torch.Tensor | None, rcond: float | None
) -> torch.Tensor:
    U, s, Vh = _thin_svd(X)
    Uty = (U.transpose(-1, -2) @ y.unsqueeze(-1)).squeeze(-1)
    if shrink is None:  # pseudo-inverse: 1/s above the cut-off, 0 below
        cut = rcond if rcond is not None else max(X.shape[-2:]) * torch.finfo(X.dtype).eps
        tol = cut * s[..., :1]
        inv = torch.where(
            s > tol, 1.0 / s.clamp_min(torch.finfo(X.dtype).tiny), torch.zeros_like(s)
        )
    else:
        inv = s / (s**2 + shrink)
    return (Vh.transpose(-1, -2) @ (inv * Uty).unsqueeze(-1)).squeeze(-1)


@validate_params({"X": Tensor((2, 3), "(n, p) or (trials, n, p)"), "rcond": NonNegative()})
def min_norm_interpolator(
    X: torch.Tensor, y: torch.Tensor, *, rcond: float | None = None
) -> torch.Tensor:
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
    X, y = check_design(X, y)
    if rcond is not None:
        rcond = check_nonnegative(rcond, "rcond")
    return _svd_solve(X, y, None, rcond)


@validate_params({"X": Tensor((2, 3), "(n, p) or (trials, n, p)"), "lam": NonNegative()})
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
    X, y = check_design(X, y)
    if lam == 0:
        return _svd_solve(X, y, None, None)
    return _svd_solve(X, y, torch.tensor(X.shape[-2] * lam, dtype=X.dtype, device=X.device), None)


@validate_params({"X": Tensor((2, 3), "(n, p) or (trials, n, p)")})
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
    X, y = check_design(X, y)
    U, s, Vh = _thin_svd(X)
    Uty = (U.transpose(-1, -2) @ y.unsqueeze(-1)).squeeze(-1).unsqueeze(-2)  # (..., 1, k)
    n = X.shape[-2]
    tol = max(X.shape[-2:]) * torch.finfo(X.dtype).eps * s[..., :1]
    pinv = torch.where(s > tol, 1.0 / s.clamp_min(torch.finfo(X.dtype).tiny), torch.zeros_like(s))
    inv = torch.stack(
        [pinv if lam == 0 else s / (s**2 + n * lam) for lam in lam_list], dim=-2
    )  # (..., L, k)
    return (inv * Uty) @ Vh
