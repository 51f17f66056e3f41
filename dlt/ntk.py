r"""Empirical neural tangent kernels and linearized networks, with ``torch.func``.

For a model :math:`f(x; \theta)` with :math:`k` outputs the empirical NTK is

.. math:: \hat\Theta(x, x') = J(x)\,J(x')^\top,\qquad J(x) = \partial f(x;\theta)/\partial\theta
          \in \mathbb{R}^{k \times P},

and the linearized network (Lee et al. 2019, eq. 5) is the first-order Taylor model

.. math:: f^{\mathrm{lin}}(x; \theta) = f(x; \theta_0) + J_{\theta_0}(x)\,(\theta - \theta_0).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vmap

from ._validate import as_matrix, check_choice, check_int, check_positive

__all__ = ["empirical_ntk", "Linearized", "linearize", "OutputScaled", "kernel_distance"]


def _params(model: nn.Module) -> dict[str, torch.Tensor]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    if not params:
        raise ValueError("model has no trainable parameters, so its tangent kernel is zero")
    return params


def _jacobians(model: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor) -> dict[str, torch.Tensor]:
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
    ``"structured"`` (:class:`dlt.nets.MLP` only)
        the per-sample gradient of a dense layer :math:`z = m_w W a + m_b b` is the outer
        product :math:`m_w\,\delta \otimes a`, with :math:`\delta = \partial f/\partial z`, so
        its share of the kernel is :math:`m_w^2 (\delta_1\delta_2^\top)\circ(a_1 a_2^\top)
        + m_b^2\,\delta_1\delta_2^\top`, computed from one forward and one backward pass
        without forming any per-sample weight gradient (the "structured derivatives"
        of Novak et al. 2022). Cost :math:`O(n^2 \sum_\ell n_\ell)` instead of
        :math:`O(n^2 P)`.

    ``"auto"`` takes ``"structured"`` for an :class:`~dlt.nets.MLP` whose parameters all
    train, and ``"jacobian"`` otherwise.

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
    params = _params(model)
    ref = next(iter(params.values()))
    a = as_matrix(x1, "x1").to(dtype=ref.dtype, device=ref.device)
    b = None if x2 is None else as_matrix(x2, "x2").to(dtype=ref.dtype, device=ref.device)
    if b is not None and b.shape[1] != a.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of features, got x1 with {a.shape[1]} and x2 with {b.shape[1]}"
        )
    bs = a.shape[0] if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    method = check_choice(method, "method", ("auto", "jacobian", "structured"))
    from .nets import MLP

    is_mlp = isinstance(model, MLP) and all(p.requires_grad for p in model.parameters())
    if method == "structured" and not is_mlp:
        raise ValueError("method 'structured' needs a dlt.nets.MLP whose parameters all require grad")
    if method in ("auto", "structured") and is_mlp:
        return _mlp_structured_ntk(model, a, b)

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


def _mlp_layers(model: nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """Layer inputs ``a_l``, per-sample output gradients ``delta_l`` (one list entry per output)."""
    weights = [w.detach() for w in model.weights]
    biases = [b.detach() for b in model.biases] if model.biases is not None else None
    acts, pres = [], []
    with torch.enable_grad():
        h = x
        last = len(weights) - 1
        for i, w in enumerate(weights):
            mw, mb = model._multipliers(w.shape[-1])
            acts.append(h)
            z = mw * (h @ w.T)
            if biases:
                z = z + mb * biases[i]
            if not z.requires_grad:  # the first layer's output is a leaf
                z.requires_grad_(True)
            pres.append(z)
            h = model._phi(z) if i < last else z
        k = h.shape[1]
        deltas = []
        for j in range(k):
            grads = torch.autograd.grad(h[:, j].sum(), pres, retain_graph=j < k - 1)
            deltas.append([g.detach() for g in grads])
    return [a.detach() for a in acts], deltas, weights


def _mlp_structured_ntk(model: nn.Module, a: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    acts1, deltas1, weights = _mlp_layers(model, a)
    acts2, deltas2, _ = (acts1, deltas1, None) if b is None else _mlp_layers(model, b)
    k = len(deltas1)
    n1, n2 = a.shape[0], (a if b is None else b).shape[0]
    theta = a.new_zeros(n1, n2, k, k)
    for layer, w in enumerate(weights):
        mw, mb = model._multipliers(w.shape[-1])
        gram_a = acts1[layer] @ acts2[layer].T
        factor = mw**2 * gram_a + (mb**2 if model.biases is not None else 0.0)
        for p in range(k):
            for q in range(k):
                theta[:, :, p, q] += factor * (deltas1[p][layer] @ deltas2[q][layer].T)
    if k == 1:
        return theta[..., 0, 0]
    return theta


class Linearized(nn.Module):
    r"""A network replaced by its first-order Taylor model around :math:`\theta_0`.

    :math:`f^{\mathrm{lin}}(x;\theta) = f(x;\theta_0) + J_{\theta_0}(x)(\theta - \theta_0)`,
    evaluated with one Jacobian-vector product (``torch.func.jvp``) per call. Its
    parameters start at :math:`\theta_0` and can be trained like any module; the copy of
    the network it expands stays frozen.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        params = _params(model)
        self._base = copy.deepcopy(model).requires_grad_(False)
        self._names = list(params)
        for p in self._base.parameters():
            p.requires_grad_(False)
        self.theta0 = {k: v.clone() for k, v in params.items()}
        self.params = nn.ParameterList([nn.Parameter(v.clone()) for v in params.values()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = self._base
        theta0 = {k: v.to(x.device) for k, v in self.theta0.items()}
        delta = {k: p - theta0[k] for k, p in zip(self._names, self.params, strict=True)}

        def f(p: dict[str, torch.Tensor]) -> torch.Tensor:
            return functional_call(base, p, (x,))

        f0, df = jvp(f, (theta0,), (delta,))
        return f0 + df


def linearize(model: nn.Module) -> Linearized:
    """The linearized network of ``model`` around its current parameters (see :class:`Linearized`).

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> net = MLP([2, 16, 1], seed=0)
    >>> x = torch.randn(3, 2)
    >>> torch.allclose(linearize(net)(x), net(x))
    True
    """
    return Linearized(model)


class OutputScaled(nn.Module):
    r"""The centred, rescaled model of Chizat, Oyallon and Bach (2019).

    .. math:: f_\alpha(x; \theta) = \alpha\,\big(f(x;\theta) - f(x;\theta_0)\big)

    Training :math:`f_\alpha` on the squared loss with learning rate :math:`\eta/\alpha^2`
    follows, in the linear regime, the same function-space path for every :math:`\alpha`
    (its tangent kernel is :math:`\alpha^2\Theta`), while the parameters move
    :math:`\alpha` times less: large :math:`\alpha` is lazy, small :math:`\alpha` is not.
    The subtracted :math:`f(x;\theta_0)` comes from a frozen copy of the initial model.

    Parameters
    ----------
    model : nn.Module
        The network; its parameters are trained in place.
    alpha : float
        Output scale :math:`\alpha > 0`.
    """

    def __init__(self, model: nn.Module, alpha: float) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.alpha = check_positive(alpha, "alpha")
        self.model = model
        self._initial = copy.deepcopy(model).requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            f0 = self._initial(x)
        return self.alpha * (self.model(x) - f0)


def kernel_distance(theta_a: torch.Tensor, theta_b: torch.Tensor) -> float:
    r"""Relative Frobenius distance :math:`\|\Theta_a - \Theta_b\|_F / \|\Theta_b\|_F`."""
    if theta_a.shape != theta_b.shape:
        raise ValueError(f"theta_a and theta_b must have the same shape, got {tuple(theta_a.shape)} "
                         f"and {tuple(theta_b.shape)}")
    a, b = theta_a.to(torch.float64), theta_b.to(torch.float64).to(theta_a.device)
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))
