r"""Max-margin linear classifiers and the minimum-:math:`\ell_1` interpolator, solved exactly.

A linearly separable data set enters as the matrix :math:`Z` whose rows are
:math:`z_i = y_i x_i`. The max-margin direction in a norm :math:`\|\cdot\|` is

.. math:: \hat w = \arg\max_{\|w\| \le 1} \min_i z_i^\top w, \qquad
          \gamma = \min_i z_i^\top \hat w,

the limit of steepest descent in that norm on the logistic loss (Soudry et al. 2018;
Gunasekar et al. 2018). The :math:`\ell_2` problem is a quadratic program, solved here through
its dual as a non-negative least-squares problem (finite and exact); the :math:`\ell_\infty`
problem and basis pursuit are linear programs, solved by HiGHS through ``scipy``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import linprog, nnls

from ..core.params import Matrix, Vector, validate_params
from ..core.validate import as_matrix, as_vector, check_fraction

__all__ = [
    "MaxMargin",
    "max_margin_l2",
    "max_margin_linf",
    "max_margin_linf_spread",
    "min_l1_interpolator",
]


class MaxMargin(NamedTuple):
    """A max-margin classifier: its ``direction`` (unit norm in its own norm) and ``margin``.

    Examples
    --------
    >>> m = MaxMargin(torch.tensor([1.0, 0.0]), torch.tensor(0.5))
    >>> float(m.margin)
    0.5
    """

    direction: torch.Tensor
    margin: torch.Tensor


def _as_z(Z: object) -> torch.Tensor:
    z = as_matrix(Z, "Z")
    if z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"Z must have at least one row and one column, got {tuple(z.shape)}")
    return z


def _unit_scale(zn: np.ndarray) -> np.ndarray:
    """``zn / max|zn|`` (``zn`` itself if it is zero): the solvers' tolerances are absolute."""
    top = float(np.abs(zn).max())
    return zn / top if top > 0 else zn


def _not_separable(margin: float) -> ValueError:
    return ValueError(
        "Z is not linearly separable through the origin: no w has z_i . w > 0 for every row "
        f"(best margin {margin:.3g})"
    )


@validate_params({"Z": Matrix()})
def max_margin_l2(Z: torch.Tensor) -> MaxMargin:
    r"""The :math:`\ell_2` max-margin direction (the hard-margin SVM without bias).

    Solves :math:`\min \frac12\|w\|_2^2` subject to :math:`Zw \ge 1` through its dual. The
    min-norm point of the convex hull of the rows, :math:`p = Z^\top\lambda^\star` with
    :math:`\lambda^\star = \arg\min_{\lambda \in \Delta} \|Z^\top\lambda\|_2`, is the max-margin
    direction up to scale, and :math:`\gamma_2 = \|p\|_2`. It is computed as the
    non-negative least-squares problem

    .. math:: \min_{\alpha \ge 0} \|Z^\top\alpha\|_2^2 + (\mathbf 1^\top\alpha - 1)^2,

    whose solution is :math:`\alpha = \lambda^\star/(1 + \gamma_2^2)` (Lawson-Hanson active
    set: exact up to rounding).

    Parameters
    ----------
    Z : Tensor of shape (n, d)
        Rows :math:`z_i = y_i x_i` of a data set separable through the origin.

    Returns
    -------
    MaxMargin
        ``direction`` of shape (d,) with :math:`\|\hat w\|_2 = 1` and ``margin``
        :math:`\gamma_2 = \min_i z_i^\top \hat w`, float64 tensors on ``Z``'s device.

    Raises
    ------
    ValueError
        If ``Z`` is not a finite matrix, or is not separable through the origin.

    References
    ----------
    Vapnik (1998), Statistical Learning Theory; Soudry, Hoffer, Nacson, Gunasekar and
    Srebro (2018), The implicit bias of gradient descent on separable data, JMLR.

    Examples
    --------
    >>> Z = torch.tensor([[1.0, 1.0], [1.0, -0.5]])
    >>> m = max_margin_l2(Z)
    >>> [round(v, 4) for v in m.direction.tolist()], round(float(m.margin), 4)
    ([1.0, 0.0], 1.0)
    """
    z = _as_z(Z)
    zn = z.detach().cpu().double().numpy()
    zs = _unit_scale(zn)  # the direction is scale-free: solve for Z / max|Z|
    n = zs.shape[0]
    A = np.vstack([zs.T, np.ones((1, n))])
    b = np.zeros(zs.shape[1] + 1)
    b[-1] = 1.0
    alpha, _ = nnls(A, b, maxiter=50 * (n + zs.shape[1]))
    p = zs.T @ (alpha / alpha.sum())
    norm = float(np.linalg.norm(p))
    if norm <= 1e-12:
        raise _not_separable(0.0)
    w = p / norm
    margin = float((zn @ w).min())
    if margin <= 0:
        raise _not_separable(margin)
    return MaxMargin(
        torch.as_tensor(w, dtype=torch.float64, device=z.device),
        torch.tensor(margin, dtype=torch.float64, device=z.device),
    )


@validate_params({"Z": Matrix()})
def max_margin_linf(Z: torch.Tensor) -> MaxMargin:
    r"""The :math:`\ell_\infty` max-margin direction, by a linear program.

    .. math:: \max_{w,\,\gamma}\ \gamma \quad\text{subject to}\quad Zw \ge \gamma\mathbf 1,
              \quad -1 \le w_j \le 1,

    solved by HiGHS (``scipy.optimize.linprog``). It is the limit direction of sign
    gradient descent (steepest descent in :math:`\ell_\infty`) and of Adam on the logistic
    loss.

    Parameters
    ----------
    Z : Tensor of shape (n, d)
        Rows :math:`z_i = y_i x_i` of a data set separable through the origin.

    Returns
    -------
    MaxMargin
        ``direction`` of shape (d,) with :math:`\|\hat w\|_\infty = 1` and ``margin``
        :math:`\gamma_\infty = \min_i z_i^\top \hat w`, float64 tensors on ``Z``'s device.

    Raises
    ------
    ValueError
        If ``Z`` is not a finite matrix, or is not separable through the origin.

    References
    ----------
    Gunasekar, Lee, Soudry and Srebro (2018), Characterizing implicit bias in terms of
    optimization geometry, ICML; Zhang, Zou and Cao (2024), The implicit bias of Adam on
    separable data, NeurIPS.

    Examples
    --------
    >>> Z = torch.tensor([[1.0, 1.0], [1.0, -0.5]])
    >>> m = max_margin_linf(Z)
    >>> [round(v, 4) for v in m.direction.tolist()], round(float(m.margin), 4)
    ([1.0, 0.0], 1.0)
    """
    z = _as_z(Z)
    zn = z.detach().cpu().double().numpy()
    zs = _unit_scale(zn)  # HiGHS's tolerances are absolute: solve for Z / max|Z|
    n, d = zs.shape
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-zs, np.ones((n, 1))])  # gamma - z_i.w <= 0
    bounds = [(-1.0, 1.0)] * d + [(None, None)]
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - the program is always feasible and bounded
        raise RuntimeError(f"linprog failed: {res.message}")
    w = res.x[:d]
    scale = float(np.abs(w).max())
    if scale <= 0 or res.x[-1] <= 1e-12:
        raise _not_separable(float(res.x[-1]) * float(np.abs(zn).max()))
    w = w / scale
    margin = float((zn @ w).min())
    return MaxMargin(
        torch.as_tensor(w, dtype=torch.float64, device=z.device),
        torch.tensor(margin, dtype=torch.float64, device=z.device),
    )


def max_margin_linf_spread(Z: torch.Tensor, slack: float = 1e-9) -> torch.Tensor:
    r"""How far the :math:`\ell_\infty` max-margin direction is from unique, coordinate by coordinate.

    A linear program may have a whole face of maximizers. With :math:`\gamma_\infty` from
    :func:`max_margin_linf`, the maximizers are
    :math:`F = \{w : \|w\|_\infty \le 1,\ Zw \ge \gamma_\infty\mathbf 1\}` (every one has
    :math:`\|w\|_\infty = 1` since :math:`\gamma_\infty > 0`), and for each coordinate this
    returns :math:`\max_{w \in F} w_j - \min_{w \in F} w_j` by :math:`2d` further programs, with
    the margin relaxed to :math:`(1 - \text{slack})\gamma_\infty` so that rounding keeps
    :math:`F` non-empty. The direction is unique exactly when every spread is 0; numerically, the
    spreads are then of the order of the solver's feasibility tolerance (HiGHS's is
    :math:`10^{-7}`) plus ``slack`` times the conditioning of the active constraints, and a
    non-unique solution has spreads of order 1.
    Uniqueness is the hypothesis under which Gunasekar et al. (2018) state convergence in
    direction to this max margin.

    Parameters
    ----------
    Z : Tensor of shape (n, d)
        Rows :math:`z_i = y_i x_i` of a data set separable through the origin.
    slack : float
        Relative relaxation of the margin, in [0, 1e-3].

    Returns
    -------
    Tensor of shape (d,)
        Non-negative spreads, float64 on ``Z``'s device.

    Raises
    ------
    ValueError
        If ``Z`` is not a finite matrix or not separable through the origin, or ``slack`` is
        out of range.

    References
    ----------
    Gunasekar, Lee, Soudry and Srebro (2018), Characterizing implicit bias in terms of
    optimization geometry, ICML.

    Examples
    --------
    >>> max_margin_linf_spread(torch.tensor([[1.0, 1.0], [1.0, -0.5]])).max() < 1e-6  # unique
    tensor(True)
    >>> [round(v, 6) for v in max_margin_linf_spread(torch.tensor([[1.0, 0.0]])).tolist()]
    [0.0, 2.0]
    """
    z = _as_z(Z)
    slack = check_fraction(slack, "slack")
    if slack > 1e-3:
        raise ValueError(f"slack must be in [0, 1e-3], got {slack}")
    gamma = float(max_margin_linf(z).margin)
    zn = z.detach().cpu().double().numpy()
    top = float(np.abs(zn).max())  # > 0, as Z is separable
    zn, gamma = zn / top, gamma / top  # HiGHS's tolerances are absolute: Z / max|Z|
    d = zn.shape[1]
    b_ub = -np.full(zn.shape[0], (1 - slack) * gamma)  # -Zw <= -(1 - slack) gamma
    spread = np.zeros(d)
    for j in range(d):
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(d)
            c[j] = sign
            res = linprog(c, A_ub=-zn, b_ub=b_ub, bounds=[(-1.0, 1.0)] * d, method="highs")
            if res.status != 0:  # pragma: no cover - F holds the max-margin direction
                raise RuntimeError(f"linprog failed: {res.message}")
            ends.append(float(res.x[j]))
        spread[j] = max(ends[1] - ends[0], 0.0)
    return torch.as_tensor(spread, dtype=torch.float64, device=z.device)


@validate_params({"X": Matrix(), "y": Vector()})
def min_l1_interpolator(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Basis pursuit: the interpolator of least :math:`\ell_1` norm, by a linear program.

    .. math:: \min_w \|w\|_1 \quad\text{subject to}\quad Xw = y,

    written with :math:`w = u - v`, :math:`u, v \ge 0` and solved by HiGHS. It is the
    :math:`\alpha \to 0` limit of the diagonal network of
    :func:`dlt.implicit_bias.diagonal_net_solution`.

    Parameters
    ----------
    X : Tensor of shape (n, d)
        With :math:`n \le d` and full row rank, so that :math:`Xw = y` has solutions.
    y : Tensor of shape (n,)

    Returns
    -------
    Tensor of shape (d,), float64, on ``X``'s device.

    Raises
    ------
    ValueError
        If shapes disagree, inputs are not finite, or :math:`Xw = y` has no solution.

    References
    ----------
    Chen, Donoho and Saunders (1998), Atomic decomposition by basis pursuit, SIAM J. Sci.
    Comput.; Candès and Tao (2005), Decoding by linear programming, IEEE Trans. Inf. Theory.

    Examples
    --------
    >>> X = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    >>> min_l1_interpolator(X, torch.tensor([1.0, 1.0])).tolist()
    [0.0, 1.0, 0.0]
    """
    x = as_matrix(X, "X")
    t = as_vector(y, "y", x.shape[0])
    xn = x.detach().cpu().double().numpy()
    yn = t.detach().cpu().double().numpy()
    d = xn.shape[1]
    res = linprog(
        np.ones(2 * d),
        A_eq=np.hstack([xn, -xn]),
        b_eq=yn,
        bounds=[(0, None)] * (2 * d),
        method="highs",
    )
    if res.status != 0:
        raise ValueError(f"X w = y has no solution for these X and y ({res.message})")
    w = res.x[:d] - res.x[d:]
    return torch.as_tensor(w, dtype=torch.float64, device=x.device)
