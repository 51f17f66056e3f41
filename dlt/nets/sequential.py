r"""A plain ReLU network as an ``nn.Sequential`` with a stated Gaussian initialization.

The layers are ``nn.Linear`` and ``nn.ReLU`` only, so the interval bounds of
:func:`dlt.robustness.ibp_bounds` apply to it, and the weights are drawn as in the closed form
:func:`dlt.robustness.input_gradient_norm`: :math:`\mathcal N(0, \sigma_w^2/n_{\text{in}})` for
the hidden layers and :math:`\mathcal N(0, \sigma_v^2/n_{\text{in}})` for the readout. He
initialization is :math:`\sigma_w^2 = 2`, LeCun :math:`\sigma_w^2 = 1` (``INITS``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..core.validate import check_int, check_nonnegative, check_positive, generator

__all__ = ["INITS", "relu_network"]

#: The weight scale :math:`\sigma_w` of the named initializations of a ReLU network.
INITS: dict[str, float] = {"he": math.sqrt(2.0), "lecun": 1.0}


def relu_network(
    widths: Sequence[int],
    sigma_w: float | str = "he",
    sigma_v: float = 1.0,
    *,
    sigma_b: float = 0.0,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    r"""``nn.Sequential(Linear, ReLU, ..., Linear)`` with Gaussian weights of stated variance.

    .. math:: W_l \sim \mathcal N(0, \sigma_w^2 / n_{l-1}),\ l \le L; \qquad
        W_{L+1} \sim \mathcal N(0, \sigma_v^2 / n_L); \qquad b_l \sim \mathcal N(0, \sigma_b^2)

    Parameters
    ----------
    widths : sequence of int
        ``[d_in, n_1, ..., n_L, d_out]`` with ``L >= 1`` hidden layers.
    sigma_w : float or {"he", "lecun"}
        Weight scale of the hidden layers (``"he"``: :math:`\sqrt 2`, ``"lecun"``: 1).
    sigma_v : float
        Weight scale of the readout.
    sigma_b : float
        Bias scale (0: biases start at zero; they are trainable either way).
    seed : int or torch.Generator
    dtype, device : optional

    Returns
    -------
    nn.Sequential

    References
    ----------
    He, Zhang, Ren and Sun (2015), Delving deep into rectifiers; LeCun, Bottou, Orr and
    Müller (1998), Efficient backprop.

    Examples
    --------
    >>> net = relu_network([64, 128, 128, 10], "lecun", seed=0)
    >>> [type(m).__name__ for m in net]
    ['Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']
    """
    if isinstance(widths, int | str) or len(widths) < 3:
        raise ValueError(f"widths must be [d_in, n_1, ..., n_L, d_out] with L >= 1, got {widths!r}")
    ws = [check_int(w, f"widths[{i}]", minimum=1) for i, w in enumerate(widths)]
    if isinstance(sigma_w, str):
        if sigma_w not in INITS:
            raise ValueError(f"sigma_w must be a number or one of {sorted(INITS)}, got {sigma_w!r}")
        sigma_w = INITS[sigma_w]
    sw = check_positive(sigma_w, "sigma_w")
    sv = check_positive(sigma_v, "sigma_v")
    sb = check_nonnegative(sigma_b, "sigma_b")
    dtype = dtype or torch.get_default_dtype()
    g = generator(seed)
    layers: list[nn.Module] = []
    for i, (f, o) in enumerate(zip(ws[:-1], ws[1:], strict=True)):
        lin = nn.Linear(f, o, dtype=dtype, device=device)
        s = (sv if i == len(ws) - 2 else sw) / math.sqrt(f)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(o, f, generator=g, dtype=torch.float64) * s)
            lin.bias.copy_(torch.randn(o, generator=g, dtype=torch.float64) * sb)
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers[:-1])
