r"""Empirical neural tangent kernels, with ``torch.func`` or from a network's layer view.

For a model :math:`f(x; \theta)` with :math:`k` outputs the empirical NTK is

.. math:: \hat\Theta(x, x') = J(x)\,J(x')^\top,\qquad J(x) = \partial f(x;\theta)/\partial\theta
          \in \mathbb{R}^{k \times P}.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from ..core.validate import as_matrix, as_tensor, check_choice, check_int
from ..nets.wrappers import trainable_parameters

__all__ = ["empirical_ntk", "kernel_distance"]


def _jacobians(
    model: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per-sample Jacobians ``{name: (n, k, *param.shape)}``, vectorised with vmap."""

    def f(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return out.reshape(-1)

    return vmap(jacrev(f), in_dims=(None, 0))(params, x)


def empirical_ntk(
    model: nn.Module,
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    *,
    batch_size: int | None = None,
    method: str = "auto",
) -> torch.Tensor:
    r"""The empirical neural tangent kernel :math:`J(x_1) J(x_2)^\top` of any ``nn.Module``.

    Two methods, both vectorised over samples:

    ``"jacobian"`` (any module)
        per-sample Jacobians with ``vmap(jacrev(...))``, contracted parameter tensor by
        parameter tensor (the full ``n x P`` Jacobian is never concatenated).
    ``"structured"`` (a model with a layer view, such as :class:`dlt.nets.MLP`)
        the per-sample gradient of a dense layer :math:`z = m_w W a + m_b b` is the outer
        product :math:`m_w\,\delta \otimes a`, with :math:`\delta = \partial f/\partial z`, so
        its share of the kernel is :math:`m_w^2 (\delta_1\delta_2^\top)\circ(a_1 a_2^\top)
        + m_b^2\,\delta_1\delta_2^\top`, computed from one forward and one backward pass
        without forming any per-sample weight gradient (the "structured derivatives"
        of Novak et al. 2022). Cost :math:`O(n^2 \sum_\ell n_\ell)` instead of
        :math:`O(n^2 P)`.

    ``"auto"`` takes ``"structured"`` for a model with a layer view (``layers`` and
    ``forward_trace``, as :class:`~dlt.nets.MLP`) whose parameters all train, and
    ``"jacobian"`` otherwise.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch ``(n, d)`` to ``(n, k)`` (or ``(n,)``). Every parameter with
        ``requires_grad`` counts.
    x1 : Tensor of shape (n1, d)
    x2 : Tensor of shape (n2, d), optional
        Defaults to ``x1`` (and the Jacobian is computed once).
    batch_size : int, optional
        Compute the Jacobians of at most this many inputs at a time (memory; "jacobian" only).
    method : {"auto", "jacobian", "structured"}

    Returns
    -------
    Tensor of shape ``(n1, n2)`` for a single output, or ``(n1, n2, k, k)`` for ``k > 1``
    outputs, in the dtype of the model.

    Raises
    ------
    ValueError
        If an input is not 2-d, or ``x1`` and ``x2`` have different feature dimensions.

    References
    ----------
    Jacot, Gabriel and Hongler (2018); Novak et al. (2022), Fast finite width neural
    tangent kernel, ICML (the Jacobian-contraction method).

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> net = MLP([2, 16, 1], seed=0)
    >>> empirical_ntk(net, torch.randn(4, 2)).shape
    torch.Size([4, 4])
    """
    params = trainable_parameters(model)
    ref = next(iter(params.values()))
    a = as_matrix(x1, "x1").to(dtype=ref.dtype, device=ref.device)
    b = None if x2 is None else as_matrix(x2, "x2").to(dtype=ref.dtype, device=ref.device)
    if b is not None and b.shape[1] != a.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of features, got x1 with {a.shape[1]} and x2 with {b.shape[1]}"
        )
    for name, x in (("x1", a), ("x2", b)):
        if x is not None:
            _check_fits(model, x, name)
    bs = a.shape[0] if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    method = check_choice(method, "method", ("auto", "jacobian", "structured"))
    structured = _has_layer_view(model) and all(p.requires_grad for p in model.parameters())
    if method == "structured" and not structured:
        raise ValueError(
            "method 'structured' needs a model with a layer view (`layers` and `forward_trace`, "
            "as dlt.nets.MLP) whose parameters all require grad"
        )
    if method in ("auto", "structured") and structured:
        return _structured_ntk(model, a, b)

    def jac(x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        return [_jacobians(model, params, x[i : i + bs]) for i in range(0, x.shape[0], bs)]

    j1 = jac(a)
    j2 = j1 if b is None else jac(b)
    rows = []
    for ja in j1:
        cols = []
        for jb in j2:
            blk = None
            for name in params:
                pa, pb = ja[name], jb[name]
                na, k = pa.shape[:2]
                nb = pb.shape[0]
                term = pa.reshape(na * k, -1) @ pb.reshape(nb * k, -1).T
                blk = term if blk is None else blk + term
            assert blk is not None
            cols.append(blk.reshape(na, k, nb, k))
        rows.append(torch.cat(cols, dim=2))
    theta = torch.cat(rows, dim=0).permute(0, 2, 1, 3)  # (n1, n2, k, k)
    if theta.shape[-1] == 1:
        return theta[..., 0, 0]
    return theta


def _check_fits(model: nn.Module, x: torch.Tensor, name: str) -> None:
    """Raise a ValueError naming ``name`` when the model cannot read inputs of this shape."""
    widths = getattr(model, "widths", None)
    if isinstance(widths, list) and widths and x.shape[1] != widths[0]:
        raise ValueError(
            f"{name} must have shape (n, {widths[0]}) for this model, got {tuple(x.shape)}"
        )
    try:
        with torch.no_grad():
            model(x[:1])
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"{name} of shape {tuple(x.shape)} does not fit the model: {str(err).splitlines()[0]}"
        ) from None


def _has_layer_view(model: nn.Module) -> bool:
    return hasattr(model, "layers") and callable(getattr(model, "forward_trace", None))


def _deltas(model: Any, x: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """Each layer's input, and per output ``j`` the gradients of ``f_j`` with respect to every pre-activation."""
    trace = model.forward_trace(x)
    out = trace.output
    k = out.shape[1]
    deltas = []
    for j in range(k):
        grads = torch.autograd.grad(out[:, j].sum(), trace.preactivations, retain_graph=j < k - 1)
        deltas.append([g.detach() for g in grads])
    return trace.inputs, deltas


def _structured_ntk(model: Any, a: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    acts1, deltas1 = _deltas(model, a)
    acts2, deltas2 = (acts1, deltas1) if b is None else _deltas(model, b)
    k = len(deltas1)
    n1, n2 = a.shape[0], (a if b is None else b).shape[0]
    theta = a.new_zeros(n1, n2, k, k)
    for i, layer in enumerate(model.layers):
        gram_a = acts1[i] @ acts2[i].T
        factor = layer.weight_multiplier**2 * gram_a
        if layer.bias is not None:
            factor = factor + layer.bias_multiplier**2
        for p in range(k):
            for q in range(k):
                theta[:, :, p, q] += factor * (deltas1[p][i] @ deltas2[q][i].T)
    if k == 1:
        return theta[..., 0, 0]
    return theta


def kernel_distance(theta_a: torch.Tensor, theta_b: torch.Tensor) -> float:
    r"""Relative Frobenius distance :math:`\|\Theta_a - \Theta_b\|_F / \|\Theta_b\|_F`.

    Examples
    --------
    >>> kernel_distance(torch.eye(2) * 1.1, torch.eye(2))
    0.1...
    """
    a = as_tensor(theta_a, "theta_a", ndim=(2, 3, 4), shape="(n1, n2) or (n1, n2, k, k)")
    b = as_tensor(theta_b, "theta_b", ndim=(2, 3, 4), shape="(n1, n2) or (n1, n2, k, k)")
    if a.shape != b.shape:
        raise ValueError(
            f"theta_a and theta_b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    a, b = a.to(torch.float64), b.to(torch.float64).to(a.device)
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))
