r"""Attention models of in-context regression: linear self-attention and a small softmax transformer.

Both read the prompt layouts of :mod:`dlt.data.prompts` and :mod:`dlt.data.masked_prompts`
(the query token, the valid-example mask) and are tied to them: this module holds the
in-context-learning models only. A general attention block (for instance a causal
transformer block for sequence tasks, which reads no prompt layout) belongs in its own
module beside this one.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.params import Int, NonNegative, validate_params
from ..core.validate import as_tensor, check_int, check_nonnegative, generator
from ..data.prompts import prompt_parts
from ..theory.icl import gd_construction

__all__ = ["LinearSelfAttention", "SoftmaxTransformer"]


class LinearSelfAttention(nn.Module):
    r"""Linear self-attention with a residual stream, batched over prompts.

    Layer :math:`\ell` updates every token :math:`h_j` by attention over the context tokens,
    with no softmax:

    .. math::
        h_j \leftarrow h_j + \frac{1}{N} \sum_{i=1}^{N} (h_j^\top Q_\ell\, h_i)\, V_\ell h_i ,

    with :math:`Q_\ell = W_K^\top W_Q` and :math:`V_\ell = W_P W_V` merged into one
    :math:`(d+1)\times(d+1)` matrix each (von Oswald et al. 2023; Zhang, Frei and Bartlett 2024;
    Ahn et al. 2023). The query token attends to the context but is not a key itself. The
    prediction is minus the label coordinate of the query token after the last layer.

    Parameters
    ----------
    dim : int
        Input dimension ``d``; tokens have width ``d + 1``.
    n_layers : int
        Number of layers ``L >= 1``.
    init_scale : float
        Standard deviation of the Gaussian initialization of every entry of ``Q`` and ``V``.
    parameterization : {"full", "preconditioned"}
        ``"full"``: every entry of ``Q`` and ``V`` is trained. ``"preconditioned"``: the
        parameterization of Ahn et al. (2023), :math:`Q_\ell = \begin{pmatrix} A_\ell & 0 \\ 0 & 0
        \end{pmatrix}` with :math:`A_\ell` trained and :math:`V_\ell` fixed to the value matrix of
        :func:`dlt.icl.gd_construction`, so that layer :math:`\ell` is exactly one GD step preconditioned by
        :math:`A_\ell` (initialized at ``init_scale`` times the identity).
    seed : int or torch.Generator

    Examples
    --------
    >>> from dlt.data import sample_regression_tasks
    >>> P, _ = sample_regression_tasks(3, 8, 2, seed=0)
    >>> LinearSelfAttention(2, 2, seed=0)(P).shape
    torch.Size([3])
    """

    @validate_params({"dim": Int(1), "n_layers": Int(1), "init_scale": NonNegative()})
    def __init__(
        self,
        dim: int,
        n_layers: int = 1,
        *,
        init_scale: float = 0.1,
        parameterization: str = "full",
        seed: int | torch.Generator | None = 0,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.n_layers = check_int(n_layers, "n_layers", minimum=1)
        init_scale = check_nonnegative(init_scale, "init_scale")
        if parameterization not in ("full", "preconditioned"):
            raise ValueError(
                f"parameterization must be 'full' or 'preconditioned', got {parameterization!r}"
            )
        self.parameterization = parameterization
        g = generator(seed)
        shape = (self.n_layers, dim + 1, dim + 1)
        if parameterization == "full":
            self.Q = nn.Parameter(init_scale * torch.randn(shape, generator=g))
            self.V = nn.Parameter(init_scale * torch.randn(shape, generator=g))
        else:
            self.A = nn.Parameter(init_scale * torch.eye(dim).repeat(self.n_layers, 1, 1))

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``(L, d + 1, d + 1)`` key-query and value matrices ``Q`` and ``V``."""
        if self.parameterization == "full":
            return self.Q, self.V
        d = self.dim
        q = torch.nn.functional.pad(self.A, (0, 1, 0, 1))
        v = torch.zeros(self.n_layers, d + 1, d + 1, dtype=self.A.dtype, device=self.A.device)
        v[:, d, d] = -1.0
        return q, v

    def tokens(self, prompts: torch.Tensor) -> list[torch.Tensor]:
        """The token matrices after each layer: a list of ``L + 1`` tensors ``(B, N + 1, d + 1)``."""
        prompt_parts(prompts, self.dim)
        n = prompts.shape[1] - 1
        h = prompts
        out = [h]
        for q, v in zip(*self.weights(), strict=True):
            ctx = h[:, :-1]
            # sum_i (h_j^T Q h_i) V h_i = h_j^T Q (sum_i h_i h_i^T) V^T: with no softmax the
            # attention is associative, so the (N + 1) x N scores are never formed (O(N d^2))
            h = h + h @ (q @ (ctx.transpose(1, 2) @ ctx) @ v.T / n)
            out.append(h)
        return out

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        """Predictions ``(B,)``: minus the label coordinate of the query token."""
        return -self.tokens(prompts)[-1][:, -1, -1]

    @torch.no_grad()
    def set_gd(self, lr: float | torch.Tensor) -> LinearSelfAttention:
        """Load :func:`dlt.icl.gd_construction` into every layer (``L`` layers = ``L`` GD steps)."""
        q, v = gd_construction(self.dim, lr)
        if self.parameterization == "full":
            self.Q.copy_(q.expand_as(self.Q))
            self.V.copy_(v.expand_as(self.V))
        else:
            self.A.copy_(q[: self.dim, : self.dim].expand_as(self.A))
        return self

    @torch.no_grad()
    def effective_preconditioner(self, layer: int = 0) -> torch.Tensor:
        r"""The matrix :math:`\Gamma` of layer ``layer`` acting as a preconditioned GD step.

        With :math:`Q = \begin{pmatrix} Q_{xx} & q_{xy} \\ \cdot & \cdot \end{pmatrix}` and the
        last row of :math:`V` equal to :math:`(v_x^\top, v_y)`, the label coordinate of the query
        token moves by :math:`-x_q^\top \Gamma \frac1N\sum_i y_i x_i` plus terms even in the labels,
        where :math:`\Gamma = -(v_y Q_{xx} + q_{xy} v_x^\top)`. For one layer it is the matrix
        the theory of Zhang, Frei and Bartlett predicts.
        """
        d = self.dim
        qs, vs = self.weights()
        q, v = qs[layer], vs[layer]
        return -(v[d, d] * q[:d, :d] + torch.outer(q[:d, d], v[d, :d]))


class SoftmaxTransformer(nn.Module):
    r"""A small pre-norm softmax transformer that reads prompts from :func:`dlt.icl.sample_task_mixture`.

    Tokens :math:`(x, y, \text{is-query}, \text{is-valid})` are embedded linearly; each block is
    multi-head softmax attention followed by a two-layer GELU MLP, both with residuals. Every token
    attends to the valid context examples (queries never see each other, so each query is answered
    from the context alone, as in Garg et al. 2022); no position encoding, so the model is
    permutation invariant in the examples. The prediction is a linear read-out of each query token.

    Parameters
    ----------
    dim : int
        Input dimension ``d`` (token width ``d + 3``).
    width : int
        Model width (divisible by ``heads``).
    depth : int
        Number of blocks.
    heads : int
    seed : int or torch.Generator

    Examples
    --------
    >>> from dlt.data import sample_task_mixture
    >>> s = sample_task_mixture(2, 5, 3, {"dense": 1.0}, n_queries=2, seed=0)
    >>> SoftmaxTransformer(3, width=16, depth=1, heads=2)(s["tokens"]).shape
    torch.Size([2, 2])
    """

    @validate_params({"dim": Int(1), "width": Int(1), "depth": Int(1), "heads": Int(1)})
    def __init__(
        self,
        dim: int,
        width: int = 64,
        depth: int = 2,
        heads: int = 4,
        seed: int | torch.Generator | None = 0,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=1)
        self.heads = check_int(heads, "heads", minimum=1)
        if width % heads:
            raise ValueError(f"width must be divisible by heads = {heads}, got {width}")
        g = generator(seed)
        state = torch.random.get_rng_state()
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
        try:
            self.embed = nn.Linear(dim + 3, width)
            self.attn = nn.ModuleList(
                nn.MultiheadAttention(width, heads, batch_first=True) for _ in range(depth)
            )
            self.norm1 = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
            self.norm2 = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
            self.mlp = nn.ModuleList(
                nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
                for _ in range(depth)
            )
            self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))
        finally:
            torch.random.set_rng_state(state)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Predictions ``(B, Q)`` at the query tokens."""
        tokens = as_tensor(tokens, "tokens", ndim=3, shape=f"(B, T, dim + 3 = {self.dim + 3})")
        if tokens.shape[-1] != self.dim + 3:
            raise ValueError(
                f"tokens must have shape (B, T, dim + 3 = {self.dim + 3}), got {tuple(tokens.shape)}"
            )
        is_query = tokens[..., -2] > 0.5
        key_ok = (tokens[..., -1] > 0.5) & ~is_query  # keys: valid context examples only
        # a query attends to itself as well, so that no row of the attention is empty
        t = tokens.shape[1]
        eye = torch.eye(t, dtype=torch.bool, device=tokens.device)
        allowed = key_ok[:, None, :] | eye[None]
        mask = torch.zeros(allowed.shape, dtype=tokens.dtype, device=tokens.device)
        mask = mask.masked_fill(~allowed, float("-inf"))
        mask = mask.repeat_interleave(self.heads, dim=0)
        h = self.embed(tokens)
        for attn, n1, n2, mlp in zip(self.attn, self.norm1, self.norm2, self.mlp, strict=True):
            a = n1(h)
            h = h + attn(a, a, a, attn_mask=mask, need_weights=False)[0]
            h = h + mlp(n2(h))
        pred = self.out(h)[..., 0]
        return pred[:, -int(is_query[0].sum()) :] if is_query.any() else pred[:, :0]
