r"""Finite differences along a line: the test that a function is a polynomial of degree N.

The forward difference of order :math:`k` and step :math:`h` of :math:`g(t) = f(x_0 + t v)` is

.. math:: \Delta_h^k g(0) = \sum_{j=0}^{k} (-1)^{k-j} \binom{k}{j} g(jh)

and equals :math:`h^k g^{(k)}(\xi)` for some :math:`\xi \in [0, kh]`: it vanishes for
every :math:`k > N` exactly when :math:`g` is a polynomial of degree at most :math:`N`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..core.validate import as_tensor, check_int, check_positive

__all__ = ["finite_differences"]


def finite_differences(
    f: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    direction: torch.Tensor,
    max_order: int,
    h: float = 1.0,
) -> torch.Tensor:
    r"""The forward differences of orders 0 to ``max_order`` of ``f`` along a line.

    .. math:: \Delta_h^k = \sum_{j=0}^{k} (-1)^{k-j} \binom{k}{j} f(x_0 + j h v),
        \qquad k = 0, \dots, K

    ``f`` is evaluated once, on the batch of the :math:`K + 1` points
    :math:`x_0 + jhv`.

    Parameters
    ----------
    f : callable ``(K + 1, d) -> (K + 1,)`` or ``(K + 1, p)``
        A function of a batch of rows (a model or a formula).
    x0, direction : Tensor of shape (d,)
        Start :math:`x_0` and direction :math:`v` of the line.
    max_order : int
        :math:`K \ge 0`.
    h : float
        Step (> 0).

    Returns
    -------
    Tensor of shape (K + 1,) or (K + 1, p): row :math:`k` is :math:`\Delta_h^k`.

    Examples
    --------
    >>> cube = lambda x: x[:, 0] ** 3
    >>> finite_differences(cube, torch.zeros(1), torch.ones(1), 4).tolist()  # 3! h^3 at order 3
    [0.0, 1.0, 6.0, 6.0, 0.0]
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    x0 = as_tensor(x0, "x0", ndim=1, shape="(d,)")
    direction = as_tensor(direction, "direction", ndim=1, shape="(d,)").to(x0.dtype)
    if direction.shape != x0.shape:
        raise ValueError(
            f"direction must have shape {tuple(x0.shape)} like x0, got {tuple(direction.shape)}"
        )
    k = check_int(max_order, "max_order", minimum=0)
    h = check_positive(h, "h")
    j = torch.arange(k + 1, dtype=x0.dtype, device=x0.device)
    values = f(x0 + h * j.unsqueeze(1) * direction)
    if not isinstance(values, torch.Tensor) or values.shape[0] != k + 1:
        raise ValueError(f"f must return a tensor with {k + 1} rows, one per point")
    values = values.detach()
    # row k of the matrix: the coefficients (-1)^(k-j) binom(k, j), j <= k
    coef = torch.zeros(k + 1, k + 1, dtype=values.dtype, device=values.device)
    for order in range(k + 1):
        for i in range(order + 1):
            coef[order, i] = (-1) ** (order - i) * math.comb(order, i)
    return torch.einsum("kj,j...->k...", coef, values)
