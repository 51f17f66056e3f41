r"""Global convergence of gradient descent on a wide two-layer ReLU network (Du et al. 2019).

The Gram matrix of the infinite-width limit, :func:`h_infinity`, and the linear rate its
smallest eigenvalue guarantees, :func:`linear_convergence_bound`.
"""

from __future__ import annotations

import math

import torch

from ..core.params import Int, Matrix, NonNegative, Positive, validate_params
from ..core.validate import as_matrix, check_int, check_nonnegative, check_positive

__all__ = ["h_infinity", "linear_convergence_bound"]


@validate_params({"X": Matrix()})
def h_infinity(X: object) -> torch.Tensor:
    r"""Du et al.'s limiting Gram matrix :math:`H^\infty` of a two-layer ReLU network.

    .. math:: H^\infty_{ij} = \mathbb E_{w \sim \mathcal N(0, I)}\bigl[x_i^\top x_j\,
              \mathbb 1\{w^\top x_i \ge 0,\ w^\top x_j \ge 0\}\bigr]
              = \frac{x_i^\top x_j\,(\pi - \theta_{ij})}{2\pi},

    with :math:`\theta_{ij} \in [0, \pi]` the angle between :math:`x_i` and :math:`x_j`
    (:math:`\theta_{ii} = 0`, so :math:`H^\infty_{ii} = \|x_i\|^2/2`). It is the kernel of
    the first layer of :math:`f(x) = m^{-1/2}\sum_r a_r\,\mathrm{relu}(w_r^\top x)` with the
    readout :math:`a_r = \pm 1` fixed, as the width :math:`m \to \infty`; Du et al. prove
    it positive definite when no two inputs are parallel. A zero row (:math:`x_i = 0`)
    gives a zero row and column.

    Parameters
    ----------
    X : Tensor of shape (n, d)
        The inputs, one per row, of any norms.

    Returns
    -------
    Tensor of shape (n, n)
        :math:`H^\infty`, symmetric positive semi-definite, in the dtype of ``X`` (float64
        for an integer tensor, the default dtype for a list).

    Raises
    ------
    ValueError
        If ``X`` is not a finite non-empty matrix.

    References
    ----------
    Du, Zhai, Poczos and Singh (2019), Gradient descent provably optimizes
    over-parameterized neural networks, ICLR, section 3 (Assumption 3.1, Theorem 3.1).

    Examples
    --------
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> h_infinity(X)[0, 0].item(), h_infinity(X)[0, 1].item()
    (0.5, 0.0)
    >>> round(h_infinity(X)[0, 2].item(), 6)  # x0.x2 = 1, angle pi/4: 1 * (3/4 pi) / (2 pi)
    0.375
    """
    x = as_matrix(X, "X")
    if isinstance(X, torch.Tensor) and not X.is_floating_point():
        x = x.double()
    gram = x @ x.T
    norms = x.norm(dim=1)
    denom = norms[:, None] * norms[None, :]
    safe = torch.where(denom > 0, denom, torch.ones_like(denom))
    cos = torch.where(denom > 0, gram / safe, torch.ones_like(gram)).clamp(-1.0, 1.0)
    theta = torch.arccos(cos)
    theta.fill_diagonal_(0.0)  # the angle of a vector with itself, free of rounding
    return gram * (math.pi - theta) / (2 * math.pi)


@validate_params(
    {"residual0": NonNegative(), "lambda0": NonNegative(), "lr": Positive(), "steps": Int(0)}
)
def linear_convergence_bound(
    residual0: float, lambda0: float, lr: float, steps: int
) -> torch.Tensor:
    r"""Du et al.'s bound on the squared residual of gradient descent, at steps ``0..steps``.

    .. math:: \|y - u(k)\|^2 \le \Bigl(1 - \frac{\eta\lambda_0}{2}\Bigr)^k\,\|y - u(0)\|^2,
              \qquad k = 0, 1, \dots,

    for gradient descent with step :math:`\eta` on :math:`\tfrac12\|y - u\|^2` (a sum over
    the samples, not a mean), :math:`\lambda_0 = \lambda_{\min}(H^\infty)`
    (:func:`h_infinity`). Du et al. prove it with probability :math:`1 - \delta` for
    unit-norm inputs, :math:`|y_i| = O(1)`, width :math:`m = \Omega(n^6/(\lambda_0^4
    \delta^3))` and :math:`\eta = O(\lambda_0/n^2)`; it is a bound, and the measured
    rate is usually faster.

    Parameters
    ----------
    residual0 : float
        :math:`\|y - u(0)\|^2 \ge 0`.
    lambda0 : float
        :math:`\lambda_0 \ge 0`.
    lr : float
        The step :math:`\eta > 0`, with :math:`\eta\lambda_0 \le 2`.
    steps : int
        The last step :math:`k \ge 0`.

    Returns
    -------
    Tensor of shape (steps + 1,), float64

    Raises
    ------
    ValueError
        If an argument is out of range, or :math:`\eta\lambda_0 > 2` (the factor would be
        negative).

    References
    ----------
    Du, Zhai, Poczos and Singh (2019), ICLR, Theorem 4.1.

    Examples
    --------
    >>> linear_convergence_bound(1.0, 0.5, 1.0, 2).tolist()
    [1.0, 0.75, 0.5625]
    """
    r0 = check_nonnegative(residual0, "residual0")
    lam = check_nonnegative(lambda0, "lambda0")
    eta = check_positive(lr, "lr")
    k = check_int(steps, "steps", minimum=0)
    if eta * lam > 2:
        raise ValueError(f"lr * lambda0 must be <= 2 for a factor in [0, 1], got {eta * lam:g}")
    factor = 1.0 - eta * lam / 2
    return r0 * factor ** torch.arange(k + 1, dtype=torch.float64)
