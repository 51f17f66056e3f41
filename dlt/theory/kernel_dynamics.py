r"""Gradient descent in a fixed kernel, in closed form: the dynamics of a linearized network.

The NTK of :mod:`dlt.theory.kernels` stays fixed during training in the infinite-width
limit (Jacot et al. 2018), so the outputs of the trained network follow a linear ODE whose
solution is below (Lee et al. 2019).
"""

from __future__ import annotations

import torch

from ..core.params import Matrix, Square, Vector, validate_params
from ..core.validate import as_matrix, as_vector, check_positive, check_square

__all__ = ["kernel_gd_dynamics"]


@validate_params(
    {
        "theta_train": Square(),
        "theta_test_train": Matrix(),
        "y": Vector(),
        "f0_train": Vector(),
        "f0_test": Vector(),
    }
)
def kernel_gd_dynamics(
    theta_train: torch.Tensor,
    theta_test_train: torch.Tensor,
    y: torch.Tensor,
    f0_train: torch.Tensor,
    f0_test: torch.Tensor,
    t: torch.Tensor | float,
    lr: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Closed-form outputs of a model trained by gradient descent in a fixed kernel.

    For the loss :math:`\mathcal{L} = \frac{1}{2n}\sum_i (f(x_i) - y_i)^2` and a fixed
    tangent kernel :math:`\Theta` (Jacot et al. 2018; Lee et al. 2019, eq. 9), gradient
    flow gives

    .. math::
        f_t(X) = y + e^{-\Theta t / n}\,(f_0(X) - y), \qquad
        f_t(X_*) = f_0(X_*) + \Theta_{*X}\Theta^{-1}\big(I - e^{-\Theta t/n}\big)(y - f_0(X)),

    and gradient descent with step ``lr`` replaces :math:`e^{-\Theta t/n}` by
    :math:`(I - \eta\Theta/n)^{t}`, ``t`` counting steps; this is exact for a linearized
    network. :math:`\Theta^{-1}(I - \cdot)` is evaluated in the eigenbasis of
    :math:`\Theta` with its limit at zero eigenvalues, so a singular kernel is fine.

    Parameters
    ----------
    theta_train : Tensor (n, n)
    theta_test_train : Tensor (m, n)
    y, f0_train : Tensors (n,)
        Targets and the model's initial outputs on the training inputs.
    f0_test : Tensor (m,)
        Initial outputs on the test inputs.
    t : float or Tensor (T,)
        Training time (gradient flow) or number of steps (``lr`` given), ``>= 0``.
    lr : float, optional
        Learning rate :math:`\eta > 0` of discrete gradient descent.

    Returns
    -------
    f_train : Tensor (T, n) and f_test : Tensor (T, m), float64 (``T = 1`` for a scalar ``t``).

    Examples
    --------
    >>> theta = torch.eye(2, dtype=torch.float64)
    >>> y, f0 = torch.tensor([1.0, -1.0]), torch.zeros(2)
    >>> f_train, _ = kernel_gd_dynamics(theta, theta, y, f0, f0, t=1e6)
    >>> f_train.round(decimals=6).tolist()  # gradient flow fits the data
    [[1.0, -1.0]]
    """
    kxx = check_square(theta_train, "theta_train")
    n = kxx.shape[0]
    kx = as_matrix(theta_test_train, "theta_test_train", dtype=torch.float64)
    if kx.shape[1] != n:
        raise ValueError(f"theta_test_train must have shape (m, {n}), got {tuple(kx.shape)}")
    yy = as_vector(y, "y", n).to(torch.float64)
    f0 = as_vector(f0_train, "f0_train", n).to(torch.float64)
    f0s = as_vector(f0_test, "f0_test", kx.shape[0]).to(torch.float64)
    tt = torch.as_tensor(t, dtype=torch.float64, device=kxx.device).reshape(-1)
    if torch.any(tt < 0):
        raise ValueError("t must be >= 0")
    lam, vec = torch.linalg.eigh((kxx + kxx.T) / 2)
    lam = torch.clamp(lam, min=0.0)
    if lr is None:
        one_minus_g = -torch.expm1(-lam[None, :] * tt[:, None] / n)
        small = tt[:, None] / n * torch.ones_like(lam)[None, :]
    else:
        lr = check_positive(lr, "lr")
        if torch.any(tt != torch.round(tt)):
            raise ValueError("t must hold whole numbers of steps when lr is given")
        # 1 - (1 - x)^t cancels for small x = lr * lam / n (relative error eps / (t x)); for
        # 0 <= x < 1 it is -expm1(t log1p(-x)), accurate to rounding at every size of x
        x = lr * lam / n
        inside = x < 1
        log_g = torch.log1p(-torch.where(inside, x, 0.0))
        one_minus_g = torch.where(
            inside[None, :],
            -torch.expm1(tt[:, None] * log_g[None, :]),
            1 - (1 - x)[None, :] ** tt[:, None],
        )
        small = tt[:, None] * lr / n * torch.ones_like(lam)[None, :]
    safe = lam > 1e-12 * max(float(lam.max()), 1e-300)
    h = torch.where(safe[None, :], one_minus_g / torch.where(safe, lam, 1.0)[None, :], small)
    r0 = vec.T @ (yy - f0)  # residual in the eigenbasis
    f_train = f0[None, :] + (one_minus_g * r0[None, :]) @ vec.T
    f_test = f0s[None, :] + (h * r0[None, :]) @ (kx @ vec).T
    return f_train, f_test
