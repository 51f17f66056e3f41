r"""Infinite-width kernels of fully connected networks, and kernel methods.

Conventions (shared with :class:`dlt.nets.MLP` in the NTK parameterization): a network
with ``depth`` hidden layers computes

.. math::
    h^{1}(x) = \frac{\sigma_w}{\sqrt{d}} W^{0} x + \sigma_b b^{0}, \qquad
    h^{\ell+1}(x) = \frac{\sigma_w}{\sqrt{n_\ell}} W^{\ell} \phi(h^{\ell}(x)) + \sigma_b b^{\ell},

with all entries of :math:`W^\ell, b^\ell` i.i.d. :math:`\mathcal{N}(0, 1)` and the output
:math:`f(x) = h^{L+1}(x)` for :math:`L` = ``depth``. As every width tends to infinity,
:math:`f` at initialization is a Gaussian process with covariance :math:`K^{L}` (the NNGP
kernel; Neal 1996, Lee et al. 2018, Matthews et al. 2018), and gradient descent on it is
governed by the fixed kernel :math:`\Theta^{L}` (the NTK; Jacot et al. 2018):

.. math::
    K^{0}(x, x') = \sigma_w^2 \frac{x^\top x'}{d} + \sigma_b^2,\qquad
    K^{\ell}(x, x') = \sigma_w^2\, \mathbb{E}[\phi(u)\phi(v)] + \sigma_b^2,

    \Theta^{0} = K^{0},\qquad
    \Theta^{\ell} = K^{\ell} + \sigma_w^2\, \mathbb{E}[\phi'(u)\phi'(v)]\, \Theta^{\ell-1},

where :math:`(u, v)` is centred Gaussian with covariance
:math:`\begin{pmatrix} K^{\ell-1}(x,x) & K^{\ell-1}(x,x') \\ K^{\ell-1}(x,x') & K^{\ell-1}(x',x')\end{pmatrix}`.
The Gaussian expectations have closed forms for ReLU (the arc-cosine kernels of Cho and
Saul 2009) and for erf (Williams 1997), taken from the activation registry
:mod:`dlt.core.activations`. Everything here is computed in float64, by the fused recursion
of :mod:`dlt.theory.fused` (both kernels, tile by tile, in place; ``nngp_ntk`` there returns
the two together).
"""

from __future__ import annotations

import torch

from ..core.validate import as_matrix, as_vector, check_positive, check_square
from .fused import fused_kernels

__all__ = [
    "nngp",
    "ntk",
    "relu_nngp",
    "relu_ntk",
    "erf_nngp",
    "erf_ntk",
    "kernel_gd_dynamics",
]


def nngp(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
) -> torch.Tensor:
    r"""NNGP kernel :math:`K^{L}(x_1, x_2)` of an MLP with ``depth`` hidden layers.

    See the module docstring for the recursion. ``activation`` is an activation of the
    registry with Gaussian expectations (``"relu"``, ``"erf"``, ``"identity"``). For both
    kernels at once, ``dlt.theory.fused.nngp_ntk`` shares the work.

    Parameters
    ----------
    x1 : Tensor of shape (n1, d)
    x2 : Tensor of shape (n2, d), optional
        Defaults to ``x1``.
    depth : int
        Number of hidden layers ``L >= 0`` (``0`` is a linear model).
    sigma_w : float
        Weight scale :math:`\sigma_w > 0`.
    sigma_b : float
        Bias scale :math:`\sigma_b \ge 0`.

    Returns
    -------
    Tensor of shape (n1, n2), float64.

    Raises
    ------
    ValueError
        If an input is not 2-d, the feature dimensions differ, ``depth < 0``,
        ``sigma_w <= 0`` or ``sigma_b < 0``.

    References
    ----------
    Lee et al. (2018), Deep neural networks as Gaussian processes. ICLR.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> nngp(x, depth=0, sigma_w=2 ** 0.5)  # depth 0: the linear kernel sigma_w^2 x.x' / d
    tensor([[1., 0.],
            [0., 1.]], dtype=torch.float64)
    """
    return fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=False).nngp


def ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    activation: str = "relu",
) -> torch.Tensor:
    r"""Neural tangent kernel :math:`\Theta^{L}(x_1, x_2)` of an MLP in the NTK parameterization.

    Arguments, shapes and errors as in :func:`nngp`.

    References
    ----------
    Jacot, Gabriel and Hongler (2018), Neural tangent kernel: convergence and
    generalization in neural networks. NeurIPS.

    Examples
    --------
    >>> x = torch.eye(2)
    >>> bool((ntk(x, depth=1) >= nngp(x, depth=1)).all())  # the NTK adds positive terms to the NNGP
    True
    """
    return fused_kernels(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=True).ntk


def relu_nngp(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    r"""NNGP kernel of a ReLU MLP (the iterated arc-cosine kernel, Cho and Saul 2009).

    Examples
    --------
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> relu_nngp(x, depth=1, sigma_w=2 ** 0.5)  # orthogonal unit inputs: 1/pi off the diagonal
    tensor([[1.0000, 0.3183],
            [0.3183, 1.0000]], dtype=torch.float64)
    """
    return nngp(x1, x2, depth, sigma_w, sigma_b, activation="relu")


def relu_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    """NTK of a ReLU MLP in the NTK parameterization (see :func:`ntk`).

    Examples
    --------
    >>> relu_ntk(torch.eye(2), depth=1, sigma_w=2 ** 0.5)[0, 0].item()  # K^1 + sigma_w^2 / 2 * K^0
    2.0
    """
    return ntk(x1, x2, depth, sigma_w, sigma_b, activation="relu")


def erf_nngp(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    """NNGP kernel of an erf MLP (Williams 1997).

    Examples
    --------
    >>> erf_nngp(torch.eye(2), depth=1)[0, 1].item()  # orthogonal inputs: erf is odd
    0.0
    """
    return nngp(x1, x2, depth, sigma_w, sigma_b, activation="erf")


def erf_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    depth: int = 1,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> torch.Tensor:
    """NTK of an erf MLP in the NTK parameterization.

    Examples
    --------
    >>> erf_ntk(torch.eye(2), depth=1).shape
    torch.Size([2, 2])
    """
    return ntk(x1, x2, depth, sigma_w, sigma_b, activation="erf")


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
