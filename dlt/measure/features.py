r"""Feature learning, measured: how far a network's hidden representation and first layer move.

For a network with a layer view (:class:`dlt.nets.MLP`) with hidden representation
:math:`H = \phi(z^{\ell}(X)) \in \mathbb{R}^{n \times m}` at training inputs :math:`X`:

- *feature movement* :math:`\|H_t - H_0\|_F / \|H_0\|_F`, which vanishes like
  :math:`m^{-1/2}` in the NTK limit and stays of order one in the maximal-update limit
  (Yang and Hu 2021);
- *alignment* of the first layer with a planted direction :math:`\beta`, the mean over
  neurons of :math:`|\cos(w_j, \beta)|`;
- *coordinate sizes* :math:`\sqrt{\mathrm{mean}\,(z^\ell_t - z^\ell_0)^2}` of every layer's
  pre-activation, the "coordinate check" with which muP implementations are validated
  (Yang et al. 2022, Tensor Programs V, appendix D).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..core.params import Int, Matrix, Model, Tensor, Vector, validate_params
from ..core.validate import as_matrix, as_tensor, as_vector, check_int

__all__ = ["hidden_features", "feature_movement", "weight_alignment", "coordinate_sizes"]


def _layer_view(model: Any, name: str = "model") -> list[Any]:
    if not isinstance(model, nn.Module) or not hasattr(model, "layers"):
        raise TypeError(
            f"{name} must be a network with a layer view (dlt.nets.MLP), got {type(model).__name__}"
        )
    return list(model.layers)  # type: ignore[arg-type]


def _inputs(model: Any, x: object) -> torch.Tensor:
    x = as_matrix(x, "x")
    w = model.layers[0].weight
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x must have shape (n, {w.shape[1]}), got {tuple(x.shape)}")
    return x.to(dtype=w.dtype, device=w.device)


@torch.no_grad()
def _preactivations(model: Any, x: torch.Tensor) -> list[torch.Tensor]:
    out, h = [], x
    for layer in model.layers:
        z = layer.preactivation(h)
        out.append(z)
        h = layer.activation(z) if layer.activation is not None else z
    return out


@validate_params({"x": Matrix(), "model": Model(), "layer": Int()})
@torch.no_grad()
def hidden_features(model: nn.Module, x: torch.Tensor, layer: int = -1) -> torch.Tensor:
    r"""The hidden representation :math:`\phi(z^{\ell}(x))` of hidden layer ``layer``.

    Parameters
    ----------
    model : nn.Module
        A network with a layer view (:class:`dlt.nets.MLP`) and at least one hidden layer.
    x : Tensor of shape (n, d)
    layer : int
        Index among the hidden layers (``0`` the first, ``-1`` the last).

    Returns
    -------
    Tensor of shape ``(n, n_layer)``, in the model's dtype.

    Raises
    ------
    TypeError
        If ``model`` has no layer view.
    ValueError
        If ``x`` is not a finite ``(n, d)`` matrix, ``layer`` is out of range or ``model``
        has no hidden layer.

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> net = MLP([3, 16, 8, 1], seed=0)
    >>> hidden_features(net, torch.ones(4, 3)).shape, hidden_features(net, torch.ones(4, 3), 0).shape
    (torch.Size([4, 8]), torch.Size([4, 16]))
    """
    layers = _layer_view(model)
    n_hidden = len(layers) - 1
    layer = check_int(layer, "layer")
    if n_hidden < 1:
        raise ValueError("model must have at least one hidden layer, got none")
    if not -n_hidden <= layer < n_hidden:
        raise ValueError(f"layer must be in [-{n_hidden}, {n_hidden - 1}], got {layer}")
    x = _inputs(model, x)
    z = _preactivations(model, x)[layer % n_hidden]
    return layers[layer % n_hidden].activation(z)


@validate_params({"features": Tensor(2, "(n, m)"), "initial": Tensor(2, "(n, m)")})
def feature_movement(features: torch.Tensor, initial: torch.Tensor) -> float:
    r"""Relative change of a representation, :math:`\|H - H_0\|_F / \|H_0\|_F`.

    Parameters
    ----------
    features : Tensor of shape (n, m)
        The representation :math:`H` after training.
    initial : Tensor of shape (n, m)
        The representation :math:`H_0` at initialization (not all zero).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, an entry is not finite, or ``initial`` is zero.

    References
    ----------
    Yang and Hu (2021), Tensor Programs IV: feature learning in infinite-width neural
    networks, ICML; Chizat, Oyallon and Bach (2019), On lazy training, NeurIPS.

    Examples
    --------
    >>> feature_movement(torch.tensor([[3.0, 4.0]]), torch.tensor([[3.0, 0.0]]))
    1.333...
    """
    h = as_tensor(features, "features", ndim=2, shape="(n, m)")
    h0 = as_tensor(initial, "initial", ndim=2, shape="(n, m)")
    if h.shape != h0.shape:
        raise ValueError(
            f"features and initial must have the same shape, got {tuple(h.shape)} and {tuple(h0.shape)}"
        )
    h, h0 = h.double(), h0.double().to(h.device)
    norm0 = torch.linalg.norm(h0)
    if norm0 == 0:
        raise ValueError("initial must not be all zero")
    return float(torch.linalg.norm(h - h0) / norm0)


@validate_params({"weight": Tensor(2, "(m, d)"), "direction": Vector()})
def weight_alignment(weight: torch.Tensor, direction: torch.Tensor) -> float:
    r"""Mean absolute cosine between the rows of a weight matrix and a direction.

    .. math:: A(W, \beta) = \frac1m \sum_{j=1}^m \frac{|w_j^\top \beta|}{\|w_j\|\,\|\beta\|}

    For rows drawn at random the expectation is :func:`dlt.feature_learning.random_alignment`
    (about :math:`\sqrt{2/(\pi d)}`); a first layer that has learned the direction of a
    single-index target has :math:`A` of order one.

    Parameters
    ----------
    weight : Tensor of shape (m, d)
        One row per neuron (rows of zero norm are not allowed).
    direction : Tensor of shape (d,)
        The direction :math:`\beta \neq 0`.

    Returns
    -------
    float in ``[0, 1]``

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, or a norm is zero.

    Examples
    --------
    >>> weight_alignment(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([2.0, 0.0]))
    0.853...
    """
    w = as_tensor(weight, "weight", ndim=2, shape="(m, d)").double()
    b = as_vector(direction, "direction", w.shape[1]).double().to(w.device)
    norms = w.norm(dim=1)
    if bool((norms == 0).any()) or b.norm() == 0:
        raise ValueError("weight rows and direction must have nonzero norm")
    return float(((w @ b).abs() / (norms * b.norm())).mean())


@validate_params({"x": Matrix(), "model": Model()})
def coordinate_sizes(
    model: nn.Module, x: torch.Tensor, initial: nn.Module | None = None
) -> torch.Tensor:
    r"""Root-mean-square coordinate of every layer's pre-activation (or of its change).

    .. math:: c_\ell = \Big(\frac{1}{n\, n_\ell}\sum_{i, k} \big(z^\ell_k(x_i) -
              z^\ell_{0,k}(x_i)\big)^2\Big)^{1/2},\qquad \ell = 1, \dots, L + 1,

    with :math:`z_0 = 0` when ``initial`` is ``None``. Plotted against width after a few
    training steps this is the *coordinate check* of muP: in the maximal-update
    parameterization every :math:`c_\ell` is :math:`\Theta(1)` in the width; a layer whose
    :math:`c_\ell` grows with width has a wrong scaling rule, one whose :math:`c_\ell`
    vanishes is frozen (lazy).

    Parameters
    ----------
    model : nn.Module
        A network with a layer view (:class:`dlt.nets.MLP`).
    x : Tensor of shape (n, d)
    initial : nn.Module, optional
        The same network at initialization (e.g. a ``copy.deepcopy`` taken before
        training); then the sizes are those of the changes :math:`z_t - z_0`.

    Returns
    -------
    Tensor of shape ``(L + 1,)`` in float64: hidden layers first, the output last.

    Raises
    ------
    TypeError
        If a model has no layer view.
    ValueError
        If ``x`` is not a finite ``(n, d)`` matrix or the two models differ in a layer's
        shape (input width included).

    References
    ----------
    Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder, Pachocki, Chen and Gao (2022), Tensor
    Programs V: tuning large neural networks via zero-shot hyperparameter transfer.

    Examples
    --------
    >>> from dlt.nets import MLP
    >>> net = MLP([3, 64, 64, 1], parameterization="mup", seed=0)
    >>> coordinate_sizes(net, torch.randn(8, 3)).shape
    torch.Size([3])
    """
    layers = _layer_view(model)
    x = _inputs(model, x)
    z = _preactivations(model, x)
    if initial is not None:
        view = _layer_view(initial, "initial")
        if [la.weight.shape for la in view] != [la.weight.shape for la in layers]:
            raise ValueError("initial must have the same architecture as model")
        z0 = _preactivations(initial, x.to(view[0].weight.dtype))
        z = [a - b.to(a) for a, b in zip(z, z0, strict=True)]
    return torch.stack([t.double().pow(2).mean().sqrt() for t in z])
