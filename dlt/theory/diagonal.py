r"""Diagonal linear networks: the potential their gradient flow minimizes, and its minimizer.

A diagonal linear network predicts :math:`f(x) = \langle u \odot u - v \odot v, x\rangle`.
Started from :math:`u = v = \alpha\mathbf 1` and trained by gradient flow on the squared loss
to zero training error, it returns (Woodworth et al. 2020, Theorem 1)

.. math:: w_\alpha = \arg\min_w Q_\alpha(w) \ \text{ s.t. }\ Xw = y,\qquad
          Q_\alpha(w) = \alpha^2 \sum_i q\!\left(\frac{w_i}{\alpha^2}\right),\quad
          q(z) = 2 - \sqrt{4 + z^2} + z\,\operatorname{arcsinh}(z/2).

:math:`Q_\alpha` behaves like :math:`\|w\|_1 \log(1/\alpha)` as :math:`\alpha \to 0` and like
:math:`\|w\|_2^2/(4\alpha^2)` as :math:`\alpha \to \infty`: small initialization finds sparse
interpolators, large initialization the minimum-:math:`\ell_2` one (the kernel regime).
"""

from __future__ import annotations

import torch

from ..core.params import Int, Matrix, Positive, Tensor, Vector, validate_params
from ..core.validate import as_matrix, as_tensor, as_vector, check_int, check_positive

__all__ = ["diagonal_potential", "diagonal_net_solution"]


@validate_params({"w": Tensor((1, 2, 3, 4, 5, 6, 7), "(..., d)"), "alpha": Positive()})
def diagonal_potential(w: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""The potential :math:`Q_\alpha(w) = \alpha^2\sum_i q(w_i/\alpha^2)` of a diagonal network.

    With :math:`q(z) = 2 - \sqrt{4+z^2} + z\operatorname{arcsinh}(z/2)`, so that
    :math:`\nabla Q_\alpha(w)_i = \operatorname{arcsinh}(w_i / 2\alpha^2)`.

    Parameters
    ----------
    w : Tensor of shape (d,) or (..., d)
        Linear predictors (the last dimension indexes coordinates).
    alpha : float
        Initialization scale :math:`\alpha > 0`.

    Returns
    -------
    Tensor of shape ``w.shape[:-1]``, in ``w``'s dtype.

    Raises
    ------
    ValueError
        If ``w`` has non-finite entries or ``alpha <= 0``.

    References
    ----------
    Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry and Srebro (2020),
    Kernel and rich regimes in overparametrized models, COLT (Theorem 1).

    Examples
    --------
    >>> w = torch.tensor([0.0, 3.0], dtype=torch.float64)  # q(3) = 2 - sqrt(13) + 3 asinh(1.5)
    >>> round(float(diagonal_potential(w, 1.0)), 6), round(2 - 13**0.5 + 3 * 1.1947632172871094, 6)
    (1.978738, 1.978738)
    """
    w = as_tensor(w, "w", ndim=range(1, 8), shape="(..., d)")
    alpha = check_positive(alpha, "alpha")
    a2 = alpha**2
    z = w / a2
    q = z * torch.asinh(z / 2) - z**2 / (torch.sqrt(4 + z**2) + 2)  # no cancellation at z ~ 0
    return a2 * q.sum(-1)


@validate_params(
    {"X": Matrix(), "y": Vector(), "alpha": Positive(), "tol": Positive(), "max_iter": Int(1)}
)
def diagonal_net_solution(
    X: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    *,
    tol: float = 1e-10,
    max_iter: int = 500,
) -> torch.Tensor:
    r"""The interpolator a diagonal network finds: :math:`\arg\min Q_\alpha(w)` s.t. :math:`Xw = y`.

    The optimality condition :math:`\nabla Q_\alpha(w) = X^\top\nu` gives
    :math:`w = 2\alpha^2\sinh(X^\top\nu)`; the multiplier :math:`\nu` minimizes the convex dual

    .. math:: D(\nu) = 2\alpha^2\sum_i\cosh\big((X^\top\nu)_i\big) - y^\top\nu,

    solved here by Newton's method with backtracking, in float64.

    Parameters
    ----------
    X : Tensor of shape (n, d)
        Full row rank (:math:`n \le d`), so that interpolators exist.
    y : Tensor of shape (n,)
    alpha : float
        Initialization scale :math:`\alpha > 0`.
    tol : float
        Stop when :math:`\|Xw - y\|_2 \le \text{tol}\,(1 + \|y\|_2)`.
    max_iter : int
        Newton steps at most.

    Returns
    -------
    Tensor of shape (d,), float64, on ``X``'s device.

    Raises
    ------
    ValueError
        On bad shapes, non-finite inputs, ``alpha <= 0``, or when Newton's method does not
        reach ``tol`` (for instance when ``X`` is rank deficient).

    References
    ----------
    Woodworth et al. (2020), Kernel and rich regimes in overparametrized models, COLT.

    Examples
    --------
    >>> X = torch.tensor([[1.0, 1.0]])
    >>> diagonal_net_solution(X, torch.tensor([2.0]), 1.0).tolist()  # symmetric: split evenly
    [1.0, 1.0]
    """
    x = as_matrix(X, "X").double()
    t = as_vector(y, "y", x.shape[0]).to(device=x.device, dtype=torch.float64)
    alpha = check_positive(alpha, "alpha")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    c = 2 * alpha**2
    nu = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)

    def dual(v: torch.Tensor) -> torch.Tensor:  # cosh(s) - 1 = 2 sinh(s/2)^2 keeps it exact near 0
        return 2 * c * (torch.sinh(x.T @ v / 2) ** 2).sum() - t @ v

    target = tol * (1 + float(t.norm()))
    value = dual(nu)
    for _ in range(max_iter):
        s = x.T @ nu
        grad = x @ (c * torch.sinh(s)) - t
        if float(grad.norm()) <= target:
            break
        hess = (x * (c * torch.cosh(s))) @ x.T
        try:
            step = torch.linalg.solve(hess, grad)
        except RuntimeError as err:
            raise ValueError("X must have full row rank for interpolators to exist") from err
        decrement = float(grad @ step)
        reach = float((x.T @ step).abs().max())
        lr = min(1.0, 20.0 / reach) if reach > 0 else 1.0  # keep sinh finite on the first tries
        full = lr
        while True:
            candidate = nu - lr * step
            new = dual(candidate)
            if torch.isfinite(new) and float(new) <= float(value) - 0.25 * lr * decrement:
                break
            if lr == full and decrement <= 1e-14 * (1.0 + abs(float(value))):
                break  # within rounding of the optimum: take the full Newton step
            lr /= 2
            if lr < 1e-12:
                raise ValueError("Newton's method stalled: is X of full row rank?")
        nu, value = candidate, new
    else:
        raise ValueError(f"Newton's method did not reach tol={tol} in max_iter={max_iter} steps")
    return c * torch.sinh(x.T @ nu)
