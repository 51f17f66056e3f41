r"""The Lasso, batched over problems, by FISTA."""

from __future__ import annotations

import math

import torch

from ..core.params import Int, Positive, Tensor, validate_params
from ..core.validate import as_tensor, check_int, check_positive

__all__ = ["lasso"]


@validate_params(
    {
        "y": Tensor(2, "(B, N)"),
        "lam": Positive(),
        "n_iter": Int(1),
        "X": Tensor(3, "(B, N, d)"),
    }
)
def lasso(X: torch.Tensor, y: torch.Tensor, lam: float, n_iter: int = 500) -> torch.Tensor:
    r"""Lasso by FISTA, batched over problems.

    Minimizes :math:`\frac{1}{2N}\|Xw - y\|^2 + \lambda \|w\|_1` for each problem of the batch with
    the accelerated proximal gradient method of Beck and Teboulle (2009), step :math:`1/L`,
    :math:`L = \lambda_{\max}(X^\top X / N)`, and the soft-threshold
    :math:`\operatorname{prox}(v) = \operatorname{sign}(v)\max(|v| - \lambda/L, 0)`.

    Parameters
    ----------
    X : Tensor of shape (B, N, d)
    y : Tensor of shape (B, N)
    lam : float
        :math:`\lambda > 0`.
    n_iter : int
        FISTA iterations.

    Returns
    -------
    Tensor of shape (B, d), float64

    References
    ----------
    Tibshirani, "Regression shrinkage and selection via the lasso", JRSS B 1996.
    Beck and Teboulle, "A fast iterative shrinkage-thresholding algorithm", SIAM J. Imaging Sci. 2009.

    Examples
    --------
    >>> X = torch.eye(3)[None] * 3 ** 0.5  # X^T X / N = I: the solution is a soft-threshold
    >>> y = torch.tensor([[2.0, 0.1, -1.0]]) * 3 ** 0.5
    >>> lasso(X, y, 0.5).round(decimals=4).tolist()
    [[1.5, 0.0, -0.5]]
    """
    lam = check_positive(lam, "lam")
    n_iter = check_int(n_iter, "n_iter", minimum=1)
    X = as_tensor(X, "X", ndim=3, shape="(B, N, d)")
    y = as_tensor(y, "y", ndim=2, shape=f"({X.shape[0]}, {X.shape[1]})")
    if y.shape != X.shape[:2]:
        raise ValueError(f"y must have shape {tuple(X.shape[:2])} to match X, got {tuple(y.shape)}")
    X, y = X.double(), y.double()
    n = X.shape[1]
    step = 1.0 / torch.linalg.eigvalsh(X.transpose(1, 2) @ X / n)[:, -1].clamp_min(1e-12)  # (B,)
    Xty = torch.einsum("bnd,bn->bd", X, y) / n
    gram = X.transpose(1, 2) @ X / n
    w = torch.zeros_like(Xty)
    z, t = w.clone(), 1.0
    for _ in range(n_iter):
        grad = torch.einsum("bde,be->bd", gram, z) - Xty
        v = z - step[:, None] * grad
        w_new = torch.sign(v) * (v.abs() - lam * step[:, None]).clamp_min(0.0)
        t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
        z = w_new + (t - 1) / t_new * (w_new - w)
        w, t = w_new, t_new
    return w
