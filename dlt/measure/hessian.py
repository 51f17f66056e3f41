r"""Curvature of a training loss: Hessian-vector products, the top eigenvalue and the trace.

For a loss :math:`L(\theta)` over a model's trainable parameters, the Hessian
:math:`H = \nabla^2 L(\theta)` is never formed: :func:`hvp` computes :math:`Hv` by
forward-over-reverse differentiation (``torch.func.jvp`` of ``torch.func.grad``), the
sharpness :math:`\lambda_{\max}(H)` comes from power iteration on :func:`hvp`
(:func:`top_hessian_eigenvalue`), and :math:`\operatorname{tr} H` from Hutchinson's estimator
:math:`\mathbb E[v^\top H v]` with Rademacher :math:`v` (:func:`hessian_trace`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn
from torch.func import functional_call, grad, jvp

from ..core.modules import trainable_parameters
from ..core.params import Int, Model, Positive, Tensor, validate_params
from ..core.validate import as_tensor, check_int, check_positive, generator

__all__ = ["hvp", "top_hessian_eigenvalue", "hessian_trace", "TopEigen"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _flat_loss(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss: LossFn
) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    """The loss as a function of one flat parameter vector, and the current flat vector."""
    params = trainable_parameters(model)
    names = list(params)
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]
    frozen = {k: b for k, b in model.named_buffers()}
    flat0 = torch.cat([params[k].reshape(-1) for k in names])

    def f(flat: torch.Tensor) -> torch.Tensor:
        parts = torch.split(flat, sizes)
        p = {k: t.reshape(s) for k, t, s in zip(names, parts, shapes, strict=True)}
        return loss(functional_call(model, {**p, **frozen}, (X,)), y)

    return f, flat0


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if out.ndim == 2 and out.shape[1] == 1 and y.ndim == 1:
        out = out[:, 0]
    return 0.5 * ((out - y) ** 2).mean()


def _inputs(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    x = as_tensor(X, "X", ndim=range(2, 8), shape="(n, ...)")
    t = as_tensor(y, "y", ndim=range(1, 8), shape="(n, ...)")
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"y must have {x.shape[0]} rows to match X, got shape {tuple(t.shape)}")
    return x, t


@validate_params(
    {
        "X": Tensor(tuple(range(2, 8)), "(n, ...)"),
        "y": Tensor(tuple(range(1, 8)), "(n, ...)"),
        "v": Tensor(1, "(P,) with P the number of trainable parameters"),
        "model": Model(),
    }
)
def hvp(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    v: torch.Tensor,
    *,
    loss: LossFn | None = None,
) -> torch.Tensor:
    r"""The Hessian-vector product :math:`\nabla^2 L(\theta)\,v` of a training loss.

    :math:`L(\theta) = \text{loss}(f_\theta(X), y)`, by default the book's squared loss
    :math:`\frac{1}{2n}\sum_i \|f_\theta(x_i) - y_i\|^2` (averaged over output entries), over
    the trainable parameters of ``model`` flattened in ``named_parameters()`` order.
    Computed as ``jvp(grad(L), (theta,), (v,))``: one forward-over-reverse pass, no Hessian.

    Parameters
    ----------
    model : nn.Module
    X : Tensor of shape (n, ...)
    y : Tensor of shape (n, ...)
    v : Tensor of shape (P,)
        A direction in parameter space (``P`` trainable parameters).
    loss : callable ``(output, y) -> scalar``, optional

    Returns
    -------
    Tensor of shape (P,)

    Raises
    ------
    ValueError
        On non-finite inputs or a ``v`` of the wrong length.

    References
    ----------
    Pearlmutter (1994), Fast exact multiplication by the Hessian, Neural Computation.

    Examples
    --------
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> hvp(model, X, torch.zeros(2), torch.tensor([1.0, 1.0]))  # H = X^T X / n
    tensor([0.5000, 2.0000])
    """
    x, t = _inputs(X, y)
    f, flat = _flat_loss(model, x, t, loss or _mse)
    u = as_tensor(v, "v", ndim=1, shape=f"({flat.numel()},)")
    if u.numel() != flat.numel():
        raise ValueError(
            f"v must have length {flat.numel()} (the trainable parameters), got {u.numel()}"
        )
    return jvp(grad(f), (flat,), (u.to(flat),))[1]


class TopEigen(NamedTuple):
    """The top Hessian eigenvalue ``value``, its unit ``vector`` (P,), and the power ``iterations`` used.

    Examples
    --------
    >>> TopEigen(2.0, torch.ones(1), 3).value
    2.0
    """

    value: float
    vector: torch.Tensor
    iterations: int


@validate_params(
    {
        "X": Tensor(tuple(range(2, 8)), "(n, ...)"),
        "y": Tensor(tuple(range(1, 8)), "(n, ...)"),
        "model": Model(),
        "iters": Int(1),
        "tol": Positive(),
    }
)
def top_hessian_eigenvalue(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    loss: LossFn | None = None,
    iters: int = 100,
    tol: float = 1e-6,
    seed: int | torch.Generator | None = 0,
    init: torch.Tensor | None = None,
) -> TopEigen:
    r"""The sharpness :math:`\lambda_{\max}(\nabla^2 L)` by power iteration on :func:`hvp`.

    Iterates :math:`v \leftarrow Hv/\|Hv\|` from a seeded Gaussian ``v`` (or ``init``, e.g. the
    previous call's vector) and returns the Rayleigh quotient :math:`v^\top Hv`. Power
    iteration finds the eigenvalue of largest *magnitude*; near a minimum the Hessian's large
    eigenvalues are positive, so this is :math:`\lambda_{\max}`. Stops when the quotient
    changes by less than ``tol`` relative.

    Parameters
    ----------
    model, X, y, loss
        As in :func:`hvp`.
    iters : int
        Power iterations at most (>= 1).
    tol : float
        Relative change of the estimate at which to stop (> 0).
    seed : int or torch.Generator
        Seed of the starting vector.
    init : Tensor of shape (P,), optional
        Starting vector (warm start).

    Returns
    -------
    TopEigen

    References
    ----------
    Cohen, Kaur, Li, Kolter and Talwalkar (2021), Gradient descent on neural networks
    typically occurs at the edge of stability, ICLR (sharpness by power iteration).

    Examples
    --------
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> round(top_hessian_eigenvalue(model, X, torch.zeros(2)).value, 6)
    2.0
    """
    x, t = _inputs(X, y)
    iters = check_int(iters, "iters", minimum=1)
    tol = check_positive(tol, "tol")
    f, flat = _flat_loss(model, x, t, loss or _mse)
    hv = grad(f)

    def H(u: torch.Tensor) -> torch.Tensor:
        return jvp(hv, (flat,), (u,))[1]

    if init is None:
        g = generator(seed)
        v = torch.randn(flat.numel(), generator=g, dtype=flat.dtype).to(flat.device)
    else:
        v = as_tensor(init, "init", ndim=1, shape=f"({flat.numel()},)").to(flat)
        if v.numel() != flat.numel():
            raise ValueError(f"init must have length {flat.numel()}, got {v.numel()}")
    v = v / v.norm()
    value = float("nan")
    for k in range(1, iters + 1):
        w = H(v)
        new = float(v @ w)
        norm = w.norm()
        if float(norm) == 0.0:
            return TopEigen(0.0, v, k)
        v = w / norm
        if abs(new - value) <= tol * abs(new):
            return TopEigen(new, v, k)
        value = new
    return TopEigen(value, v, iters)


@validate_params(
    {
        "X": Tensor(tuple(range(2, 8)), "(n, ...)"),
        "y": Tensor(tuple(range(1, 8)), "(n, ...)"),
        "model": Model(),
        "samples": Int(1),
    }
)
def hessian_trace(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    loss: LossFn | None = None,
    samples: int = 100,
    seed: int | torch.Generator | None = 0,
) -> float:
    r"""Hutchinson's estimate of :math:`\operatorname{tr}\nabla^2 L`: the mean of :math:`v^\top H v`.

    With Rademacher vectors :math:`v` (entries :math:`\pm 1`),
    :math:`\mathbb E[v^\top H v] = \operatorname{tr} H` and the variance is
    :math:`2\sum_{i \ne j} H_{ij}^2`, so the estimate is exact for a diagonal Hessian.

    Parameters
    ----------
    model, X, y, loss
        As in :func:`hvp`.
    samples : int
        Number of probe vectors (>= 1).
    seed : int or torch.Generator

    Returns
    -------
    float

    References
    ----------
    Hutchinson (1990), A stochastic estimator of the trace of the influence matrix for
    Laplacian smoothing splines, Commun. Stat. Simul. Comput.

    Examples
    --------
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # H = diag(0.5, 2): exact
    >>> hessian_trace(model, X, torch.zeros(2), samples=3)
    2.5
    """
    x, t = _inputs(X, y)
    samples = check_int(samples, "samples", minimum=1)
    f, flat = _flat_loss(model, x, t, loss or _mse)
    hv = grad(f)
    g = generator(seed)
    total = 0.0
    for _ in range(samples):
        v = (torch.randint(0, 2, (flat.numel(),), generator=g) * 2 - 1).to(flat)
        total += float(v @ jvp(hv, (flat,), (v,))[1])
    return total / samples
