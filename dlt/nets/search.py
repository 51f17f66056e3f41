r"""A small architecture search space: activation of each layer, skip connections, depth.

:class:`SearchNet` is a fully connected network whose hidden layers each pick an activation
of the registry and may add a skip (residual) connection, the search space of Zhu et al.
(2022) in miniature; :func:`search_space` lists its architectures as
:class:`Architecture` records.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from ..core.activations import ACTIVATIONS, get_activation
from ..core.params import Int, Positive, validate_params
from ..core.validate import check_int, generator

__all__ = ["Architecture", "SearchNet", "search_space"]


class Architecture(NamedTuple):
    """One point of the search space: the activation of each hidden layer and the skips.

    Examples
    --------
    >>> Architecture(("relu", "tanh"), True).name
    'relu-tanh, skip'
    """

    activations: tuple[str, ...]
    skip: bool

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.activations)

    @property
    def name(self) -> str:
        """A short label: the activations joined by hyphens, ``", skip"`` with skips."""
        return "-".join(self.activations) + (", skip" if self.skip else "")


def search_space(
    activations: Sequence[str | Sequence[str]] = ("relu", "tanh", "erf", ("relu", "tanh")),
    depths: Sequence[int] = (2, 4),
    skips: Sequence[bool] = (False, True),
) -> list[Architecture]:
    """Every combination of an activation pattern, a depth and a skip choice.

    An activation pattern is one name (every layer uses it) or a sequence of names repeated
    cyclically over the layers (``("relu", "tanh")`` alternates them: a mixed network).

    Returns
    -------
    list of Architecture
        ``len(activations) * len(depths) * len(skips)`` architectures, in that nested order.

    Raises
    ------
    ValueError
        If a name is not in the activation registry or a depth is below 1.

    Examples
    --------
    >>> [a.name for a in search_space(("relu", ("relu", "erf")), depths=(3,), skips=(False,))]
    ['relu-relu-relu', 'relu-erf-relu']
    """
    out = []
    for pattern, depth, skip in itertools.product(activations, depths, skips):
        names = (pattern,) if isinstance(pattern, str) else tuple(pattern)
        if not names:
            raise ValueError("activations must not contain an empty pattern")
        for name in names:
            get_activation(name)
        depth = check_int(depth, "depths", minimum=1)
        acts = tuple(names[i % len(names)] for i in range(depth))
        out.append(Architecture(acts, bool(skip)))
    return out


class SearchNet(nn.Module):
    r"""A fully connected network with a chosen activation per layer and optional skips.

    .. math:: h_1 = \phi_1(W_1 x + b_1), \qquad
              h_\ell = \phi_\ell(W_\ell h_{\ell-1} + b_\ell) + s\,h_{\ell-1}\ (\ell = 2..L),
              \qquad f(x) = W_{L+1} h_L + b_{L+1},

    with :math:`s = 1` when ``skip`` (a residual connection around every hidden layer but
    the first, which changes the dimension) and :math:`s = 0` otherwise. Initialization:
    hidden weights :math:`\mathcal N(0, \sigma_w^2/\text{fan-in})` (He for
    :math:`\sigma_w = \sqrt 2`), readout :math:`\mathcal N(0, 1/\text{width})`, biases 0.
    All layers are ``nn.Linear``, so :func:`dlt.ntk.empirical_ntk` takes its fast path.

    Parameters
    ----------
    in_features, width, out_features : int
        Input dimension, hidden width, number of outputs (each ``>= 1``).
    activations : sequence of str
        The activation of each hidden layer (names of the registry); its length is the depth.
    skip : bool
        Residual connections around hidden layers 2 to L.
    sigma_w : float
        Hidden weight scale (> 0).
    seed : int or torch.Generator, optional
    dtype : torch.dtype, optional

    References
    ----------
    Zhu, Liu, Chrysos and Cevher (2022), Generalization properties of NAS under activation
    and skip connection search, NeurIPS (the search space of activations and skips); He,
    Zhang, Ren and Sun (2016), Deep residual learning (the skip connection).

    Examples
    --------
    >>> net = SearchNet(8, 16, 3, ("relu", "tanh", "relu"), skip=True, seed=0)
    >>> net(torch.randn(5, 8)).shape, net.architecture.name
    (torch.Size([5, 3]), 'relu-tanh-relu, skip')
    """

    @validate_params(
        {"in_features": Int(1), "width": Int(1), "out_features": Int(1), "sigma_w": Positive()}
    )
    def __init__(
        self,
        in_features: int,
        width: int,
        out_features: int,
        activations: Sequence[str],
        skip: bool = False,
        *,
        sigma_w: float = math.sqrt(2),
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(activations, str) or len(activations) == 0:
            raise ValueError(
                f"activations must be a non-empty sequence of names of {sorted(ACTIVATIONS)}, "
                f"got {activations!r}"
            )
        self.phis = [get_activation(a) for a in activations]
        self.architecture = Architecture(tuple(p.name for p in self.phis), bool(skip))
        self.in_features = check_int(in_features, "in_features", minimum=1)
        width = check_int(width, "width", minimum=1)
        out_features = check_int(out_features, "out_features", minimum=1)
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)
        fans = [self.in_features] + [width] * len(self.phis)
        self.hidden = nn.ModuleList(nn.Linear(fan, width, dtype=dtype) for fan in fans[:-1])
        self.out = nn.Linear(width, out_features, dtype=dtype)
        with torch.no_grad():
            for lin, fan in zip([*self.hidden, self.out], fans, strict=True):
                std = (sigma_w if lin is not self.out else 1.0) / math.sqrt(fan)
                w = torch.randn(lin.weight.shape, generator=g, dtype=torch.float64) * std
                lin.weight.copy_(w.to(dtype))
                lin.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape ``(n, out_features)`` for inputs ``(n, in_features)``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.in_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, {self.in_features}), got {shape}")
        h = self.phis[0](self.hidden[0](x))
        for phi, lin in zip(self.phis[1:], self.hidden[1:], strict=True):
            z = phi(lin(h))
            h = z + h if self.architecture.skip else z
        return self.out(h)

    def extra_repr(self) -> str:
        return f"architecture={self.architecture.name!r}"
