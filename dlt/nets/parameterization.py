r"""Parameterizations as data: each is a table of per-layer scales, not a branch in the code.

A dense layer stores a parameter :math:`w` drawn as :math:`w_{ij} = s\,z_{ij}`,
:math:`z_{ij} \sim \mathcal{N}(0, 1)` (``init_std`` :math:`s`), uses the weight
:math:`W = m\,w` in the forward pass (``multiplier`` :math:`m`), and is trained with the
learning rate :math:`\eta\,r` (``lr_scale`` :math:`r`) for a base rate :math:`\eta`. Each
parameterization below gives :math:`(s, m, r)` for the input layer, the hidden layers and
the output (readout) layer, as monomials in :math:`\sigma` (``sigma_w`` for weights,
``sigma_b`` for biases), the layer's fan-in :math:`f` and fan-out :math:`g`:

================  ========  ========================  ======================  ============
parameterization  layer     init std :math:`s`        multiplier :math:`m`    lr scale r
================  ========  ========================  ======================  ============
``standard``      every     :math:`\sigma/\sqrt f`    1                       1
``ntk``           every     1                         :math:`\sigma/\sqrt f`  1
``mean_field``    input     :math:`\sigma/\sqrt f`    1                       :math:`g`
                  output    1                         :math:`\sigma/f`        :math:`f`
``mup``           input     :math:`\sigma/\sqrt f`    1                       :math:`g`
                  hidden    :math:`\sigma/\sqrt f`    1                       1
                  output    :math:`\sigma/f`          1                       :math:`1/f`
================  ========  ========================  ======================  ============

``standard`` is PyTorch's usual layer with LeCun/He-type initialization; ``ntk`` is the
parameterization of Jacot et al. (2018), whose tangent kernel has a deterministic limit;
``mean_field`` is the two-layer network :math:`f(x) = \frac{\sigma}{m}\sum_j a_j \phi(w_j^\top
x)` trained with a learning rate proportional to the width :math:`m` (Mei, Montanari and
Nguyen 2018; Chizat and Bach 2018), defined for one hidden layer; ``mup`` is the maximal
update parameterization of Yang and Hu (2021) in the form of Table 3 of Yang et al. (2022,
"Tensor Programs V") for SGD, which extends mean field to any depth. A stored parameter
moves by :math:`\Delta w = \eta r\,m\,\partial L/\partial W`, so the weight moves by
:math:`\Delta W = \eta\,r m^2\,\partial L / \partial W`: two parameterizations with the same
:math:`m s` and :math:`r m^2` at every layer compute the same function and train identically
(for ``sigma_w = 1`` this holds for ``mean_field`` and ``mup`` with one hidden layer).

Biases follow their layer: ``standard`` (:math:`s = \sigma_b`, :math:`m = 1`), ``ntk``
(:math:`s = 1`, :math:`m = \sigma_b`), and in ``mean_field`` and ``mup`` a bias is a weight
of fan-in 1 (:math:`s = \sigma_b`, :math:`m = 1`, :math:`r = g` except :math:`r = 1` at the output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..core.params import NonNegative, Positive, validate_params
from ..core.validate import check_choice, check_int, check_nonnegative, check_positive

__all__ = ["Monomial", "LayerRule", "LayerScales", "PARAMETERIZATIONS", "layer_scales"]


class Monomial(NamedTuple):
    r""":math:`\sigma^{a} f^{b} g^{c}` for scale :math:`\sigma`, fan-in :math:`f`, fan-out :math:`g`.

    Examples
    --------
    >>> Monomial(1.0, -0.5)(2.0, 100, 10)  # sigma / sqrt(fan_in)
    0.2
    """

    sigma: float = 0.0
    fan_in: float = 0.0
    fan_out: float = 0.0

    def __call__(self, sigma: float, fan_in: int, fan_out: int) -> float:
        return sigma**self.sigma * fan_in**self.fan_in * fan_out**self.fan_out


ONE = Monomial()
SIGMA = Monomial(1.0)
LECUN = Monomial(1.0, -0.5)  # sigma / sqrt(fan_in)
BY_FAN_IN = Monomial(1.0, -1.0)  # sigma / fan_in


class LayerRule(NamedTuple):
    """The monomials ``(init_std, multiplier, lr_scale)`` of a weight or a bias.

    Examples
    --------
    >>> PARAMETERIZATIONS["ntk"]["hidden"][0].multiplier(2.0, 100, 100)  # weights: sigma_w / sqrt(fan_in)
    0.2
    """

    init_std: Monomial
    multiplier: Monomial
    lr_scale: Monomial


@dataclass(frozen=True)
class LayerScales:
    """The numbers of one layer: init std, forward multiplier and lr scale of weight and bias.

    Examples
    --------
    >>> s = layer_scales("standard", [4, 16, 1], sigma_w=2.0)[0]
    >>> s.weight_std, s.weight_multiplier, s.weight_lr_scale
    (1.0, 1.0, 1.0)
    """

    weight_std: float
    weight_multiplier: float
    weight_lr_scale: float
    bias_std: float
    bias_multiplier: float
    bias_lr_scale: float


_STANDARD = LayerRule(LECUN, ONE, ONE), LayerRule(SIGMA, ONE, ONE)
_NTK = LayerRule(ONE, LECUN, ONE), LayerRule(ONE, SIGMA, ONE)
_WIDE_IN = (
    LayerRule(LECUN, ONE, Monomial(fan_out=1.0)),
    LayerRule(SIGMA, ONE, Monomial(fan_out=1.0)),
)

#: ``{name: {layer kind: (weight rule, bias rule)}}`` for layer kinds input, hidden, output.
PARAMETERIZATIONS: dict[str, dict[str, tuple[LayerRule, LayerRule]]] = {
    "standard": {"input": _STANDARD, "hidden": _STANDARD, "output": _STANDARD},
    "ntk": {"input": _NTK, "hidden": _NTK, "output": _NTK},
    "mean_field": {
        "input": _WIDE_IN,
        "output": (LayerRule(ONE, BY_FAN_IN, Monomial(fan_in=1.0)), LayerRule(SIGMA, ONE, ONE)),
    },
    "mup": {
        "input": _WIDE_IN,
        "hidden": (LayerRule(LECUN, ONE, ONE), LayerRule(SIGMA, ONE, Monomial(fan_out=1.0))),
        "output": (LayerRule(BY_FAN_IN, ONE, Monomial(fan_in=-1.0)), LayerRule(SIGMA, ONE, ONE)),
    },
}


@validate_params({"sigma_w": Positive(), "sigma_b": NonNegative()})
def layer_scales(
    parameterization: str, widths: list[int], sigma_w: float = 1.0, sigma_b: float = 0.0
) -> list[LayerScales]:
    """The per-layer scales of an MLP with layer widths ``widths = [d_in, n_1, ..., d_out]``.

    The first layer is ``input``, the last ``output``, the others ``hidden``; a network with
    no hidden layer (``len(widths) == 2``) is its output layer.

    Raises
    ------
    ValueError
        If the parameterization is unknown, a width is below 1, the scales are out of range,
        or ``mean_field`` is asked for more than one hidden layer.

    Examples
    --------
    >>> [round(s.weight_multiplier, 4) for s in layer_scales("ntk", [4, 100, 1])]
    [0.5, 0.1]
    >>> [s.weight_lr_scale for s in layer_scales("mup", [4, 100, 1])]
    [100.0, 0.01]
    """
    table = PARAMETERIZATIONS[
        check_choice(parameterization, "parameterization", tuple(PARAMETERIZATIONS))
    ]
    if isinstance(widths, int | str) or len(widths) < 2:
        raise ValueError(
            f"widths must be a sequence [d_in, ..., d_out] of length >= 2, got {widths!r}"
        )
    ws = [check_int(w, f"widths[{i}]", minimum=1) for i, w in enumerate(widths)]
    sigma_w = check_positive(sigma_w, "sigma_w")
    sigma_b = check_nonnegative(sigma_b, "sigma_b")
    n_layers = len(ws) - 1
    if "hidden" not in table and n_layers > 2:
        raise ValueError(
            f"parameterization {parameterization!r} is defined for one hidden layer, got "
            f"{n_layers - 1}; use 'mup', its extension to any depth"
        )
    out = []
    for i, (f, g) in enumerate(zip(ws[:-1], ws[1:], strict=True)):
        kind = "output" if i == n_layers - 1 else ("input" if i == 0 else "hidden")
        w_rule, b_rule = table[kind]
        out.append(
            LayerScales(
                weight_std=w_rule.init_std(sigma_w, f, g),
                weight_multiplier=w_rule.multiplier(sigma_w, f, g),
                weight_lr_scale=w_rule.lr_scale(sigma_w, f, g),
                bias_std=b_rule.init_std(sigma_b, f, g),
                bias_multiplier=b_rule.multiplier(sigma_b, f, g),
                bias_lr_scale=b_rule.lr_scale(sigma_b, f, g),
            )
        )
    return out
