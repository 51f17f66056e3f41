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
Saul 2009) and for erf (Williams 1997). Everything here is computed in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._validate import as_matrix, as_vector, check_choice, check_int, check_nonnegative, check_positive

__all__ = [
    "relu_expectations",
    "erf_expectations",
    "nngp",
    "ntk",
    "relu_nngp",
    "relu_ntk",
    "erf_nngp",
    "erf_ntk",
    "kernel_regression",
    "gp_posterior",
    "kernel_gd_dynamics",
]

Expectations = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
]


def relu_expectations(
    k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Gaussian expectations of ReLU and its derivative (Cho and Saul 2009).

    For :math:`(u, v)` centred Gaussian with variances ``k11``, ``k22`` and covariance
    ``k12``, and :math:`\theta = \arccos\big(k_{12} / \sqrt{k_{11} k_{22}}\big)`:

    .. math::
        \mathbb{E}[\mathrm{relu}(u)\,\mathrm{relu}(v)]
            = \frac{\sqrt{k_{11} k_{22}}}{2\pi}\big(\sin\theta + (\pi - \theta)\cos\theta\big),
        \qquad
        \mathbb{E}[\mathbf{1}_{u>0}\mathbf{1}_{v>0}] = \frac{\pi - \theta}{2\pi}.

    Parameters
    ----------
    k11 : Tensor of shape (n1,)
    k22 : Tensor of shape (n2,)
    k12 : Tensor of shape (n1, n2)

    Returns
    -------
    e11, e22 : the diagonal expectations :math:`\mathbb{E}[\mathrm{relu}(u)^2] = k_{11}/2`
        and :math:`k_{22}/2`.
    e12 : :math:`\mathbb{E}[\mathrm{relu}(u)\mathrm{relu}(v)]`, shape (n1, n2).
    d12 : :math:`\mathbb{E}[\mathrm{relu}'(u)\mathrm{relu}'(v)]`, shape (n1, n2).
    """
    norms = torch.sqrt(k11[:, None] * k22[None, :])
    cos = torch.clamp(k12 / norms, -1.0, 1.0)
    theta = torch.arccos(cos)
    e12 = norms / (2 * math.pi) * (torch.sin(theta) + (math.pi - theta) * cos)
    d12 = (math.pi - theta) / (2 * math.pi)
    return k11 / 2, k22 / 2, e12, d12


def erf_expectations(
    k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Gaussian expectations of erf and its derivative (Williams 1997).

    .. math::
        \mathbb{E}[\mathrm{erf}(u)\,\mathrm{erf}(v)]
            = \frac{2}{\pi}\arcsin\frac{2k_{12}}{\sqrt{(1+2k_{11})(1+2k_{22})}},
        \qquad
        \mathbb{E}[\mathrm{erf}'(u)\,\mathrm{erf}'(v)]
            = \frac{4}{\pi}\big((1+2k_{11})(1+2k_{22}) - 4k_{12}^2\big)^{-1/2}.

    Shapes as in :func:`relu_expectations`.
    """
    a1, a2 = 1 + 2 * k11, 1 + 2 * k22
    e11 = (2 / math.pi) * torch.arcsin(2 * k11 / a1)
    e22 = (2 / math.pi) * torch.arcsin(2 * k22 / a2)
    prod = a1[:, None] * a2[None, :]
    e12 = (2 / math.pi) * torch.arcsin(torch.clamp(2 * k12 / torch.sqrt(prod), -1.0, 1.0))
    d12 = (4 / math.pi) / torch.sqrt(torch.clamp(prod - 4 * k12**2, min=1e-300))
    return e11, e22, e12, d12


_EXPECTATIONS: dict[str, Expectations] = {"relu": relu_expectations, "erf": erf_expectations}


def _prepare(x1: object, x2: object | None) -> tuple[torch.Tensor, torch.Tensor]:
    a = as_matrix(x1, "x1", dtype=torch.float64)
    b = a if x2 is None else as_matrix(x2, "x2", dtype=torch.float64).to(a.device)
    if b.shape[1] != a.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of features, got x1 with {a.shape[1]} and x2 with {b.shape[1]}"
        )
    return a, b


def _recursion(
    x1: object, x2: object | None, depth: int, sigma_w: float, sigma_b: float, activation: str, with_ntk: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    a, b = _prepare(x1, x2)
    depth = check_int(depth, "depth", minimum=0)
    sigma_w = check_positive(sigma_w, "sigma_w")
    sigma_b = check_nonnegative(sigma_b, "sigma_b")
    expect = _EXPECTATIONS[check_choice(activation, "activation", tuple(_EXPECTATIONS))]
    d = a.shape[1]
    sw2, sb2 = sigma_w**2, sigma_b**2
    k11 = sw2 * (a * a).sum(1) / d + sb2
    k22 = sw2 * (b * b).sum(1) / d + sb2
    k12 = sw2 * (a @ b.T) / d + sb2
    theta = k12.clone() if with_ntk else None
    for _ in range(depth):
        e11, e22, e12, d12 = expect(k11, k22, k12)
        k11, k22, k12 = sw2 * e11 + sb2, sw2 * e22 + sb2, sw2 * e12 + sb2
        if theta is not None:
            theta = k12 + sw2 * d12 * theta
    return k12, theta


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

    See the module docstring for the recursion. ``activation`` is ``"relu"`` or ``"erf"``.

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
    """
    k, _ = _recursion(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=False)
    return k


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
    """
    _, t = _recursion(x1, x2, depth, sigma_w, sigma_b, activation, with_ntk=True)
    assert t is not None
    return t


def relu_nngp(
    x1: torch.Tensor, x2: torch.Tensor | None = None, depth: int = 1, sigma_w: float = 1.0, sigma_b: float = 0.0
) -> torch.Tensor:
    r"""NNGP kernel of a ReLU MLP (the iterated arc-cosine kernel, Cho and Saul 2009).

    Examples
    --------
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> relu_nngp(x, depth=1, sigma_w=2 ** 0.5)  # orthogonal unit inputs: 1/pi off the diagonal
    tensor([[0.5000, 0.1592],
            [0.1592, 0.5000]], dtype=torch.float64)
    """
    return nngp(x1, x2, depth, sigma_w, sigma_b, activation="relu")


def relu_ntk(
    x1: torch.Tensor, x2: torch.Tensor | None = None, depth: int = 1, sigma_w: float = 1.0, sigma_b: float = 0.0
) -> torch.Tensor:
    """NTK of a ReLU MLP in the NTK parameterization (see :func:`ntk`)."""
    return ntk(x1, x2, depth, sigma_w, sigma_b, activation="relu")


def erf_nngp(
    x1: torch.Tensor, x2: torch.Tensor | None = None, depth: int = 1, sigma_w: float = 1.0, sigma_b: float = 0.0
) -> torch.Tensor:
    """NNGP kernel of an erf MLP (Williams 1997)."""
    return nngp(x1, x2, depth, sigma_w, sigma_b, activation="erf")


def erf_ntk(
    x1: torch.Tensor, x2: torch.Tensor | None = None, depth: int = 1, sigma_w: float = 1.0, sigma_b: float = 0.0
) -> torch.Tensor:
    """NTK of an erf MLP in the NTK parameterization."""
    return ntk(x1, x2, depth, sigma_w, sigma_b, activation="erf")


def _square(k: object, name: str) -> torch.Tensor:
    k = as_matrix(k, name, dtype=torch.float64)
    if k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) kernel matrix, got shape {tuple(k.shape)}")
    return k


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
    """
    kxx = _square(k_train, "k_train")
    n = kxx.shape[0]
    kx = as_matrix(k_test_train, "k_test_train", dtype=torch.float64)
    if kx.shape[1] != n:
        raise ValueError(f"k_test_train must have shape (m, {n}) to match k_train, got {tuple(kx.shape)}")
    yy = torch.as_tensor(y, dtype=torch.float64, device=kxx.device)
    if yy.shape[0] != n or yy.ndim not in (1, 2):
        raise ValueError(f"y must have shape ({n},) or ({n}, k) to match k_train, got {tuple(yy.shape)}")
    ridge = check_nonnegative(ridge, "ridge")
    alpha = _solve_psd(kxx + ridge * torch.eye(n, dtype=kxx.dtype, device=kxx.device), yy)
    return kx @ alpha


def _solve_psd(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    rhs = b[:, None] if b.ndim == 1 else b
    chol, info = torch.linalg.cholesky_ex(a)
    if int(info) == 0:
        sol = torch.cholesky_solve(rhs, chol)
    else:
        sol = torch.linalg.lstsq(a, rhs, driver="gelsd" if a.device.type == "cpu" else None).solution
    return sol[:, 0] if b.ndim == 1 else sol


def gp_posterior(
    k_train: torch.Tensor,
    y: torch.Tensor,
    k_test_train: torch.Tensor,
    k_test_diag: torch.Tensor,
    noise_var: float = 0.0,
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
    noise_var : float
        Observation noise variance :math:`\sigma^2 \ge 0`.

    Returns
    -------
    mean, var : Tensors of shape (m,), float64.
    """
    kxx = _square(k_train, "k_train")
    n = kxx.shape[0]
    kx = as_matrix(k_test_train, "k_test_train", dtype=torch.float64)
    if kx.shape[1] != n:
        raise ValueError(f"k_test_train must have shape (m, {n}) to match k_train, got {tuple(kx.shape)}")
    yy = as_vector(y, "y", n).to(torch.float64)
    kdiag = as_vector(k_test_diag, "k_test_diag", kx.shape[0]).to(torch.float64)
    noise_var = check_nonnegative(noise_var, "noise_var")
    a = kxx + noise_var * torch.eye(n, dtype=kxx.dtype, device=kxx.device)
    sol = _solve_psd(a, torch.cat([yy[:, None], kx.T], dim=1))
    mean = kx @ sol[:, 0]
    var = kdiag - (kx * sol[:, 1:].T).sum(1)
    return mean, torch.clamp(var, min=0.0)


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
    """
    kxx = _square(theta_train, "theta_train")
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
        one_minus_g = 1 - (1 - lr * lam / n)[None, :] ** tt[:, None]
        small = tt[:, None] * lr / n * torch.ones_like(lam)[None, :]
    safe = lam > 1e-12 * max(float(lam.max()), 1e-300)
    h = torch.where(safe[None, :], one_minus_g / torch.where(safe, lam, 1.0)[None, :], small)
    r0 = vec.T @ (yy - f0)  # residual in the eigenbasis
    f_train = f0[None, :] + (one_minus_g * r0[None, :]) @ vec.T
    f_test = f0s[None, :] + (h * r0[None, :]) @ (kx @ vec).T
    return f_train, f_test
