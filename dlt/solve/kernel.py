r"""Kernel ridge regression and Gaussian-process regression, solved with Cholesky factorizations."""

from __future__ import annotations

import torch

from ..core.params import Matrix, NonNegative, Square, Tensor, Vector, validate_params
from ..core.validate import as_matrix, as_tensor, as_vector, check_nonnegative, check_square

__all__ = ["kernel_regression", "gp_posterior"]  # solve_psd, check_square: shared helpers


@validate_params(
    {
        "y": Tensor((1, 2), "(n,) or (n, k)"),
        "k_train": Square(),
        "k_test_train": Matrix(),
        "ridge": NonNegative(),
    }
)
def kernel_regression(
    k_train: torch.Tensor, y: torch.Tensor, k_test_train: torch.Tensor, ridge: float = 0.0
) -> torch.Tensor:
    r"""Kernel (ridge) regression predictions :math:`K_{*X}(K_{XX} + \lambda I)^{-1} y`.

    Solved with a Cholesky factorization when possible and a least-squares solve
    otherwise; no matrix is inverted explicitly.

    Parameters
    ----------
    k_train : Tensor of shape (n, n)
    y : Tensor of shape (n,) or (n, k)
    k_test_train : Tensor of shape (m, n)
    ridge : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    Tensor of shape (m,) or (m, k), float64.

    Examples
    --------
    >>> k = torch.tensor([[2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> kernel_regression(k, torch.tensor([2.0, 4.0]), k, ridge=2.0)  # K (K + 2I)^{-1} y = y / 2
    tensor([1., 2.], dtype=torch.float64)
    """
    kxx = check_square(k_train, "k_train")
    n = kxx.shape[0]
    kx = as_matrix(k_test_train, "k_test_train", dtype=torch.float64)
    if kx.shape[1] != n:
        raise ValueError(
            f"k_test_train must have shape (m, {n}) to match k_train, got {tuple(kx.shape)}"
        )
    yy = as_tensor(y, "y", ndim=(1, 2), shape=f"({n},) or ({n}, k)", dtype=torch.float64).to(
        kxx.device
    )
    if yy.shape[0] != n or yy.ndim not in (1, 2):
        raise ValueError(
            f"y must have shape ({n},) or ({n}, k) to match k_train, got {tuple(yy.shape)}"
        )
    ridge = check_nonnegative(ridge, "ridge")
    alpha = solve_psd(kxx + ridge * torch.eye(n, dtype=kxx.dtype, device=kxx.device), yy)
    return kx @ alpha


def solve_psd(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    rhs = b[:, None] if b.ndim == 1 else b
    chol, info = torch.linalg.cholesky_ex(a)
    if int(info) == 0:
        sol = torch.cholesky_solve(rhs, chol)
    else:
        sol = torch.linalg.lstsq(
            a, rhs, driver="gelsd" if a.device.type == "cpu" else None
        ).solution
    return sol[:, 0] if b.ndim == 1 else sol


@validate_params(
    {
        "k_train": Square(),
        "k_test_train": Matrix(),
        "y": Vector(),
        "k_test_diag": Vector(),
        "noise": NonNegative(),
    }
)
def gp_posterior(
    k_train: torch.Tensor,
    y: torch.Tensor,
    k_test_train: torch.Tensor,
    k_test_diag: torch.Tensor,
    noise: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Posterior mean and variance of GP regression (Rasmussen and Williams 2006, eq. 2.25-2.26).

    .. math::
        \mu_* = K_{*X}(K_{XX} + \sigma^2 I)^{-1} y, \qquad
        \operatorname{var}_* = K_{**} - \operatorname{diag}\big(K_{*X}(K_{XX} + \sigma^2 I)^{-1} K_{X*}\big)

    Parameters
    ----------
    k_train : Tensor (n, n)
    y : Tensor (n,)
    k_test_train : Tensor (m, n)
    k_test_diag : Tensor (m,)
        Prior variances :math:`K(x_*, x_*)` at the test points.
    noise : float
        Observation noise standard deviation :math:`\sigma \ge 0` (the variance
        :math:`\sigma^2` is added to the diagonal).

    Returns
    -------
    mean, var : Tensors of shape (m,), float64.

    Examples
    --------
    >>> k = torch.eye(2, dtype=torch.float64)
    >>> mean, var = gp_posterior(k, torch.tensor([1.0, -1.0]), k, torch.ones(2), noise=0.0)
    >>> mean.tolist(), var.tolist()  # noiseless: interpolates, no variance left at the data
    ([1.0, -1.0], [0.0, 0.0])
    """
    kxx = check_square(k_train, "k_train")
    n = kxx.shape[0]
    kx = as_matrix(k_test_train, "k_test_train", dtype=torch.float64)
    if kx.shape[1] != n:
        raise ValueError(
            f"k_test_train must have shape (m, {n}) to match k_train, got {tuple(kx.shape)}"
        )
    yy = as_vector(y, "y", n).to(torch.float64)
    kdiag = as_vector(k_test_diag, "k_test_diag", kx.shape[0]).to(torch.float64)
    noise = check_nonnegative(noise, "noise")
    a = kxx + noise**2 * torch.eye(n, dtype=kxx.dtype, device=kxx.device)
    sol = solve_psd(a, torch.cat([yy[:, None], kx.T], dim=1))
    mean = kx @ sol[:, 0]
    var = kdiag - (kx * sol[:, 1:].T).sum(1)
    return mean, torch.clamp(var, min=0.0)
