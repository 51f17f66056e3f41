r"""Interval bound propagation (IBP): elementwise bounds of a network's outputs over an input box.

For the box :math:`\{x' : \|x' - x\|_\infty \le \varepsilon\}` with centre :math:`c = x` and
radius :math:`r = \varepsilon\mathbb 1`, an affine layer :math:`z = Wa + b` maps a box
:math:`(c, r)` to the box :math:`(Wc + b, |W| r)` and a monotone activation maps the bounds
:math:`[l, u]` to :math:`[\phi(l), \phi(u)]` (Gowal et al. 2018; Mao et al. 2024).
Every output of every input of the box lies in the result: the bounds are sound,
and in general loose. Their *tightness* (Mao et al. 2024) for a deep linear
network :math:`W_L\cdots W_1` is the ratio of the exact half-width to the IBP half-width,
:math:`\|(W_L\cdots W_1)_{i,:}\|_1 / (|W_L|\cdots|W_1|\mathbb 1)_i \in (0, 1]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from ..core.validate import as_tensor, check_nonnegative

__all__ = ["Bounds", "ibp_bounds", "ibp_tightness"]


class Bounds(NamedTuple):
    """Elementwise lower and upper bounds of a network's outputs, each of shape (n, d_out).

    Examples
    --------
    >>> b = Bounds(torch.zeros(1, 2), torch.ones(1, 2))
    >>> b.upper - b.lower
    tensor([[1., 1.]])
    """

    lower: torch.Tensor
    upper: torch.Tensor


def _layers(model: nn.Module, allowed: tuple[type, ...], name: str = "model") -> list[nn.Module]:
    if isinstance(model, nn.Sequential):
        layers = list(model)
    elif isinstance(model, nn.Linear):
        layers = [model]
    else:
        raise TypeError(
            f"{name} must be an nn.Sequential of {', '.join(t.__name__ for t in allowed)}, "
            f"got {type(model).__name__}"
        )
    for i, layer in enumerate(layers):
        if not isinstance(layer, allowed):
            raise TypeError(
                f"{name}[{i}] is a {type(layer).__name__}: interval bounds are implemented for "
                f"{', '.join(t.__name__ for t in allowed)} layers only"
            )
    return layers


def ibp_bounds(model: nn.Module, x: torch.Tensor, eps: float) -> Bounds:
    r"""Interval bounds of ``model``'s outputs over the :math:`\ell_\infty` ball around each row.

    Propagates centre and radius: :math:`c \mapsto Wc + b`, :math:`r \mapsto |W| r` through
    ``nn.Linear``, and lower and upper bounds through ``nn.ReLU`` (monotone); ``nn.Flatten``
    reshapes both. Then :math:`l \le f(x') \le u` for every :math:`\|x' - x\|_\infty \le
    \varepsilon` (a sound over-approximation; Gowal et al. 2018).

    Parameters
    ----------
    model : nn.Sequential of nn.Linear, nn.ReLU and nn.Flatten
        Any other layer raises a ``TypeError`` that names it.
    x : Tensor of shape (n, ...)
        Centres of the boxes.
    eps : float
        Radius (>= 0); with ``eps = 0`` both bounds are ``model(x)``.

    Returns
    -------
    Bounds
        ``lower`` and ``upper``, each of shape ``(n, d_out)``.

    References
    ----------
    Gowal et al. (2018), On the effectiveness of interval bound propagation for training
    verifiably robust models; Mao, Müller, Fischer and Vechev (2024), Understanding certified
    training with interval bound propagation.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> x = torch.zeros(1, 2)
    >>> lo, hi = ibp_bounds(net, x, 0.1)
    >>> bool(lo <= net(x)) and bool(net(x) <= hi)
    True
    """
    layers = _layers(model, (nn.Linear, nn.ReLU, nn.Flatten))
    x = as_tensor(x, "x", ndim=range(2, 8), shape="(n, ...)")
    eps = check_nonnegative(eps, "eps")
    c, r = x, torch.full_like(x, eps)
    for layer in layers:
        if isinstance(layer, nn.Linear):
            c = layer(c)
            r = r @ layer.weight.abs().T
        elif isinstance(layer, nn.ReLU):
            lo, hi = torch.relu(c - r), torch.relu(c + r)
            c, r = (hi + lo) / 2, (hi - lo) / 2
        else:
            c, r = layer(c), layer(r)
    return Bounds(c - r, c + r)


def ibp_tightness(
    weights: Sequence[torch.Tensor] | nn.Module, *, per_layer: bool = False
) -> torch.Tensor | list[torch.Tensor]:
    r"""The IBP tightness of a deep linear network, for each output coordinate.

    .. math:: \tau_i = \frac{\|(W_L \cdots W_1)_{i,:}\|_1}{(|W_L| \cdots |W_1|\,\mathbb 1)_i}

    the exact half-width of the image of a unit :math:`\ell_\infty` box over the IBP
    half-width (the tightness of Mao et al. 2024, for a deep linear network). It lies in
    :math:`[0, 1]` (0 where the product's row vanishes) and equals 1 for one layer. A network
    given as an ``nn.Sequential`` is measured: its weights are detached. For Gaussian weights and hidden widths
    :math:`n` it is about :math:`(\pi/(2n))^{(L-1)/2}` (see
    :func:`dlt.robustness.ibp_tightness_at_init`).

    Parameters
    ----------
    weights : sequence of Tensors of shape (..., n_l, n_{l-1}), or an nn.Sequential of nn.Linear
        The matrices :math:`W_1, \dots, W_L` in the order they are applied; leading batch
        dimensions (independent networks) broadcast.
    per_layer : bool
        Return the list of the tightness of every prefix :math:`W_l \cdots W_1`,
        :math:`l = 1, \dots, L` (one pass over the layers) instead of the last one.

    Returns
    -------
    Tensor of shape (..., n_L), or a list of L Tensors of shapes (..., n_l)

    References
    ----------
    Mao, Müller, Fischer and Vechev (2024), Understanding certified training with interval
    bound propagation.

    Examples
    --------
    >>> ibp_tightness([torch.tensor([[1.0, -1.0]])])  # one layer: IBP is exact
    tensor([1.])
    >>> ibp_tightness([torch.tensor([[1.0], [1.0]]), torch.tensor([[1.0, -1.0]])])
    tensor([0.])
    """
    if isinstance(weights, nn.Module):
        layers = _layers(weights, (nn.Linear,), "weights")
        weights = [torch.as_tensor(m.weight).detach() for m in layers]
    if isinstance(weights, torch.Tensor) or len(weights) == 0:
        raise TypeError("weights must be a non-empty sequence of weight matrices W_1, ..., W_L")
    ws = [
        as_tensor(w, f"weights[{i}]", ndim=range(2, 8), shape="(..., n_l, n_{l-1})")
        for i, w in enumerate(weights)
    ]
    for i in range(1, len(ws)):
        if ws[i].shape[-1] != ws[i - 1].shape[-2]:
            raise ValueError(
                f"weights[{i}] must have {ws[i - 1].shape[-2]} columns to follow weights[{i - 1}], "
                f"got shape {tuple(ws[i].shape)}"
            )
    prod, absprod = ws[0], ws[0].abs()
    out = [prod.abs().sum(-1) / absprod.sum(-1)]
    for w in ws[1:]:
        prod, absprod = w @ prod, w.abs() @ absprod
        out.append(prod.abs().sum(-1) / absprod.sum(-1))
    return out if per_layer else out[-1]
