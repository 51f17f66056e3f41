r"""Empirical neural tangent kernels: the definition with ``torch.func``, then the fast paths.

For a model :math:`f(x; \theta)` with :math:`k` outputs the empirical NTK is

.. math:: \hat\Theta(x, x') = J(x)\,J(x')^\top,\qquad J(x) = \partial f(x;\theta)/\partial\theta
          \in \mathbb{R}^{k \times P}.

This module computes it first as written (``method="jacobian"``: ``_jacobians``, then
``_jacobian_ntk``), then, for networks of linear and convolutional layers, from one
forward and one backward pass without the Jacobian (``method="structured"``, the default
where it applies; private modules ``_structured`` and ``_chain``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from ..core.modules import trainable_parameters
from ..core.params import Choice, Int, Model, Tensor, validate_params
from ..core.validate import as_tensor, check_choice, check_int
from ._chain import chain_factors, mlp_chain, reads, sequential_chain
from ._structured import Factors, Unsupported, factors, plan, structured_kernel

__all__ = ["empirical_ntk", "kernel_distance"]


def _jacobians(
    model: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per-sample Jacobians ``{name: (n, k, *param.shape)}``, vectorised with vmap."""

    def f(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return out.reshape(-1)

    return vmap(jacrev(f), in_dims=(None, 0))(params, x)


def _jacobian_ntk(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    a: torch.Tensor,
    b: torch.Tensor | None,
    bs: int,
    trace: bool,
) -> torch.Tensor:
    """``(n1, n2, k, k)`` (or the trace ``(n1, n2)``) from per-sample Jacobians."""

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
                if trace:
                    term = (
                        pa.reshape(na, k, -1).transpose(0, 1)
                        @ pb.reshape(nb, k, -1).permute(1, 2, 0)
                    ).sum(0)
                else:
                    term = (pa.reshape(na * k, -1) @ pb.reshape(nb * k, -1).T).reshape(na, k, nb, k)
                blk = term if blk is None else blk + term
            assert blk is not None
            cols.append(blk)
        rows.append(torch.cat(cols, dim=-1 if trace else 2))
    theta = torch.cat(rows, dim=0)
    return theta if trace else theta.permute(0, 2, 1, 3)


@validate_params(
    {
        "x1": Tensor(tuple(range(2, 9)), "(n, ...) with n >= 1"),
        "x2": Tensor(tuple(range(2, 9)), "(n, ...) with n >= 1"),
        "model": Model(),
        "batch_size": Int(1),
        "method": Choice(("auto", "jacobian", "structured")),
    }
)
def empirical_ntk(
    model: nn.Module,
    x1: torch.Tensor,
    x2: torch.Tensor | None = None,
    *,
    batch_size: int | None = None,
    method: str = "auto",
    trace_outputs: bool = False,
) -> torch.Tensor:
    r"""The empirical neural tangent kernel :math:`J(x_1) J(x_2)^\top` of any ``nn.Module``.

    Two methods, both vectorised over samples:

    ``"jacobian"`` (any module): the definition
        per-sample Jacobians :math:`J(x) = \partial f(x;\theta)/\partial\theta` with
        ``vmap(jacrev(...))``, contracted parameter tensor by parameter tensor,
        :math:`\hat\Theta(x, x') = \sum_{W} J_W(x) J_W(x')^\top` (the full ``n x P``
        Jacobian is never concatenated). Cost :math:`O(n^2 P)`.
    ``"structured"`` (networks of linear and convolutional layers): the same sum, faster
        a layer applied at positions :math:`s` (one for a dense layer on vectors, the tokens
        of a sequence, the output pixels of a convolution whose inputs are then patches)
        computes :math:`z_s = m_w W a_s + m_b b`; with :math:`\delta_{p,s} = \partial f_p /
        \partial z_s` its share of the kernel is

        .. math:: \Theta_{pq}(x, x') = \sum_{s,t} (\delta_{p,s}\cdot\delta'_{q,t})
                  (m_w^2\, a_s \cdot a'_t + m_b^2),

        i.e. :math:`(\delta\delta^\top)\circ(aa^\top)` for one position, computed from one
        forward pass and one backward pass per output, without forming the Jacobian (the
        "structured derivatives" of Novak et al. 2022). A chain of dense layers (the layer
        view of a :class:`dlt.nets.MLP`, or an ``nn.Sequential`` of ``nn.Linear`` and
        pointwise activations) is differentiated by hand; for any other module it reads
        the ``nn.Linear``, ``nn.Conv1d`` and ``nn.Conv2d`` layers that hold all its trainable
        parameters through forward hooks; parameter-free layers may sit in between
        (activations, pooling, normalization without affine parameters, residual
        connections, attention built from linear layers). Layer inputs must have the batch
        first, and samples must not interact. Cost :math:`O(n^2 \sum_\ell S_\ell^2 n_\ell)`
        or :math:`O(n^2 P)`, whichever is smaller per layer. The machinery is private
        (``dlt.measure._structured`` and ``dlt.measure._chain``), tested equal to the
        Jacobian method.

    ``"auto"`` and ``"structured"`` take the structured method when the model allows it and
    otherwise fall back to ``"jacobian"`` with a warning naming the module that forced it
    (for instance a ``LayerNorm`` with affine parameters, or an ``Embedding``).

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch ``(n, ...)`` to ``(n, k)`` (or ``(n,)``). Every parameter with
        ``requires_grad`` counts.
    x1 : Tensor of shape (n1, ...)
    x2 : Tensor of shape (n2, ...), optional
        Defaults to ``x1`` (and the factors or Jacobians are computed once).
    batch_size : int, optional
        Process at most this many inputs at a time (memory).
    method : {"auto", "jacobian", "structured"}
    trace_outputs : bool
        Return :math:`\sum_p \Theta_{pp}`, shape ``(n1, n2)``, instead of the full kernel
        (``k`` times less work for ``k`` outputs).

    Returns
    -------
    Tensor of shape ``(n1, n2)`` for a single output or with ``trace_outputs``, else
    ``(n1, n2, k, k)`` for ``k > 1`` outputs, in the dtype of the model.

    Raises
    ------
    ValueError
        If an input has fewer than 2 dimensions, does not fit the model, or ``x1`` and ``x2``
        have different shapes per sample.

    References
    ----------
    Jacot, Gabriel and Hongler (2018); Novak, Sohl-Dickstein and Schoenholz (2022), Fast
    finite width neural tangent kernel, ICML (the structured-derivatives and
    Jacobian-contraction methods).

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> net = MLP([2, 16, 1], seed=0)
    >>> empirical_ntk(net, torch.randn(4, 2)).shape
    torch.Size([4, 4])
    >>> cnn = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(24, 3))
    >>> empirical_ntk(cnn, torch.randn(5, 1, 8)).shape
    torch.Size([5, 5, 3, 3])
    >>> empirical_ntk(cnn, torch.randn(5, 1, 8), trace_outputs=True).shape
    torch.Size([5, 5])
    """
    params = trainable_parameters(model)
    ref = next(iter(params.values()))
    shape = "(n, ...) with n >= 1"
    a = as_tensor(x1, "x1", ndim=range(2, 9), shape=shape).to(dtype=ref.dtype, device=ref.device)
    b = None
    if x2 is not None:
        b = as_tensor(x2, "x2", ndim=range(2, 9), shape=shape).to(a)
        if b.shape[1:] != a.shape[1:]:
            raise ValueError(
                f"x1 and x2 must have the same number of features, got x1 of shape "
                f"{tuple(a.shape)} and x2 of shape {tuple(b.shape)}"
            )
    inputs = [(name, x) for name, x in (("x1", a), ("x2", b)) if x is not None]
    for name, x in inputs:
        _check_widths(model, x, name)
    n_max = max(a.shape[0], 0 if b is None else b.shape[0])
    bs = n_max if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    method = check_choice(method, "method", ("auto", "jacobian", "structured"))
    if not isinstance(trace_outputs, bool):
        raise TypeError(f"trace_outputs must be a bool, got {trace_outputs!r}")
    if method != "jacobian":
        featurize = _featurizer(model)
        if featurize is not None:
            try:  # gradients, even inside torch.no_grad() or torch.inference_mode()
                with torch.inference_mode(False), torch.enable_grad():
                    a1 = a.clone() if a.is_inference() else a
                    b1 = b.clone() if b is not None and b.is_inference() else b
                    theta = structured_kernel(featurize, a1, b1, bs, trace_outputs)
            except (RuntimeError, ValueError):
                for name, x in inputs:  # an input the model cannot read: say which one
                    _check_fits(model, x, name)
                raise
            return theta if trace_outputs or theta.shape[-1] > 1 else theta[..., 0, 0]
    for name, x in inputs:  # before vmap, whose errors would not name the input
        _check_fits(model, x, name)
    theta = _jacobian_ntk(model, params, a, b, bs, trace_outputs)
    return theta if trace_outputs or theta.shape[-1] > 1 else theta[..., 0, 0]


def _featurizer(model: nn.Module) -> Callable[[torch.Tensor], list[Factors]] | None:
    """The structured path's factors for this model, or None (with a warning) when it cannot run.

    A chain of dense layers (an MLP's layer view, an ``nn.Sequential`` of ``nn.Linear`` and
    pointwise activations on inputs (n, d), or flattened to that) by hand; any other network
    of linear and convolutional layers through forward hooks and autograd.
    """
    if _has_layer_view(model):
        chain = mlp_chain(model)
        return lambda x: chain_factors(chain, x)
    try:
        layers = plan(model)
    except Unsupported as err:
        warnings.warn(
            f"empirical_ntk: the structured method cannot read this model ({err}); "
            "falling back to the Jacobian method",
            stacklevel=4,  # the caller of empirical_ntk, past the @validate_params wrapper
        )
        return None
    seq = sequential_chain(model)
    if seq is not None:
        return lambda x: chain_factors(seq, x) if reads(seq, x.dim()) else factors(model, layers, x)
    return lambda x: factors(model, layers, x)


def _check_widths(model: nn.Module, x: torch.Tensor, name: str) -> None:
    """Raise a ValueError naming ``name`` when a model with ``widths`` cannot read ``x``."""
    widths = getattr(model, "widths", None)
    if isinstance(widths, list) and widths and (x.ndim != 2 or x.shape[1] != widths[0]):
        raise ValueError(
            f"{name} must have shape (n, {widths[0]}) for this model, got {tuple(x.shape)}"
        )


def _check_fits(model: nn.Module, x: torch.Tensor, name: str) -> None:
    """Raise a ValueError naming ``name`` when the model cannot read inputs of this shape.

    One forward pass of a single input; the structured path runs it only after a failure,
    so a kernel that works pays nothing for the check.
    """
    _check_widths(model, x, name)
    try:
        with torch.no_grad():
            model(x[:1])
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"{name} of shape {tuple(x.shape)} does not fit the model: {str(err).splitlines()[0]}"
        ) from None


def _has_layer_view(model: nn.Module) -> bool:
    return hasattr(model, "layers") and callable(getattr(model, "forward_trace", None))


@validate_params(
    {
        "theta_a": Tensor((2, 3, 4), "(n1, n2) or (n1, n2, k, k)"),
        "theta_b": Tensor((2, 3, 4), "(n1, n2) or (n1, n2, k, k)"),
    }
)
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
