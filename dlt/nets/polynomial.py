r"""Polynomial networks (Π-nets, Chrysos et al. 2020): polynomials of the input without activations.

A Π-net of degree :math:`N` multiplies linear maps of the input elementwise (Hadamard
products :math:`\odot`), so each output is a polynomial of degree at most :math:`N` in the
input :math:`z \in \mathbb R^d`, whose coefficient tensors are coupled CP decompositions of
the network's weights. The two models of the paper:

- **CCP** (coupled CP): :math:`x_1 = U_1 z`, :math:`x_n = (U_n z) \odot x_{n-1} + x_{n-1}`
  for :math:`n = 2, \dots, N`, :math:`f(z) = C x_N + \beta`;
- **NCP** (nested coupled CP): :math:`x_1 = A_1 z`, :math:`x_n = (A_n z) \odot (S_n x_{n-1}
  + b_n)`, :math:`f(z) = C x_N + \beta`.

With ``bias=True`` (the default) each linear map of the input is affine, :math:`U_n z +
b_n`, as the paper's implementation allows; ``bias=False`` keeps the equations above.

``norm="batch"`` or ``norm="layer"`` normalizes each block, as the regularized polynomial
networks (R-PolyNets) of Chrysos, Wang, Deng and Cevher (2023) do: their code normalizes the
linear map of each block (instance-batch normalization) and the Hadamard product (batch
normalization) before the skip connection adds it. Here :math:`\mathcal N_n` is a
``BatchNorm1d`` of the :math:`k` hidden features (batch statistics in training mode, running
statistics in evaluation mode) or a ``LayerNorm`` (each sample's :math:`k` features to mean 0
and variance 1: on a vector, which has no spatial positions, the per-sample counterpart of
their instance normalization). In evaluation mode a batch normalization is an affine map, so
the network stays a polynomial of degree at most :math:`N`; a layer normalization divides by
a per-sample standard deviation, and the network is no longer a polynomial.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..core.params import Choice, Int, validate_params
from ..core.validate import as_tensor, check_int, generator

__all__ = ["CCP", "NCP"]

#: The normalizations of a block: none (the Π-nets of 2020), batch or layer normalization.
NORMS = ("none", "batch", "layer")

_DECLARED = {
    "in_features": Int(1),
    "width": Int(1),
    "degree": Int(1),
    "out_features": Int(1),
    "norm": Choice(NORMS),
}


def _gauss(g: torch.Generator, dtype: torch.dtype, *shape: int, std: float) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype) * std)


def _norms(norm: str, count: int, width: int, dtype: torch.dtype) -> nn.ModuleList | None:
    if norm == "none":
        return None
    make = nn.BatchNorm1d if norm == "batch" else nn.LayerNorm
    return nn.ModuleList(make(width, dtype=dtype) for _ in range(count))


class _PolyNet(nn.Module):
    in_features: int
    degree: int
    norms: nn.ModuleList | None

    def _norm(self, n: int, x: torch.Tensor) -> torch.Tensor:
        return x if self.norms is None else self.norms[n](x)

    def _check_z(self, z: object) -> torch.Tensor:
        z = as_tensor(z, "z", ndim=2, shape=f"(n, {self.in_features})")
        if z.shape[1] != self.in_features:
            raise ValueError(f"z must have shape (n, {self.in_features}), got {tuple(z.shape)}")
        return z


class CCP(_PolyNet):
    r"""The CCP polynomial network of degree ``degree`` (Chrysos et al. 2020, the coupled CP model).

    .. math:: x_1 = U_1 z, \quad x_n = (U_n z) \odot x_{n-1} + x_{n-1}\ (n = 2..N), \quad
        f(z) = C x_N + \beta

    Each output is a polynomial of degree at most :math:`N` in :math:`z`: its
    :math:`(N+1)`-th finite differences along any line vanish. With a normalization
    :math:`\mathcal N_n` (``norm``), :math:`x_1 = \mathcal N_1(U_1 z)` and :math:`x_n =
    x_{n-1} + \mathcal N_n((U_n z) \odot x_{n-1})`: the product is normalized before the skip
    connection adds it, as in the R-PolyNet block of Chrysos et al. (2023).

    Parameters
    ----------
    in_features : int
        Input dimension :math:`d`.
    width : int
        Width :math:`k` of the hidden vectors :math:`x_n` (the rank of the decomposition).
    degree : int
        :math:`N \ge 1`.
    out_features : int
        Number of outputs.
    bias : bool
        Affine maps :math:`U_n z + b_n` of the input (:math:`b_n = 0` at initialization).
    norm : {"none", "batch", "layer"}
        The normalization :math:`\mathcal N_n` of each block (see the module's text):
        ``"batch"`` keeps the network a polynomial of degree at most :math:`N` in evaluation
        mode, ``"layer"`` does not.
    seed : int or torch.Generator, optional
    dtype : torch.dtype, optional

    Notes
    -----
    Initialization: :math:`U_n` entries :math:`\mathcal N(0, 1/d)`, :math:`C` entries
    :math:`\mathcal N(0, 1/k)`, :math:`b_n = 0`, :math:`\beta = 0`; normalizations with unit
    scale and zero shift.

    References
    ----------
    Chrysos, Moschoglou, Bouritsas, Panagakis, Deng and Zafeiriou (2020), Π-nets: deep
    polynomial neural networks. Chrysos, Wang, Deng and Cevher (2023), Regularization of
    polynomial networks for image recognition (the normalized blocks).

    Examples
    --------
    >>> net = CCP(3, width=16, degree=4, out_features=1, seed=0)
    >>> net(torch.randn(5, 3)).shape, sum(p.numel() for p in net.parameters())
    (torch.Size([5, 1]), 273)
    >>> sum(p.numel() for p in CCP(3, 16, 4, norm="batch").parameters())  # + 2 k per block
    401
    """

    @validate_params(_DECLARED)
    def __init__(
        self,
        in_features: int,
        width: int,
        degree: int,
        out_features: int = 1,
        *,
        bias: bool = True,
        norm: str = "none",
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.width = check_int(width, "width", minimum=1)
        self.degree = check_int(degree, "degree", minimum=1)
        out_features = check_int(out_features, "out_features", minimum=1)
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)
        self.U_bias = (
            nn.Parameter(torch.zeros(self.degree, self.width, dtype=dtype)) if bias else None
        )
        self.U = _gauss(
            g, dtype, self.degree, self.width, self.in_features, std=1 / math.sqrt(self.in_features)
        )
        self.C = _gauss(g, dtype, out_features, self.width, std=1 / math.sqrt(self.width))
        self.beta = nn.Parameter(torch.zeros(out_features, dtype=dtype))
        self.norm = norm
        self.norms = _norms(norm, self.degree, self.width, dtype)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self._check_z(z)
        proj = torch.einsum("nkd,bd->nbk", self.U, z)  # all N linear maps of z at once
        if self.U_bias is not None:
            proj = proj + self.U_bias.unsqueeze(1)
        x = self._norm(0, proj[0])
        for n in range(1, self.degree):
            x = x + self._norm(n, proj[n] * x)
        return x @ self.C.T + self.beta


class NCP(_PolyNet):
    r"""The NCP polynomial network of degree ``degree`` (Chrysos et al. 2020, the nested coupled CP model).

    .. math:: x_1 = A_1 z, \quad x_n = (A_n z) \odot (S_n x_{n-1} + b_n)\ (n = 2..N), \quad
        f(z) = C x_N + \beta

    With a normalization :math:`\mathcal N_n` (``norm``), :math:`x_1 = \mathcal N_1(A_1 z)`
    and :math:`x_n = \mathcal N_n((A_n z) \odot (S_n x_{n-1} + b_n))`.

    Parameters
    ----------
    in_features, width, degree, out_features, bias, norm, seed, dtype
        As in :class:`CCP` (``bias``: affine maps :math:`A_n z + a_n`).

    Notes
    -----
    Initialization: :math:`A_n` entries :math:`\mathcal N(0, 1/d)`, :math:`S_n` entries
    :math:`\mathcal N(0, 1/k)`, :math:`b_n = 1`, :math:`C` entries :math:`\mathcal N(0,
    1/k)`, :math:`\beta = 0`.

    References
    ----------
    Chrysos et al. (2020), Π-nets: deep polynomial neural networks.

    Examples
    --------
    >>> net = NCP(3, width=8, degree=3, out_features=2, seed=0)
    >>> net(torch.randn(5, 3)).shape
    torch.Size([5, 2])
    """

    @validate_params(_DECLARED)
    def __init__(
        self,
        in_features: int,
        width: int,
        degree: int,
        out_features: int = 1,
        *,
        bias: bool = True,
        norm: str = "none",
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.width = check_int(width, "width", minimum=1)
        self.degree = check_int(degree, "degree", minimum=1)
        out_features = check_int(out_features, "out_features", minimum=1)
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)
        k, d, n = self.width, self.in_features, self.degree
        self.A_bias = nn.Parameter(torch.zeros(n, k, dtype=dtype)) if bias else None
        self.A = _gauss(g, dtype, n, k, d, std=1 / math.sqrt(d))
        self.S = _gauss(g, dtype, n - 1, k, k, std=1 / math.sqrt(k))
        self.b = nn.Parameter(torch.ones(n - 1, k, dtype=dtype))
        self.C = _gauss(g, dtype, out_features, k, std=1 / math.sqrt(k))
        self.beta = nn.Parameter(torch.zeros(out_features, dtype=dtype))
        self.norm = norm
        self.norms = _norms(norm, n, k, dtype)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self._check_z(z)
        proj = torch.einsum("nkd,bd->nbk", self.A, z)
        if self.A_bias is not None:
            proj = proj + self.A_bias.unsqueeze(1)
        x = self._norm(0, proj[0])
        for n in range(1, self.degree):
            x = self._norm(n, proj[n] * (x @ self.S[n - 1].T + self.b[n - 1]))
        return x @ self.C.T + self.beta
