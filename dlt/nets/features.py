r"""Random features: a two-layer network whose first layer is drawn once and frozen."""

from __future__ import annotations

import math

import torch

from ..core.activations import get_activation
from ..core.params import Int, Tensor, validate_params
from ..core.validate import as_tensor, check_int, generator

__all__ = ["random_features"]


@validate_params({"X": Tensor((2, 3), "(n, d) or (trials, n, d)"), "n_features": Int(1)})
def random_features(
    X: torch.Tensor,
    n_features: int,
    activation: str = "relu",
    seed: int | torch.Generator | None = 0,
) -> torch.Tensor:
    r"""Random features :math:`\phi(x) = \sigma(W x / \sqrt{d})` with :math:`W_{jk} \sim \mathcal N(0, 1)`.

    .. math:: \Phi = \sigma\big(X W^\top / \sqrt{d}\big) \in \mathbb{R}^{n \times N}

    Random-features regression fits the second layer only, by :func:`dlt.interpolation.min_norm_interpolator`
    or :func:`dlt.interpolation.ridge` on :math:`\Phi` (Rahimi and Recht 2007; its double descent at
    :math:`N = n` is computed exactly by Mei and Montanari 2022).

    The weights are drawn from ``seed`` alone, with shape ``(N, d)`` for ``X`` of shape
    ``(n, d)`` and ``(T, N, d)`` for a batch ``(T, n, d)``: calling again with the same
    seed and shapes (say on test inputs) gives the same feature map.

    Parameters
    ----------
    X : Tensor of shape (n, d) or (T, n, d)
    n_features : int
        Number of features ``N >= 1``.
    activation : {"relu", "tanh", "erf", "identity"}
    seed : int or torch.Generator

    Returns
    -------
    Tensor of shape (n, N) or (T, n, N).

    References
    ----------
    S. Mei, A. Montanari, "The generalization error of random features regression: precise
    asymptotics and the double descent curve", Comm. Pure Appl. Math. 75(4), 2022.

    Examples
    --------
    >>> X = torch.randn(4, 3)
    >>> torch.equal(random_features(X, 10, seed=1), random_features(X, 10, seed=1))
    True
    """
    X = as_tensor(X, "X", ndim=(2, 3), shape="(n, d) or (trials, n, d)")
    n_features = check_int(n_features, "n_features", minimum=1)
    phi = get_activation(activation)
    d = X.shape[-1]
    g = generator(seed)
    W = torch.randn(*X.shape[:-2], n_features, d, generator=g, dtype=torch.float64)
    W = W.to(dtype=X.dtype, device=X.device)
    return phi(X @ W.transpose(-1, -2) / math.sqrt(d))
