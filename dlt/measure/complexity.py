r"""Complexity measures of a trained classifier, and their rank correlation with its gap.

The measures compared by Jiang et al. (2020), "Fantastic generalization measures and where
to find them", in the forms this book uses:

- :func:`distance_from_init`, :math:`\|w - w_0\|_2` over all parameters;
- :func:`spectral_norm_product`, :math:`\prod_l \|W_l\|_2` of the effective weights;
- :func:`path_norm`, the :math:`\ell_2` path norm :math:`\sqrt{\sum_i f_{w^2}(\mathbf 1)_i}`;
- :func:`dlt.measure.perturbation.sharpness`, Jiang et al.'s PAC-Bayes *flatness*
  :math:`1/\sigma'^2`, and :func:`dlt.measure.perturbation.posterior_errors`, the Monte Carlo
  error of Gaussian weight perturbations (the empirical term of the PAC-Bayes bound);

and :func:`dlt.measure.ranking.kendall_tau`, the rank correlation of a measure with the
generalization gap over a family of runs, with its uncertainty at that number of runs.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.params import Matrix, Model, validate_params
from ..core.validate import as_matrix, as_vector

__all__ = ["zero_one_error", "distance_from_init", "spectral_norm_product", "path_norm"]


def _module(model: object, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _data(model: nn.Module, X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    p = next(model.parameters())
    Xt = as_matrix(X, "X").to(p)
    yt = torch.as_tensor(y)
    if yt.is_floating_point():
        as_vector(yt, "y", Xt.shape[0])
    if yt.ndim != 1 or yt.shape[0] != Xt.shape[0]:
        raise ValueError(f"y must have shape ({Xt.shape[0]},) to match X, got {tuple(yt.shape)}")
    return Xt, yt.to(p.device)


def _errors(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """0-1 errors of outputs ``(..., n, k)`` against labels ``(n,)``: argmax, or sign for k = 1."""
    if out.shape[-1] == 1:
        pred = (out[..., 0] > 0).long()
    else:
        pred = out.argmax(-1)
    return (pred != y.long()).to(out.dtype).mean(-1)


@validate_params({"X": Matrix(), "model": Model()})
def zero_one_error(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    r"""The fraction of misclassified samples, :math:`\frac1n\sum_i \mathbf 1[\hat y(x_i) \ne y_i]`.

    The prediction is the argmax of the outputs, or :math:`\mathbf 1[f(x) > 0]` for one output.

    Parameters
    ----------
    model : nn.Module
        Maps ``(n, d)`` inputs to ``(n, k)`` outputs.
    X : Tensor of shape (n, d)
    y : Tensor of shape (n,)
        Integer labels in ``{0, ..., k-1}`` (``{0, 1}`` for one output).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes disagree or ``X`` is not finite.

    Examples
    --------
    >>> net = nn.Linear(2, 2)
    >>> X = torch.eye(2)
    >>> zero_one_error(net, X, net(X).argmax(1))
    0.0
    """
    model = _module(model)
    Xt, yt = _data(model, X, y)
    with torch.no_grad():
        return float(_errors(model(Xt), yt))


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@validate_params({"model": Model(), "initial": Model()})
def distance_from_init(model: nn.Module, initial: nn.Module) -> float:
    r"""The Euclidean distance of all parameters from their initial values, :math:`\|w - w_0\|_2`.

    Jiang et al. (2020) call its square ``dist.init``; it is the mean term of the KL of a
    PAC-Bayes prior centred at the initialization.

    Parameters
    ----------
    model, initial : nn.Module
        The trained network and a copy of it at initialization (same parameter shapes).

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If an argument is not a module.
    ValueError
        If the parameter shapes differ.

    References
    ----------
    Nagarajan & Kolter (2019), Generalization in deep networks: the role of distance from
    initialization; Jiang et al. (2020), ICLR.

    Examples
    --------
    >>> a, b = nn.Linear(3, 1), nn.Linear(3, 1)
    >>> with torch.no_grad():
    ...     _ = a.weight.fill_(1.0), a.bias.fill_(0.0), b.weight.fill_(0.0), b.bias.fill_(0.0)
    >>> round(distance_from_init(a, b), 6)  # sqrt(3)
    1.732051
    """
    model, initial = _module(model), _module(initial, "initial")
    shapes = [p.shape for p in model.parameters()]
    if shapes != [p.shape for p in initial.parameters()]:
        raise ValueError("initial must have the parameter shapes of model")
    return float((_flat(model) - _flat(initial).to(_flat(model))).norm())


def _effective_layers(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """(weight, bias) of each dense layer with its multipliers applied (MLP or nn.Linear stack)."""
    layers = getattr(model, "layers", None)
    if layers is not None and all(hasattr(la, "weight_multiplier") for la in layers):
        return [
            (
                la.weight.detach() * la.weight_multiplier,
                None if la.bias is None else la.bias.detach() * la.bias_multiplier,
            )
            for la in layers
        ]
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError("model must be a dlt MLP or contain nn.Linear layers")
    return [(m.weight.detach(), None if m.bias is None else m.bias.detach()) for m in linear]


@validate_params({"model": Model()})
def spectral_norm_product(model: nn.Module) -> float:
    r"""The product of the spectral norms of the layers' effective weights, :math:`\prod_l \|W_l\|_2`.

    For a :class:`dlt.nets.MLP` the effective weight includes the layer's multiplier; for
    another module the ``nn.Linear`` layers are taken in order. Biases are ignored. It is the
    Lipschitz constant bound behind the spectrally normalized margin bounds (Bartlett et al.
    2017; Neyshabur et al. 2018); Jiang et al. (2020) call its log-square ``log.prod.of.spec``.

    Parameters
    ----------
    model : nn.Module

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the model has no dense layer.

    References
    ----------
    Bartlett, Foster & Telgarsky (2017), Spectrally-normalized margin bounds for neural
    networks, NeurIPS.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.diag(torch.tensor([3.0, 1.0]))), net[2].weight.fill_(1.0)
    >>> round(spectral_norm_product(net), 6)  # 3 * sqrt(2)
    4.242641
    """
    model = _module(model)
    out = 1.0
    for w, _ in _effective_layers(model):
        out *= float(torch.linalg.matrix_norm(w.double(), ord=2))
    return out


@validate_params({"model": Model()})
def path_norm(model: nn.Module) -> float:
    r"""The :math:`\ell_2` path norm: the root of the sum over input-output paths of squared weight products.

    Computed as Jiang et al. (2020) do: square every (effective) parameter, run the network
    with the identity in place of the ReLU on the all-ones input, and sum the outputs,

    .. math:: \|w\|_{\mathrm{path}} = \Big(\sum_i f_{w^2}(\mathbf 1)_i\Big)^{1/2},\qquad
              h_0 = \mathbf 1,\; h_l = W_l^{\circ 2} h_{l-1} + b_l^{\circ 2}.

    For a bias-free network this is
    :math:`\big(\sum_{\text{paths}}\prod_l w_{l,\text{path}}^2\big)^{1/2}`. It is invariant
    under the rescalings of ReLU networks that leave the function unchanged (a hidden unit's
    incoming weights times :math:`c`, outgoing divided by :math:`c`).

    Parameters
    ----------
    model : nn.Module
        A :class:`dlt.nets.MLP` or a stack of ``nn.Linear`` layers with ReLU activations.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the model has no dense layer.

    References
    ----------
    Neyshabur, Tomioka & Srebro (2015), Norm-based capacity control in neural networks,
    COLT; Jiang et al. (2020), ICLR.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0, 2.0], [0.0, 3.0]])), net[2].weight.fill_(2.0)
    >>> path_norm(net)  # sqrt(4 * (1 + 4 + 0 + 9))
    7.483314773547883
    """
    model = _module(model)
    layers = _effective_layers(model)
    h = torch.ones(layers[0][0].shape[1], dtype=torch.float64, device=layers[0][0].device)
    for w, b in layers:
        h = w.double() ** 2 @ h
        if b is not None:
            h = h + b.double() ** 2
    return float(h.sum().sqrt())
