r"""Robustness of a trained or random model: input gradients, robust and certified accuracy.

The average robustness of Zhu et al. (2022) is governed by the input Jacobian
:math:`J_x f`; the accuracy under attack (PGD, Madry et al. 2018) is an upper estimate of
the accuracy over the whole ball, and the certified accuracy (interval bounds, Gowal et al.
2018) a lower bound of it, so ``certified <= robust <= clean`` on every sample.
"""

from __future__ import annotations

import torch
from torch import nn

from ..attack.ibp import ibp_bounds
from ..attack.losses import worst_case_logits
from ..attack.perturb import NORMS, pgd
from ..core.validate import as_tensor, check_choice, check_int, check_nonnegative

__all__ = ["input_jacobian_norms", "robust_accuracy", "certified_accuracy"]


def _model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _labels(y: object, n: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor) or y.shape != (n,):
        raise ValueError(f"y must be a tensor of {n} class indices, shape ({n},)")
    return y.long()


def input_jacobian_norms(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    r"""The squared Frobenius norm of the input Jacobian at each row of ``x``.

    .. math:: \|J_x f(x_i)\|_F^2 = \sum_k \|\nabla_x f_k(x_i)\|_2^2

    computed with ``torch.func`` (``vmap`` of ``jacrev``), one Jacobian per row, or for a
    model with one output per row by a single backward pass of the summed output; either way
    the model must treat rows independently (no batch normalization in training mode). For a scalar
    output this is :math:`\|\nabla_x f(x_i)\|_2^2`, the quantity whose expectation at
    initialization :func:`dlt.robustness.input_gradient_norm` gives.

    Parameters
    ----------
    model : nn.Module
    x : Tensor of shape (n, ...)

    Returns
    -------
    Tensor of shape (n,)

    References
    ----------
    Zhu, Liu, Chrysos and Cevher (2022), Robustness in deep learning: the good (width), the
    bad (depth), and the ugly (initialization).

    Examples
    --------
    >>> lin = nn.Linear(3, 2, bias=False)
    >>> x = torch.randn(4, 3)
    >>> torch.allclose(input_jacobian_norms(lin, x), lin.weight.pow(2).sum().expand(4))
    True
    """
    model = _model(model)
    x = as_tensor(x, "x", ndim=range(2, 8), shape="(n, ...)")

    def one(xi: torch.Tensor) -> torch.Tensor:
        return model(xi.unsqueeze(0)).squeeze(0)

    with torch.enable_grad():
        xr = x.detach().requires_grad_(True)
        out = model(xr)
        if out.shape in ((x.shape[0],), (x.shape[0], 1)):
            (jac,) = torch.autograd.grad(out.sum(), xr)  # rows are independent
        else:
            jac = torch.func.vmap(torch.func.jacrev(one))(x)
    return jac.detach().pow(2).flatten(1).sum(1)


def robust_accuracy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    norm: str = "linf",
    steps: int = 20,
    seed: int | torch.Generator | None = 0,
) -> float:
    r"""The fraction of rows still classified correctly at the PGD point of their ball.

    .. math:: \frac1n \sum_i \mathbb 1\big[\arg\max_k f_k(x_i^{\mathrm{PGD}}) = y_i\big]

    with :math:`x_i^{\mathrm{PGD}}` from :func:`dlt.robustness.pgd` (random start, ``steps``
    steps). Rows misclassified at :math:`x_i` count as errors. An attack finds *some* bad
    point, not the worst, so this is an upper estimate of the accuracy over the ball.

    Parameters
    ----------
    model : nn.Module
        A classifier returning logits (n, k).
    x : Tensor of shape (n, ...)
    y : Tensor of shape (n,)
        Class indices.
    eps : float
        Radius (>= 0).
    norm : {"linf", "l2"}
    steps : int
        PGD steps.
    seed : int or torch.Generator
        Seed of the random start.

    Returns
    -------
    float

    References
    ----------
    Madry, Makelov, Schmidt, Tsipras and Vladu (2018).

    Examples
    --------
    >>> net = nn.Linear(2, 2)
    >>> x, y = torch.randn(20, 2), torch.randint(0, 2, (20,))
    >>> robust_accuracy(net, x, y, 0.5) <= robust_accuracy(net, x, y, 0.0)
    True
    """
    model = _model(model)
    x = as_tensor(x, "x", ndim=range(2, 8), shape="(n, ...)")
    y = _labels(y, x.shape[0])
    eps = check_nonnegative(eps, "eps")
    norm = check_choice(norm, "norm", NORMS)
    steps = check_int(steps, "steps", minimum=1)
    with torch.no_grad():
        clean = model(x).argmax(1) == y
    xa = pgd(model, x, y, eps, steps=steps, norm=norm, seed=seed) if eps > 0 else x
    with torch.no_grad():
        ok = clean & (model(xa).argmax(1) == y)
    return float(ok.double().mean())


def certified_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> float:
    r"""The fraction of rows whose interval bounds certify the label over the whole box.

    .. math:: \frac1n \sum_i \mathbb 1\big[l_{y_i}(x_i) > \max_{k \ne y_i} u_k(x_i)\big]

    with :math:`[l, u]` from :func:`dlt.robustness.ibp_bounds` over the :math:`\ell_\infty` box
    of radius ``eps``: a certified row is classified correctly at every point of its box,
    so this is a lower bound of the accuracy over the ball.

    Parameters
    ----------
    model : nn.Sequential of nn.Linear, nn.ReLU and nn.Flatten
    x : Tensor of shape (n, ...)
    y : Tensor of shape (n,)
        Class indices.
    eps : float
        Radius (>= 0).

    Returns
    -------
    float

    References
    ----------
    Gowal et al. (2018), On the effectiveness of interval bound propagation for training
    verifiably robust models.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> x, y = torch.randn(20, 2), torch.randint(0, 2, (20,))
    >>> certified_accuracy(net, x, y, 0.1) <= robust_accuracy(net, x, y, 0.1)
    True
    """
    model = _model(model)
    x = as_tensor(x, "x", ndim=range(2, 8), shape="(n, ...)")
    y = _labels(y, x.shape[0])
    eps = check_nonnegative(eps, "eps")
    with torch.no_grad():
        lo, hi = ibp_bounds(model, x, eps)
        z = worst_case_logits(lo, hi, y)
        others = z.scatter(1, y.view(-1, 1), float("-inf")).max(1).values
        ok = z.gather(1, y.view(-1, 1))[:, 0] > others
    return float(ok.double().mean())
