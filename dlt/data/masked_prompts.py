r"""Prompts of in-context regression in the masked layout: a mixture of task families.

Tokens :math:`(x, y, \text{is-query}, \text{is-valid})` of width ``d + 3``, several queries
per prompt and a variable number of valid examples, as :class:`dlt.nets.SoftmaxTransformer`
reads them; :func:`dlt.icl.linear_prompts` converts them to the linear layout of
:mod:`dlt.data.prompts` (whose task families, conventions and checks this module shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from ..core.params import Fraction, Int, NonNegative, Tensor, validate_params
from ..core.validate import as_tensor, check_fraction, check_int, check_nonnegative, generator
from .prompts import FAMILIES, _labels, _sample_weights, check_tasks

__all__ = ["MixturePrompts", "sample_task_mixture", "linear_prompts"]


@dataclass(frozen=True)
class MixturePrompts:
    """The prompts of :func:`dlt.icl.sample_task_mixture` and what is known about them.

    Fields can also be read as ``s["tokens"]``.

    Examples
    --------
    >>> s = sample_task_mixture(2, 4, 3, {"sparse": 1.0}, seed=0)
    >>> s.family.tolist(), s["n"].tolist()
    ([1, 1], [4, 4])
    """

    tokens: torch.Tensor
    """``(B, N + Q, d + 3)`` tokens :math:`(x, y, \\text{is-query}, \\text{is-valid})`."""
    targets: torch.Tensor
    """``(B, Q)`` the answers at the queries (noise-free)."""
    targets_a: torch.Tensor
    """``(B, Q)`` the first task's answers (equal to ``targets``)."""
    targets_b: torch.Tensor
    """``(B, Q)`` the second task's answers (with ``second``; else equal to ``targets``)."""
    family: torch.Tensor
    """``(B,)`` index of each prompt's family in ``FAMILIES``."""
    n: torch.Tensor
    """``(B,)`` number of valid context examples."""

    def __getitem__(self, key: str) -> torch.Tensor:
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)


@validate_params(
    {
        "task_pool": Tensor(2, "(M, dim)"),
        "n_tasks": Int(1),
        "n_context": Int(1),
        "dim": Int(1),
        "n_queries": Int(1),
        "sparsity": Int(1),
        "noise": NonNegative(),
        "share": Fraction(),
    }
)
def sample_task_mixture(
    n_tasks: int,
    n_context: int,
    dim: int,
    weights: dict[str, float] | Sequence[float],
    *,
    n_queries: int = 1,
    sparsity: int = 2,
    noise: float = 0.0,
    n_min: int | None = None,
    second: str | None = None,
    share: float = 1.0,
    task_pool: torch.Tensor | None = None,
    seed: int | torch.Generator | None = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> MixturePrompts:
    r"""Prompts from a mixture of task families, with several queries each.

    Families (``FAMILIES``): ``"dense"`` :math:`y = w^\top x`, :math:`w \sim \mathcal{N}(0, I_d)`;
    ``"sparse"`` the same with ``sparsity`` nonzero coordinates scaled by :math:`\sqrt{d/k}`
    (so :math:`\mathbb{E}\|w\|^2 = d` in both); ``"sign"`` :math:`y = \operatorname{sign}(w^\top x)`.
    Inputs :math:`x \sim \mathcal{N}(0, I_d)`. Each prompt draws its family with probabilities
    ``weights``. With ``second`` set, a fraction ``1 - share`` of each prompt's context examples
    (the last ones, then shuffled) is relabelled by a second task of family ``second``
    (a prompt in *superposition*); ``targets_a``/``targets_b`` are the two tasks' answers on the queries.

    With ``task_pool`` of shape ``(M, d)``, every prompt's task is instead a row of the pool drawn
    uniformly, with linear labels: the few-task training distribution under which a model can answer
    from its weights (Raventós et al. 2023; see :func:`dlt.icl.discrete_prior_predictor`).

    Tokens have width ``d + 3``: :math:`(x, y, \text{is-query}, \text{is-valid})`. With ``n_min``,
    each prompt keeps a uniform number of examples in ``[n_min, n_context]``; the rest are marked invalid.

    Returns
    -------
    MixturePrompts
        ``tokens (B, N + Q, d + 3)``, ``targets (B, Q)``, ``targets_a``, ``targets_b``,
        ``family (B,)`` (index into ``FAMILIES``), ``n (B,)`` (valid examples).

    Examples
    --------
    >>> s = sample_task_mixture(4, 6, 3, {"dense": 1.0}, n_queries=2, seed=0)
    >>> s.tokens.shape, s.targets.shape
    (torch.Size([4, 8, 6]), torch.Size([4, 2]))
    """
    n_tasks = check_int(n_tasks, "n_tasks", minimum=1)
    n_context = check_int(n_context, "n_context", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    n_queries = check_int(n_queries, "n_queries", minimum=1)
    sparsity = check_int(sparsity, "sparsity", minimum=1)
    noise = check_nonnegative(noise, "noise")
    if sparsity > dim:
        raise ValueError(f"sparsity must be <= dim = {dim}, got {sparsity}")
    if isinstance(weights, dict):
        unknown = set(weights) - set(FAMILIES)
        if unknown:
            raise ValueError(f"weights keys must be among {FAMILIES}, got {sorted(unknown)}")
        probs = torch.tensor([float(weights.get(f, 0.0)) for f in FAMILIES], dtype=torch.float64)
    else:
        probs = torch.as_tensor(list(weights), dtype=torch.float64)
        if probs.shape != (len(FAMILIES),):
            raise ValueError(
                f"weights must have {len(FAMILIES)} entries {FAMILIES}, got {tuple(probs.shape)}"
            )
    if (probs < 0).any() or probs.sum() <= 0:
        raise ValueError(f"weights must be >= 0 and not all zero, got {probs.tolist()}")
    if second is not None and second not in FAMILIES:
        raise ValueError(f"second must be one of {FAMILIES}, got {second!r}")
    share = check_fraction(share, "share")
    g = generator(seed)
    fam = torch.multinomial(probs / probs.sum(), n_tasks, replacement=True, generator=g)
    x = torch.randn(n_tasks, n_context + n_queries, dim, generator=g, dtype=torch.float64)
    y = torch.zeros(n_tasks, n_context + n_queries, dtype=torch.float64)
    w_dense = _sample_weights("dense", n_tasks, dim, sparsity, g)
    w_sparse = _sample_weights("sparse", n_tasks, dim, sparsity, g)
    for k, name in enumerate(FAMILIES):
        w = w_sparse if name == "sparse" else w_dense
        y = torch.where((fam == k)[:, None], _labels(name, x, w), y)
    if task_pool is not None:
        check_tasks(task_pool, "task_pool", dim)
        pick = torch.randint(0, task_pool.shape[0], (n_tasks,), generator=g)
        fam = torch.full((n_tasks,), FAMILIES.index("dense"))
        y = _labels("dense", x, task_pool.detach().cpu().double()[pick])
    y_a = y.clone()
    y_b = y.clone()
    if second is not None:
        wb = _sample_weights(second, n_tasks, dim, sparsity, g)
        y_b = _labels(second, x, wb)
        n_b = round((1.0 - share) * n_context)
        if n_b > 0:
            order = torch.rand(n_tasks, n_context, generator=g).argsort(dim=1)
            from_b = torch.zeros(n_tasks, n_context, dtype=torch.bool)
            from_b.scatter_(1, order[:, :n_b], True)
            y[:, :n_context] = torch.where(from_b, y_b[:, :n_context], y[:, :n_context])
    y[:, :n_context] += noise * torch.randn(n_tasks, n_context, generator=g, dtype=torch.float64)
    if n_min is None:
        n = torch.full((n_tasks,), n_context)
    else:
        n_min = check_int(n_min, "n_min", minimum=1)
        n = torch.randint(n_min, n_context + 1, (n_tasks,), generator=g)
    valid = torch.arange(n_context)[None, :] < n[:, None]
    is_query = torch.zeros(n_tasks, n_context + n_queries, dtype=torch.float64)
    is_query[:, n_context:] = 1.0
    valid_all = torch.cat(
        [valid.double(), torch.ones(n_tasks, n_queries, dtype=torch.float64)], dim=1
    )
    y_in = y.clone()
    y_in[:, n_context:] = 0.0
    y_in = y_in * valid_all
    x_in = x * valid_all[..., None]
    tokens = torch.cat([x_in, y_in[..., None], is_query[..., None], valid_all[..., None]], dim=-1)

    def cast(t: torch.Tensor) -> torch.Tensor:
        return t.to(dtype=dtype, device=device)

    return MixturePrompts(
        tokens=cast(tokens),
        targets=cast(y[:, n_context:]),
        targets_a=cast(y_a[:, n_context:]),
        targets_b=cast(y_b[:, n_context:]),
        family=fam.to(device),
        n=n.to(device),
    )


@validate_params({"tokens": Tensor(3, "(B, N + Q, d + 3)"), "query": Int(0)})
def linear_prompts(tokens: torch.Tensor, query: int = 0) -> torch.Tensor:
    """The prompts of :func:`dlt.icl.sample_task_mixture` in the linear layout, for one of their queries.

    Tokens ``(B, N + Q, d + 3)`` of the masked layout become prompts ``(B, N + 1, d + 1)``
    with rows :math:`(x_i, y_i)` and :math:`(x_q, 0)` for query number ``query``, which every
    predictor of :mod:`dlt.icl` reads. Every context example must be valid (no ``n_min``).

    Raises
    ------
    ValueError
        If ``tokens`` is not a 3-d masked-layout tensor, ``query`` is out of range, or some
        context example is marked invalid.

    Examples
    --------
    >>> s = sample_task_mixture(3, 5, 2, {"dense": 1.0}, n_queries=2, seed=0)
    >>> P = linear_prompts(s["tokens"], query=1)
    >>> P.shape, bool((P[:, -1, :2] == s["tokens"][:, 6, :2]).all())
    (torch.Size([3, 6, 3]), True)
    """
    tokens = as_tensor(tokens, "tokens", ndim=3, shape="(B, N + Q, d + 3)")
    if tokens.shape[-1] < 4:
        raise ValueError(f"tokens must have width d + 3 >= 4, got {tokens.shape[-1]}")
    d = tokens.shape[-1] - 3
    is_query = tokens[0, :, d + 1] > 0.5
    n = int((~is_query).sum())
    q = int(is_query.sum())
    query = check_int(query, "query", minimum=0)
    if query >= q:
        raise ValueError(f"query must be < the number of queries ({q}), got {query}")
    if not bool((tokens[:, :n, d + 2] > 0.5).all()):
        raise ValueError("tokens must have every context example valid (drawn without n_min)")
    ctx = tokens[:, :n, : d + 1]
    xq = torch.nn.functional.pad(tokens[:, n + query, :d], (0, 1))[:, None]
    return torch.cat([ctx, xq], dim=1)
