r"""The grokking network: learned token embeddings, concatenated, one hidden layer.

:class:`dlt.grokking.ModularMLP` trains ``n_models`` independent copies (one per seed; each a member) at once with
batched matrix products, so the seeds of a grokking experiment cost one run.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.activations import get_activation
from ..core.params import Int, Positive, validate_params
from ..core.validate import check_int, check_positive, generator

__all__ = ["ModularMLP"]


class ModularMLP(nn.Module):
    r"""Embedding, concatenation, one hidden layer and logits, for ``n_models`` seeds at once.

    Member :math:`m` maps a token pair :math:`(a, b)` to

    .. math::
        f_m(a, b) = \alpha \big( W_2\, \phi(W_1 [E_a; E_b] + b_1) + b_2 \big) \in \mathbb R^p,

    with a shared embedding :math:`E \in \mathbb R^{p \times d}` (row :math:`E_a` for token
    :math:`a`), :math:`W_1 \in \mathbb R^{h \times 2d}`, :math:`W_2 \in \mathbb R^{p \times h}`,
    the activation :math:`\phi` and the output scale :math:`\alpha`. At initialization
    :math:`E_{ai} \sim \mathcal N(0, \sigma^2)`, :math:`W_1 \sim \mathcal N(0, \sigma^2/2d)`,
    :math:`W_2 \sim \mathcal N(0, \sigma^2/h)` and the biases are zero, where :math:`\sigma`
    is ``init_scale``: :math:`\alpha` and :math:`\sigma` are the two knobs that move
    training between the lazy and the rich regime (Kumar et al. 2024).

    Parameters
    ----------
    p : int
        Number of tokens and of classes (the modulus), at least 2.
    embed_dim : int
        Embedding dimension :math:`d \ge 1`.
    hidden : int
        Hidden width :math:`h \ge 1`.
    n_models : int
        Number of independent networks trained side by side (>= 1).
    activation : str
        A name of :mod:`dlt.core.activations` (``"relu"``, ``"tanh"``, ``"erf"``, ``"identity"``).
    output_scale : float
        :math:`\alpha > 0`.
    init_scale : float
        :math:`\sigma > 0`.
    seed : int or torch.Generator
        Seed of the initialization; member ``m`` of a model of ``M`` members (``n_models = M``) does not equal
        a one-member model of another seed (they share one generator).
    dtype : torch.dtype, optional

    Attributes
    ----------
    embedding : Parameter of shape (n_models, p, d)

    References
    ----------
    Nanda, Chan, Lieberum, Smith and Steinhardt (2023), Progress measures for grokking via
    mechanistic interpretability, ICLR. Kumar, Bordelon, Gershman and Pehlevan (2024),
    Grokking as the transition from lazy to rich training dynamics, ICLR.

    Examples
    --------
    >>> net = ModularMLP(7, embed_dim=4, hidden=8, n_models=3, seed=0)
    >>> net(torch.tensor([[1, 2], [3, 4]])).shape
    torch.Size([3, 2, 7])
    """

    @validate_params(
        {
            "p": Int(2),
            "embed_dim": Int(1),
            "hidden": Int(1),
            "n_models": Int(1),
            "output_scale": Positive(),
            "init_scale": Positive(),
        }
    )
    def __init__(
        self,
        p: int,
        *,
        embed_dim: int = 32,
        hidden: int = 256,
        n_models: int = 1,
        activation: str = "relu",
        output_scale: float = 1.0,
        init_scale: float = 1.0,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.p = check_int(p, "p", minimum=2)
        d = check_int(embed_dim, "embed_dim", minimum=1)
        h = check_int(hidden, "hidden", minimum=1)
        m = check_int(n_models, "n_models", minimum=1)
        self.output_scale = check_positive(output_scale, "output_scale")
        s = check_positive(init_scale, "init_scale")
        self.activation = get_activation(activation)
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)

        def normal(*shape: int, std: float) -> nn.Parameter:
            w = torch.randn(*shape, generator=g, dtype=torch.float64) * std
            return nn.Parameter(w.to(dtype))

        self.embedding = normal(m, self.p, d, std=s)
        self.w1 = normal(m, 2 * d, h, std=s / (2 * d) ** 0.5)
        self.b1 = nn.Parameter(torch.zeros(m, 1, h, dtype=dtype))
        self.w2 = normal(m, h, self.p, std=s / h**0.5)
        self.b2 = nn.Parameter(torch.zeros(m, 1, self.p, dtype=dtype))

    @property
    def n_models(self) -> int:
        """The number of networks trained side by side."""
        return int(self.embedding.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (n_models, n, p) for token pairs ``x`` of shape (n, 2)."""
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x must have shape (n, 2), got shape {tuple(x.shape)}")
        m, _, d = self.embedding.shape
        z = self.embedding[:, x.reshape(-1)].reshape(m, x.shape[0], 2 * d)
        hid = self.activation.fn(torch.baddbmm(self.b1, z, self.w1))
        return self.output_scale * torch.baddbmm(self.b2, hid, self.w2)
