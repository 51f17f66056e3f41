r"""A small causal (decoder-only) transformer with a choice of positional scheme, ``n_models`` at once.

Pre-layer-norm blocks :math:`h \leftarrow h + \mathrm{Attn}(\mathrm{LN}(h))`,
:math:`h \leftarrow h + \mathrm{MLP}(\mathrm{LN}(h))` (GELU, width :math:`4d`), causal
softmax attention with :math:`H` heads, an untied linear head. Attention of position
:math:`i` to :math:`j \le i` in head :math:`h` has the score

.. math:: s_{ij} = \frac{q_i^\top k_j}{\sqrt{d/H}} + b_h(i, j),

and the positional scheme decides where positions enter:

- ``"absolute"``: a learned vector per position added to the token embedding (GPT-2);
- ``"sinusoidal"``: the fixed sinusoids of Vaswani et al. (2017), base 10000, added likewise;
- ``"alibi"``: :math:`b_h(i, j) = -m_h (i - j)` with slopes :math:`m_h = 2^{-8h/H}`
  (Press et al. 2022);
- ``"relative"``: a learned bias per layer and head over clipped offsets,
  :math:`b_h(i, j) = \beta_h[\min(i - j, R)]` (T5-style buckets, Raffel et al. 2020; with
  :math:`R = 2`: the token itself, the previous one, everything further), zero at
  initialization;
- ``"none"`` (NoPE): no positional information besides the causal mask (Kazemnejad et al.
  2023).

The members may differ in scheme and window (``positional=("absolute", "alibi", ...)``): a
comparison of schemes then trains in one batched product, each member exactly the network
that its scheme alone would build (tested member by member).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..core.params import Choice, Int, PerMember, validate_params
from ..core.validate import as_tensor, check_choice, check_int, generator

__all__ = ["POSITIONAL", "CausalTransformer"]

#: The positional schemes of :class:`CausalTransformer`.
POSITIONAL = ("absolute", "sinusoidal", "alibi", "relative", "none")


def _sinusoids(n: int, d: int) -> torch.Tensor:
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float64) / d)
    out = torch.zeros(n, d, dtype=torch.float64)
    out[:, 0::2] = torch.sin(pos * freq)
    out[:, 1::2] = torch.cos(pos * freq)[:, : d // 2]
    return out


class CausalTransformer(nn.Module):
    r"""A pre-LN decoder-only transformer, ``n_models`` independent members trained side by side.

    Parameters
    ----------
    vocab : int
        Number of token ids (>= 2); the output has one logit per id.
    d_model : int
        Width :math:`d` (divisible by ``n_heads``).
    n_heads : int
        Heads :math:`H`.
    n_layers : int
        Blocks (>= 1).
    positional : {"absolute", "sinusoidal", "alibi", "relative", "none"} or a sequence of them
        The positional scheme (module docstring), or one scheme per member.
    window : int or a sequence of int
        :math:`R \ge 1` of ``"relative"``: offsets :math:`\ge R` share one bias; or one window
        per member.
    max_len : int
        Longest input of ``"absolute"`` (its table of learned positions); other schemes take
        any length.
    n_models : int
        Number of independent members (>= 1), the first dimension of the parameters and
        outputs; a sequence of schemes or windows sets it (a different ``n_models`` is an
        error).
    seed : int or torch.Generator
    dtype : torch.dtype, optional

    Notes
    -----
    Initialization (PyTorch's default scales): token embeddings :math:`\mathcal N(0, 1)`,
    absolute positions :math:`\mathcal N(0, 1/d)`, linear maps :math:`\mathcal N(0,
    1/(3\,\text{fan-in}))` (the variance of ``nn.Linear``'s uniform initialization);
    biases and relative biases zero; layer-norm gains one.

    References
    ----------
    Vaswani et al. (2017), Attention is all you need. Press, Smith and Lewis (2022), Train
    short, test long: attention with linear biases enables input length extrapolation.
    Kazemnejad, Padhi, Natesan Ramamurthy, Das and Reddy (2023), The impact of positional
    encoding on length generalization in transformers, NeurIPS.

    Examples
    --------
    >>> net = CausalTransformer(10, d_model=16, n_heads=2, n_layers=1, positional="relative",
    ...                         n_models=3, seed=0)
    >>> net(torch.zeros(4, 7, dtype=torch.long)).shape
    torch.Size([3, 4, 7, 10])
    >>> mixed = CausalTransformer(10, d_model=16, n_heads=2, n_layers=1,
    ...                           positional=("absolute", "alibi", "relative"), window=(2, 2, 8))
    >>> mixed.schemes, mixed.windows
    (('absolute', 'alibi', 'relative'), (2, 2, 8))
    """

    @validate_params(
        {
            "vocab": Int(2),
            "d_model": Int(1),
            "n_heads": Int(1),
            "n_layers": Int(1),
            "positional": PerMember(Choice(POSITIONAL)),
            "window": PerMember(Int(1)),
            "max_len": Int(1),
            "n_models": Int(1),
        }
    )
    def __init__(
        self,
        vocab: int,
        *,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        positional: str | Sequence[str] = "relative",
        window: int | Sequence[int] = 2,
        max_len: int = 64,
        n_models: int | None = None,
        seed: int | torch.Generator | None = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.vocab = check_int(vocab, "vocab", minimum=2)
        d = check_int(d_model, "d_model", minimum=1)
        H = check_int(n_heads, "n_heads", minimum=1)
        if d % H:
            raise ValueError(f"d_model must be divisible by n_heads = {H}, got {d}")
        L = check_int(n_layers, "n_layers", minimum=1)
        lists = {
            name: len(v) for name, v in (("positional", positional), ("window", window))
            if isinstance(v, (list, tuple))
        }  # fmt: skip
        if n_models is not None:
            lists["n_models"] = check_int(n_models, "n_models", minimum=1)
        if len(set(lists.values())) > 1:
            raise ValueError(
                "positional, window and n_models must agree on the number of members, got "
                + ", ".join(f"{k} {v}" for k, v in lists.items())
            )
        M = next(iter(lists.values()), 1)
        schemes = positional if isinstance(positional, (list, tuple)) else [positional] * M
        windows = window if isinstance(window, (list, tuple)) else [window] * M
        #: The scheme and the window of each member.
        self.schemes = tuple(
            check_choice(p, f"positional[{i}]", POSITIONAL) for i, p in enumerate(schemes)
        )
        self.windows = tuple(check_int(w, f"window[{i}]", minimum=1) for i, w in enumerate(windows))
        #: The scheme (a tuple when the members differ) and the largest window.
        self.positional = self.schemes[0] if len(set(self.schemes)) == 1 else self.schemes
        self.window = max(self.windows)
        self.max_len = check_int(max_len, "max_len", minimum=1)
        self.d_model, self.n_heads, self.n_layers = d, H, L
        dtype = dtype or torch.get_default_dtype()
        g = generator(seed)

        def normal(*shape: int, std: float) -> nn.Parameter:
            w = torch.randn(*shape, generator=g, dtype=torch.float64) * std
            return nn.Parameter(w.to(dtype))

        def const(*shape: int, value: float) -> nn.Parameter:
            return nn.Parameter(torch.full(shape, value, dtype=dtype))

        def lin(fan_in: int) -> float:
            return 1 / math.sqrt(3 * fan_in)  # the std of PyTorch's default nn.Linear

        self.embedding = normal(M, self.vocab, d, std=1.0)
        if "absolute" in self.schemes:
            self.position = normal(M, self.max_len, d, std=1 / math.sqrt(d))
        self.ln1_w, self.ln1_b = const(L, M, 1, 1, d, value=1.0), const(L, M, 1, 1, d, value=0.0)
        self.ln2_w, self.ln2_b = const(L, M, 1, 1, d, value=1.0), const(L, M, 1, 1, d, value=0.0)
        self.qkv = normal(L, M, d, 3 * d, std=lin(d))
        self.proj = normal(L, M, d, d, std=lin(d))
        self.w1 = normal(L, M, d, 4 * d, std=lin(d))
        self.b1 = const(L, M, 1, 1, 4 * d, value=0.0)
        self.w2 = normal(L, M, 4 * d, d, std=lin(4 * d))
        self.b2 = const(L, M, 1, 1, d, value=0.0)
        if "relative" in self.schemes:
            self.rel_bias = const(L, M, H, self.window + 1, value=0.0)
        self.lnf_w, self.lnf_b = const(M, 1, 1, d, value=1.0), const(M, 1, 1, d, value=0.0)
        self.head = normal(M, d, self.vocab, std=lin(d))
        slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / H) for h in range(H)], dtype=dtype)
        self.register_buffer("alibi_slopes", slopes, persistent=False)
        for scheme in POSITIONAL:  # 1 for the members of that scheme, else 0
            member = torch.tensor([s == scheme for s in self.schemes], dtype=dtype)
            self.register_buffer(f"_is_{scheme}", member, persistent=False)
        self.register_buffer("_windows", torch.tensor(self.windows), persistent=False)

    @property
    def n_models(self) -> int:
        """The number of members trained side by side."""
        return int(self.embedding.shape[0])

    def _ln(self, h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(h, h.shape[-1:]) * w + b

    def attention_bias(self, T: int, layer: int = 0) -> torch.Tensor:
        r"""The additive scores :math:`b_h(i, j)` of ``layer``, shape (n_models, H, T, T).

        The causal mask is included (:math:`-\infty` above the diagonal).

        Parameters
        ----------
        T : int
            Sequence length.
        layer : int
            Block index.

        Returns
        -------
        Tensor of shape (n_models, n_heads, T, T)

        Examples
        --------
        >>> net = CausalTransformer(5, d_model=4, n_heads=1, n_layers=1, positional="alibi")
        >>> net.attention_bias(3)[0, 0]
        tensor([[ 0.0000,    -inf,    -inf],
                [-0.0039,  0.0000,    -inf],
                [-0.0078, -0.0039,  0.0000]])
        """
        T = check_int(T, "T", minimum=1)
        layer = check_int(layer, "layer", minimum=0)
        if layer >= self.n_layers:
            raise ValueError(f"layer must be below n_layers = {self.n_layers}, got {layer}")
        dev, dt = self.embedding.device, self.embedding.dtype
        i = torch.arange(T, device=dev)
        offset = i.unsqueeze(1) - i.unsqueeze(0)  # i - j
        mask = torch.zeros(T, T, dtype=dt, device=dev).masked_fill(offset < 0, float("-inf"))
        M, H = self.n_models, self.n_heads
        bias = mask.expand(M, H, T, T)
        if "alibi" in self.schemes:
            slopes: torch.Tensor = self.alibi_slopes  # type: ignore[assignment]
            alibi = -slopes.view(1, H, 1, 1) * offset.clamp(min=0).to(dt)
            bias = bias + self._is_alibi.view(M, 1, 1, 1) * alibi  # type: ignore[operator]
        if "relative" in self.schemes:
            table = self.rel_bias[layer]  # (M, H, R + 1)
            if len(set(self.windows)) == 1:
                rel = table[:, :, offset.clamp(0, self.window)]
            else:  # member m's offsets clipped at its own window
                win: torch.Tensor = self._windows  # type: ignore[assignment]
                idx = torch.minimum(offset.clamp(min=0), win.view(M, 1, 1))  # (M, T, T)
                rel = table.gather(2, idx.reshape(M, 1, T * T).expand(M, H, T * T))
                rel = rel.view(M, H, T, T)
            bias = bias + self._is_relative.view(M, 1, 1, 1) * rel  # type: ignore[operator]
        return bias

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of every member at every position, shape (n_models, n, T, vocab).

        Parameters
        ----------
        tokens : Tensor of shape (n, T), int64
            Token ids in ``0..vocab - 1``.

        Examples
        --------
        >>> net = CausalTransformer(6, d_model=8, n_heads=2, n_layers=1, n_models=2)
        >>> net(torch.tensor([[0, 1, 2]])).shape
        torch.Size([2, 1, 3, 6])
        """
        if isinstance(tokens, torch.Tensor) and (tokens.is_floating_point() or tokens.is_complex()):
            raise TypeError(f"tokens must be an integer tensor, got {tokens.dtype}")
        x = as_tensor(tokens, "tokens", ndim=2, shape="(n, T)", dtype=torch.long)
        if int(x.min()) < 0 or int(x.max()) >= self.vocab:
            raise ValueError(f"tokens must lie in 0..{self.vocab - 1}")
        n, T = x.shape
        if "absolute" in self.schemes and T > self.max_len:
            raise ValueError(f"tokens may have at most max_len = {self.max_len} columns, got {T}")
        M, H, d = self.n_models, self.n_heads, self.d_model
        h = self.embedding[:, x]  # (M, n, T, d)
        if "absolute" in self.schemes:
            is_abs: torch.Tensor = self._is_absolute  # type: ignore[assignment]
            h = h + (is_abs.view(M, 1, 1) * self.position[:, :T]).unsqueeze(1)
        if "sinusoidal" in self.schemes:
            is_sin: torch.Tensor = self._is_sinusoidal  # type: ignore[assignment]
            h = h + is_sin.view(M, 1, 1, 1) * _sinusoids(T, d).to(h)
        for layer in range(self.n_layers):
            a = self._ln(h, self.ln1_w[layer], self.ln1_b[layer])
            q, k, v = torch.einsum("mntd,mde->mnte", a, self.qkv[layer]).split(d, dim=-1)
            q, k, v = (z.reshape(M, n, T, H, d // H).transpose(2, 3) for z in (q, k, v))
            bias = self.attention_bias(T, layer).unsqueeze(1)  # (M, 1, H, T, T)
            scores = q @ k.transpose(-1, -2) / math.sqrt(d // H) + bias
            att = torch.softmax(scores, dim=-1) @ v  # (M, n, H, T, d/H)
            att = att.transpose(2, 3).reshape(M, n, T, d)
            h = h + torch.einsum("mntd,mde->mnte", att, self.proj[layer])
            a = self._ln(h, self.ln2_w[layer], self.ln2_b[layer])
            a = F.gelu(torch.einsum("mntd,mde->mnte", a, self.w1[layer]) + self.b1[layer])
            h = h + torch.einsum("mntf,mfd->mntd", a, self.w2[layer]) + self.b2[layer]
        h = self._ln(h, self.lnf_w, self.lnf_b)
        return torch.einsum("mntd,mdv->mntv", h, self.head)
