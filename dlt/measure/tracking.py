r"""Sharpness along training, and the exact curvature of small models.

:class:`SharpnessCallback` records :math:`\lambda_{\max}(\nabla^2 L)` every ``every`` steps of
:func:`dlt.train.fit` (warm-started power iteration on Hessian-vector products);
:func:`full_hessian` forms the Hessian of a small model's loss; :func:`output_jacobian` gives
the per-sample gradients :math:`g_i = \nabla_\theta f(x_i;\theta)` of a scalar-output model,
whose Gram matrix is the empirical NTK and whose outer products are the per-sample Hessians of
the squared loss at an interpolating minimum.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, hessian, jacrev, vmap

from ..core.modules import trainable_parameters
from ..core.params import Int, Model, Positive, Tensor, validate_params
from ..core.validate import as_tensor, check_int, check_positive
from .hessian import LossFn, _flat_loss, _inputs, _mse, top_hessian_eigenvalue

__all__ = ["SharpnessCallback", "full_hessian", "output_jacobian"]


class SharpnessCallback:
    r"""A :func:`dlt.train.fit` callback that records the sharpness every ``every`` steps.

    At each step ``t`` that ``fit`` reports with ``t % every == 0``, computes
    :math:`\lambda_{\max}(\nabla^2 L(\theta_t))` on ``(X, y)`` with
    :func:`dlt.curvature.top_hessian_eigenvalue`, warm-started from the previous top
    eigenvector so that a few power iterations suffice. Pass it as
    ``fit(..., callback=cb, record_every=k)`` with ``k`` dividing ``every`` (``k = 1`` also
    records the loss at every step).

    Parameters
    ----------
    X : Tensor of shape (n, ...)
    y : Tensor of shape (n, ...)
    every : int
        Record every this many steps (>= 1).
    loss : callable ``(output, y) -> scalar``, optional
        The training loss; default the book's squared loss :math:`\frac{1}{2n}\sum\|f - y\|^2`
        (averaged over output entries), ``fit``'s ``"mse"``.
    iters : int
        Power iterations at most per record (>= 1); the first record uses ``10 * iters``.
    tol : float
        Relative tolerance of the power iteration (> 0).
    seed : int
        Seed of the first starting vector.

    Attributes
    ----------
    step : list of int
    sharpness : list of float

    Raises
    ------
    ValueError
        On non-finite or mismatched ``X``, ``y`` or out-of-range sizes.

    References
    ----------
    Cohen, Kaur, Li, Kolter and Talwalkar (2021), Gradient descent on neural networks
    typically occurs at the edge of stability, ICLR.

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> from dlt.train import fit
    >>> X, y = torch.randn(16, 2), torch.randn(16)
    >>> cb = SharpnessCallback(X, y, every=5)
    >>> _ = fit(MLP([2, 8, 1], seed=0), X, y, lr=0.1, steps=10, record_every=5, callback=cb)
    >>> cb.step
    [0, 5, 10]
    """

    @validate_params({"every": Int(1), "iters": Int(1), "tol": Positive()})
    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        *,
        every: int = 10,
        loss: LossFn | None = None,
        iters: int = 10,
        tol: float = 1e-3,
        seed: int = 0,
    ) -> None:
        self.X, self.y = _inputs(X, y)
        self.every = check_int(every, "every", minimum=1)
        self.iters = check_int(iters, "iters", minimum=1)
        self.tol = check_positive(tol, "tol")
        self.loss = loss or _mse
        self.seed = seed
        self.step: list[int] = []
        self.sharpness: list[float] = []
        self._vector: torch.Tensor | None = None

    def __call__(self, step: int, model: nn.Module) -> None:
        if step % self.every != 0 or (self.step and step == self.step[-1]):
            return
        first = self._vector is None
        top = top_hessian_eigenvalue(
            model,
            self.X,
            self.y,
            loss=self.loss,
            iters=10 * self.iters if first else self.iters,
            tol=self.tol,
            seed=self.seed,
            init=self._vector,
        )
        self._vector = top.vector if np.isfinite(top.value) else None
        self.step.append(int(step))
        self.sharpness.append(float(top.value))

    def __repr__(self) -> str:
        return f"SharpnessCallback(every={self.every}, records={len(self.step)})"


@validate_params(
    {
        "X": Tensor(tuple(range(2, 8)), "(n, ...)"),
        "y": Tensor(tuple(range(1, 8)), "(n, ...)"),
        "model": Model(),
    }
)
def full_hessian(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, loss: LossFn | None = None
) -> torch.Tensor:
    r"""The full Hessian :math:`\nabla^2_\theta L(\theta)` of a small model's training loss.

    Same loss and parameter order as :func:`dlt.curvature.hvp` (trainable parameters flattened
    in ``named_parameters()`` order), computed with ``torch.func.hessian``; memory
    :math:`O(P^2)`, so for models of at most a few thousand parameters. Its trace and
    eigenvalues are what :func:`~dlt.curvature.hessian_trace` and
    :func:`~dlt.curvature.top_hessian_eigenvalue` estimate.

    Parameters
    ----------
    model : nn.Module
    X : Tensor of shape (n, ...)
    y : Tensor of shape (n, ...)
    loss : callable ``(output, y) -> scalar``, optional

    Returns
    -------
    Tensor of shape (P, P)

    Raises
    ------
    ValueError
        On non-finite inputs or mismatched rows.

    Examples
    --------
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> full_hessian(model, X, torch.zeros(2))  # X^T X / n
    tensor([[0.5000, 0.0000],
            [0.0000, 2.0000]])
    """
    x, t = _inputs(X, y)
    f, flat = _flat_loss(model, x, t, loss or _mse)
    return hessian(f)(flat)


@validate_params({"model": Model(), "X": Tensor((2, 3, 4, 5, 6, 7), "(n, ...)")})
def output_jacobian(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    r"""Per-sample gradients :math:`g_i = \nabla_\theta f(x_i;\theta)` of a scalar-output model.

    The rows of the Jacobian :math:`G \in \mathbb R^{n\times P}` (parameters flattened as in
    :func:`dlt.curvature.hvp`), computed with ``vmap(jacrev(...))``. :math:`GG^\top` is the
    empirical NTK, and at a minimum that fits every sample the Hessian of the squared loss
    :math:`\frac1{2n}\sum_i(f(x_i) - y_i)^2` is :math:`G^\top G/n`.

    Parameters
    ----------
    model : nn.Module
        Its output on ``X`` has shape (n,) or (n, 1).
    X : Tensor of shape (n, ...)

    Returns
    -------
    Tensor of shape (n, P)

    Raises
    ------
    ValueError
        If ``X`` is not finite or the model has more than one output.

    Examples
    --------
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> output_jacobian(model, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))  # f = w.x: g_i = x_i
    tensor([[1., 2.],
            [3., 4.]])
    """
    x = as_tensor(X, "X", ndim=range(2, 8), shape="(n, ...)")
    params = trainable_parameters(model)
    frozen = {k: b for k, b in model.named_buffers()}
    with torch.no_grad():
        out = model(x[:1])
    if out.numel() != 1:
        raise ValueError(f"model must have one output per sample, got shape {tuple(out.shape)}")

    def f(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**p, **frozen}, (xi.unsqueeze(0),)).reshape(())

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)
    return torch.cat([jac[k].reshape(x.shape[0], -1) for k in params], dim=1)
