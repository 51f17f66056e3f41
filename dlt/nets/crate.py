r"""CRATE, the coding-rate reduction transformer (Yu et al. 2023): each layer is one step of
alternating minimization of the sparse rate reduction, a compression step written as
multi-head subspace self-attention (MSSA) and one ISTA step toward sparse codes.

Rows are tokens. With :math:`A_k = Z U_k` the projections of the tokens on the :math:`k`-th
subspace (:math:`U_k \in \mathbb R^{p\times d}`), a layer computes

.. math:: Z^{\ell+1/2} = Z^\ell + \kappa \sum_k \operatorname{softmax}\big(A_k A_k^\top /
    \sqrt d\big) A_k U_k^\top, \qquad
    Z^{\ell+1} = \operatorname{ReLU}\big(Z^{\ell+1/2} + \eta (Z^{\ell+1/2} - Z^{\ell+1/2}
    D^\top) D - \eta\lambda\big),

each block after a layer normalization, as in the paper's implementation. The MSSA output
uses the same :math:`U_k` as its input (the form the derivation gives; the paper's code learns
a separate output map), and the classifier reads the mean of the last layer's tokens.
"""

from __future__ import annotations

import math
from typing import NamedTuple, cast

import torch
from torch import nn

from ..core.params import Int, NonNegative, Positive, validate_params
from ..core.validate import as_tensor, generator

__all__ = ["MSSA", "ISTA", "CRATE", "CrateTrace"]


def _param(g: torch.Generator, dtype: torch.dtype | None, *shape: int, std: float) -> nn.Parameter:
    t = torch.randn(*shape, generator=g, dtype=torch.float64) * std
    return nn.Parameter(t.to(dtype or torch.get_default_dtype()))


class MSSA(nn.Module):
    r"""Multi-head subspace self-attention with a residual connection (Yu et al. 2023, eq. 11).

    .. math:: Z \mapsto Z + \kappa \sum_{k=1}^{K} \operatorname{softmax}\big(A_k A_k^\top
        /\sqrt d\big) A_k U_k^\top, \qquad A_k = Z U_k

    Parameters
    ----------
    dim : int
        Token dimension :math:`p`.
    heads : int
        Number of subspaces :math:`K`.
    head_dim : int
        Subspace dimension :math:`d`.
    step : float
        :math:`\kappa > 0`.
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    Notes
    -----
    ``U`` (shape ``(K, p, d)``) starts with entries :math:`\mathcal N(0, 1/p)`.

    References
    ----------
    Yu, Buchanan, Pai, Chu, Wu, Tong, Haeffele and Ma (2023), White-box transformers via
    sparse rate reduction, NeurIPS.

    Examples
    --------
    >>> m = MSSA(8, heads=2, head_dim=4, seed=0)
    >>> m(torch.randn(3, 5, 8)).shape
    torch.Size([3, 5, 8])
    """

    @validate_params({"dim": Int(1), "heads": Int(1), "head_dim": Int(1), "step": Positive()})
    def __init__(
        self,
        dim: int,
        heads: int,
        head_dim: int,
        step: float = 1.0,
        *,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.dim, self.step = int(dim), float(step)
        self.U = _param(generator(seed), dtype, heads, dim, head_dim, std=1 / math.sqrt(dim))

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        z = as_tensor(Z, "Z", ndim=(2, 3), shape=f"(N, {self.dim}) or (B, N, {self.dim})")
        a = torch.einsum("...np,kpd->...knd", z, self.U)
        attn = torch.softmax(a @ a.mT / math.sqrt(self.U.shape[-1]), dim=-1)
        return z + self.step * torch.einsum("...knd,kpd->...np", attn @ a, self.U)


class ISTA(nn.Module):
    r"""One step of non-negative ISTA toward a sparse code of the tokens in a dictionary
    :math:`D` (Yu et al. 2023, eq. 13), from the tokens themselves:

    .. math:: Z \mapsto \operatorname{ReLU}\big(Z + \eta (Z - Z D^\top) D - \eta\lambda\big)

    Parameters
    ----------
    dim : int
        Token dimension :math:`p` (:math:`D` is :math:`p\times p`).
    eta : float
        Step :math:`\eta > 0`.
    lam : float
        Sparsity weight :math:`\lambda \ge 0`.
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    Notes
    -----
    ``D`` starts with entries :math:`\mathcal N(0, 1/p)`.

    Examples
    --------
    >>> m = ISTA(4, eta=0.1, lam=0.0, seed=0)
    >>> with torch.no_grad():
    ...     _ = m.D.copy_(torch.eye(4))  # Z = Z D^T: the step only clips at zero
    >>> m(torch.tensor([[1.0, -1.0, 2.0, 0.0]])).tolist()
    [[1.0, 0.0, 2.0, 0.0]]
    """

    @validate_params({"dim": Int(1), "eta": Positive(), "lam": NonNegative()})
    def __init__(
        self,
        dim: int,
        eta: float = 0.1,
        lam: float = 0.1,
        *,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.dim, self.eta, self.lam = int(dim), float(eta), float(lam)
        self.D = _param(generator(seed), dtype, dim, dim, std=1 / math.sqrt(dim))

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        z = as_tensor(Z, "Z", ndim=(2, 3), shape=f"(N, {self.dim}) or (B, N, {self.dim})")
        grad = (z - z @ self.D.T) @ self.D
        return torch.relu(z + self.eta * grad - self.eta * self.lam)


class CrateTrace(NamedTuple):
    """What each layer of a CRATE sees and makes, lists of ``depth`` tensors ``(B, N, p)``:
    ``inputs`` (the normalized input of the MSSA block), ``compressed`` (its output
    :math:`Z^{\\ell+1/2}`), ``outputs`` (after the ISTA block, :math:`Z^{\\ell+1}`), and the
    ``subspaces`` ``U`` of each MSSA block.

    Examples
    --------
    >>> net = CRATE(4, 2, dim=6, heads=2, head_dim=3, depth=3, n_classes=2, seed=0)
    >>> tr = net.trace(torch.rand(5, 16))
    >>> len(tr.outputs), tuple(tr.outputs[0].shape)
    (3, (5, 4, 6))
    """

    inputs: list[torch.Tensor]
    compressed: list[torch.Tensor]
    outputs: list[torch.Tensor]
    subspaces: list[torch.Tensor]


class CRATE(nn.Module):
    r"""A small CRATE classifier of square images cut into square patches (Yu et al. 2023).

    Patches of ``patch`` x ``patch`` pixels are the tokens; a linear embedding and a learned
    position embedding give :math:`Z^0 \in \mathbb R^{N\times p}`; ``depth`` layers apply
    ``MSSA(LayerNorm(Z))`` then ``ISTA(LayerNorm(Z))``; the logits are a linear map of the
    normalized mean token.

    Parameters
    ----------
    side : int
        Images are ``side`` x ``side`` (inputs of shape ``(B, side * side)``).
    patch : int
        Patch side, dividing ``side``.
    dim : int
        Token dimension :math:`p`.
    heads, head_dim : int
        Subspaces per layer and their dimension.
    depth : int
        Number of layers.
    n_classes : int
    step, eta, lam : float
        MSSA step :math:`\kappa`, ISTA step :math:`\eta` and sparsity weight :math:`\lambda`.
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    References
    ----------
    Yu et al. (2023), NeurIPS.

    Examples
    --------
    >>> net = CRATE(8, 2, dim=16, heads=2, head_dim=4, depth=2, n_classes=10, seed=0)
    >>> net(torch.rand(3, 64)).shape
    torch.Size([3, 10])
    """

    @validate_params(
        {
            "side": Int(1),
            "patch": Int(1),
            "dim": Int(1),
            "heads": Int(1),
            "head_dim": Int(1),
            "depth": Int(1),
            "n_classes": Int(1),
            "step": Positive(),
            "eta": Positive(),
            "lam": NonNegative(),
        }
    )
    def __init__(
        self,
        side: int,
        patch: int,
        dim: int,
        heads: int,
        head_dim: int,
        depth: int,
        n_classes: int,
        *,
        step: float = 1.0,
        eta: float = 0.1,
        lam: float = 0.1,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if side % patch:
            raise ValueError(f"patch must divide side = {side}, got {patch}")
        self.side, self.patch = int(side), int(patch)
        n_tokens = (side // patch) ** 2
        g = generator(seed)
        dt = dtype or torch.get_default_dtype()
        self.embed = _param(g, dt, patch * patch, dim, std=1 / patch)
        self.position = _param(g, dt, n_tokens, dim, std=0.1)
        self.norms = nn.ModuleList(nn.LayerNorm(dim, dtype=dt) for _ in range(2 * depth))
        self.mssa = nn.ModuleList(
            MSSA(dim, heads, head_dim, step, seed=g, dtype=dt) for _ in range(depth)
        )
        self.ista = nn.ModuleList(ISTA(dim, eta, lam, seed=g, dtype=dt) for _ in range(depth))
        self.head_norm = nn.LayerNorm(dim, dtype=dt)
        self.head = _param(g, dt, dim, n_classes, std=1 / math.sqrt(dim))

    def tokens(self, X: torch.Tensor) -> torch.Tensor:
        """The embedded patches :math:`Z^0`, shape ``(B, N, p)``."""
        x = as_tensor(X, "X", ndim=2, shape=f"(B, {self.side**2})")
        if x.shape[1] != self.side**2:
            raise ValueError(f"X must have shape (B, {self.side**2}), got {tuple(x.shape)}")
        s, q = self.side, self.patch
        p = (
            x.reshape(-1, s // q, q, s // q, q)
            .permute(0, 1, 3, 2, 4)
            .reshape(-1, (s // q) ** 2, q * q)
        )
        return p @ self.embed + self.position

    def trace(self, X: torch.Tensor) -> CrateTrace:
        """Run the layers and keep what each one sees and makes."""
        z = self.tokens(X)
        out = CrateTrace([], [], [], [])
        for i, (mssa, ista) in enumerate(zip(self.mssa, self.ista, strict=True)):
            zin = self.norms[2 * i](z)
            half = mssa(zin)
            z = ista(self.norms[2 * i + 1](half))
            out.inputs.append(zin)
            out.compressed.append(half)
            out.outputs.append(z)
            out.subspaces.append(cast(MSSA, mssa).U)
        return out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        z = self.trace(X).outputs[-1]
        return self.head_norm(z.mean(1)) @ self.head
