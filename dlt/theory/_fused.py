r"""Private: the fast path of :func:`dlt.theory.kernels.nngp` and ``ntk`` (``method="fused"``).

The textbook recursion is ``method="reference"`` in :mod:`dlt.theory.kernels`; this module
computes the same numbers (tested equal in ``tests/test_kernels_fused.py``) with both
kernels, every layer, one tile of pairs at a time. The recursion is elementwise in the pair
:math:`(x, x')` once the diagonals :math:`K^\ell(x, x)` are known, and those are vectors, computed first. So each tile
of the kernel matrices is taken through all the layers while it sits in cache:

.. math::
    K^{\ell} = \sigma_w^2\, \mathbb{E}[\phi(u)\phi(v)] + \sigma_b^2,\qquad
    \Theta^{\ell} = K^{\ell} + \sigma_w^2\, \mathbb{E}[\phi'(u)\phi'(v)]\, \Theta^{\ell-1},

in place, in five work buffers of one tile each, and written to the outputs once. With
``x2`` absent only the square tiles on and above the diagonal are computed, and each is
written a second time, transposed, below it: half the arithmetic. A tile holds 32,768 pairs
per thread (256 kB per buffer in float64, so a thread's buffers stay in its L2 cache, and
PyTorch gives each thread one chunk of every operation). ReLU, erf and the identity have
in-place closed forms here; any other activation of the registry with Gaussian expectations
runs through its ``gaussian`` entry, tile by tile. The memory is the two outputs and the
buffers, so 10,000 inputs take 1.6 GB in float64. ``book/kernels_speed.md`` measures it
against neural-tangents and against the memory and arithmetic it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache, partial
from typing import NamedTuple

import torch

from ..core.activations import Expectations, get_activation
from ..core.validate import as_matrix, check_int, check_nonnegative, check_positive

__all__: list[str] = []  # private: the fast path of dlt.theory.kernels

_BLOCK = 2**15  # pairs of a tile per CPU thread: 256 kB per buffer in float64
_BLOCK_GPU = 2**24  # on a GPU, tiles as large as launches need (128 MB per buffer)
_TWO_PI = 2 * math.pi


def _prepare(x1: object, x2: object | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    # Finiteness is checked once, by the declarations of the public functions that call this
    # (dlt.theory.kernels: x1 and x2 are Matrix()), not a second time here.
    a = as_matrix(x1, "x1", dtype=torch.float64, finite=False)
    if x2 is None:
        return a, None
    b = as_matrix(x2, "x2", dtype=torch.float64, finite=False).to(a.device)
    if b.shape[1] != a.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of features, got x1 with {a.shape[1]} and x2 with {b.shape[1]}"
        )
    return a, b


# A rule computes one hidden layer on a tile of pairs. ``vectors(q)`` turns the diagonal ``q``
# of K^{l-1} into per-input vectors, once per layer for all tiles; ``step(k, v1, v2, sb2, e, d,
# w, unit_diag, sw2=...)`` overwrites the tile ``k`` of K^{l-1}, writes K^l = sigma_w^2
# E[phi(u) phi(v)] + sigma_b^2 to the buffer ``e`` and returns E[phi'(u) phi'(v)] in the
# buffer ``d`` (``w`` is a work buffer). ``unit_diag``: the tile's diagonal pairs are x = x'
# (their correlation is exactly 1). ``v1`` and ``v2`` are the vectors of the rows and columns.
Vectors = Callable[[torch.Tensor], tuple[torch.Tensor, ...]]
Step = Callable[..., torch.Tensor]


class _Rule(NamedTuple):
    vectors: Vectors
    step: Step


@lru_cache(maxsize=32)
def _scalar(v: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A 0-d tensor, so that ``torch.add(scalar, x, alpha=a, out=y)`` is one pass over ``x``."""
    return torch.tensor(v, dtype=dtype, device=device)


@lru_cache(maxsize=4)
def _upper(side: int, device: torch.device) -> torch.Tensor:
    """The mask of a square tile's upper triangle, diagonal included."""
    return torch.ones(side, side, dtype=torch.bool, device=device).triu_()


def _relu_vectors(q: torch.Tensor) -> tuple[torch.Tensor, ...]:
    # 1/sqrt(q), with 0 for a zero variance (a zero input without bias): its correlation
    # k12 / sqrt(q q') = 0 / 0 is taken as 0, and its kernel entries are 0 whatever it is.
    return q.rsqrt().nan_to_num_(posinf=0.0), q.sqrt()


def _relu_step(
    k: torch.Tensor,
    v1: tuple[torch.Tensor, ...],
    v2: tuple[torch.Tensor, ...],
    sb2: float,
    e: torch.Tensor,
    d: torch.Tensor,
    w: torch.Tensor,
    unit_diag: bool,
    *,
    sw2: float,
) -> torch.Tensor:
    r"""Arc-cosine kernels (Cho and Saul 2009), with :math:`\cos\theta = k_{12}/\sqrt{k_{11}k_{22}}`:
    :math:`\mathbb{E}[\phi\phi] = \frac{\sqrt{k_{11}k_{22}}}{2\pi}(\sin\theta + (\pi-\theta)\cos\theta)`,
    :math:`\mathbb{E}[\phi'\phi'] = \frac{\pi-\theta}{2\pi}`: ten passes over the tile."""
    (r1, u1), (r2, u2) = v1, v2  # columns (rows of the tile) and rows (its columns)
    s = partial(_scalar, dtype=k.dtype, device=k.device)
    c = k.mul_(torch.mul(r1, r2, out=e)).clamp_(-1.0, 1.0)
    if unit_diag:
        c.diagonal().fill_(1.0)
    torch.add(s(0.5), torch.arccos(c, out=d), alpha=-1 / _TWO_PI, out=d)
    # sin(theta) / (2 pi) = sqrt((1 - c^2) / (4 pi^2)); with |c| <= 1 the difference is >= 0
    # in floating point too (|c c| <= 1 after rounding), so it needs no clamp.
    quarter = 1 / _TWO_PI**2
    sin = torch.addcmul(s(quarter), c, c, value=-quarter, out=w).sqrt_().addcmul_(d, c)
    torch.addcmul(s(sb2), torch.mul(u1, u2, out=e), sin, value=sw2, out=e)
    return d


def _erf_vectors(q: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return ((1 + 2 * q).rsqrt().mul_(math.sqrt(2)),)  # so that outer(v, v') = 2 r1 r2


def _erf_step(
    k: torch.Tensor,
    v1: tuple[torch.Tensor, ...],
    v2: tuple[torch.Tensor, ...],
    sb2: float,
    e: torch.Tensor,
    d: torch.Tensor,
    w: torch.Tensor,
    unit_diag: bool,
    *,
    sw2: float,
) -> torch.Tensor:
    r"""Williams (1997), with :math:`c = 2k_{12} r_1 r_2` and :math:`r_i = (1 + 2k_{ii})^{-1/2}`:
    :math:`\mathbb{E}[\phi\phi] = \frac{2}{\pi}\arcsin c`,
    :math:`\mathbb{E}[\phi'\phi'] = \frac{4}{\pi} r_1 r_2 (1 - c^2)^{-1/2}`."""
    s = partial(_scalar, dtype=k.dtype, device=k.device)
    r = torch.mul(v1[0], v2[0], out=d)  # 2 r1 r2
    c = k.mul_(r).clamp_(-1.0, 1.0)
    inv = torch.addcmul(s(1.0), c, c, value=-1.0, out=w).clamp_(min=1e-300).rsqrt_()
    d.mul_(inv).mul_(2 / math.pi)
    torch.add(s(sb2), torch.arcsin(c, out=e), alpha=2 * sw2 / math.pi, out=e)
    return d


def _identity_step(
    k: torch.Tensor,
    v1: tuple[torch.Tensor, ...],
    v2: tuple[torch.Tensor, ...],
    sb2: float,
    e: torch.Tensor,
    d: torch.Tensor,
    w: torch.Tensor,
    unit_diag: bool,
    *,
    sw2: float,
) -> torch.Tensor:
    torch.add(_scalar(sb2, k.dtype, k.device), k, alpha=sw2, out=e)
    return d.fill_(1.0)


def _no_vectors(q: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return (q,)


def _rule(name: str, expect: Expectations, sw2: float) -> _Rule:
    """The closed form of ReLU, erf or the identity, else the registry's ``gaussian`` entry."""
    if name in _STEPS:
        vectors, step = _STEPS[name]
        return _Rule(vectors, partial(step, sw2=sw2))

    def registry_step(
        k: torch.Tensor,
        v1: tuple[torch.Tensor, ...],
        v2: tuple[torch.Tensor, ...],
        sb2: float,
        e: torch.Tensor,
        d: torch.Tensor,
        w: torch.Tensor,
        unit_diag: bool,
    ) -> torch.Tensor:
        res = expect(v1[0][:, 0], v2[0], k)
        torch.add(_scalar(sb2, k.dtype, k.device), res.e12, alpha=sw2, out=e)
        return d.copy_(res.d12)

    return _Rule(_no_vectors, registry_step)


_STEPS: dict[str, tuple[Vectors, Step]] = {
    "relu": (_relu_vectors, _relu_step),
    "erf": (_erf_vectors, _erf_step),
    "identity": (_no_vectors, _identity_step),
}


def _outputs(
    out: object, a: torch.Tensor, shape: tuple[int, int], inputs: tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The caller's two output tensors, checked: distinct, contiguous, float64, right shape."""
    want = f"a pair of contiguous float64 tensors of shape {shape} on {a.device}"
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise TypeError(f"out must be {want}, got {type(out).__name__}")
    for name, t in zip(("out[0]", "out[1]"), out, strict=True):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a tensor, got {type(t).__name__}")
        if t.shape != shape or t.dtype != torch.float64 or t.device != a.device:
            raise ValueError(
                f"out must be {want}, got {name} of shape {tuple(t.shape)}, {t.dtype} on {t.device}"
            )
        if not t.is_contiguous():
            raise ValueError(f"{name} must be contiguous")
    ranges = [(t.data_ptr(), t.data_ptr() + t.numel() * t.element_size()) for t in (*out, *inputs)]
    for i, (lo, hi) in enumerate(ranges[:2]):
        for j, (lo2, hi2) in enumerate(ranges):
            if j != i and lo < hi2 and lo2 < hi:
                raise ValueError(
                    "out[0] and out[1] must not share memory with each other or the inputs"
                )
    return out[0], out[1]


def _tiles(
    n1: int, n2: int, symmetric: bool, device: torch.device
) -> list[tuple[int, int, int, int]]:
    """``(i, i1, j, j1)`` of the tiles to compute, each of at most ``_BLOCK`` pairs per thread.

    Symmetric: squares on and above the diagonal (each mirrored across it once computed).
    Otherwise: blocks of whole rows, so every write is contiguous. Every pair goes through
    the same operations whatever its tile, so the tiling (which follows the thread count)
    changes a result by rounding only: a few units in the last place, where a pair falls in
    the scalar tail of a vectorised loop in one tiling and not in another.
    """
    # PyTorch splits an operation between threads in chunks of 32,768 elements: a tile of that
    # many elements per thread keeps every thread busy and a thread's share in its own cache.
    block = _BLOCK * torch.get_num_threads() if device.type == "cpu" else _BLOCK_GPU
    if symmetric:
        side = max(1, math.isqrt(block))
        starts = range(0, n1, side)
        ends = [min(i + side, n1) for i in starts]
        spans = list(zip(starts, ends, strict=True))
        return [(i, e, j, f) for i, e in spans for j, f in spans if j >= i]
    rows = max(1, block // n2)
    return [(i, min(i + rows, n1), 0, n2) for i in range(0, n1, rows)]


def _diagonals(
    x: torch.Tensor, depth: int, sw2: float, sb2: float, expect: Expectations
) -> list[torch.Tensor]:
    """:math:`K^\\ell(x, x)` for ``l = 0 .. depth``; ``E[phi(u)^2]`` depends on ``K(x, x)`` only."""
    q = sw2 * (x * x).sum(1) / x.shape[1] + sb2
    out = [q]
    for _ in range(depth):
        e11 = expect(q, q[:1], q.new_zeros(q.shape[0], 1)).e11
        q = sw2 * e11 + sb2
        out.append(q)
    return out


def fused_kernels(
    x1: object,
    x2: object | None,
    depth: int,
    sigma_w: float,
    sigma_b: float,
    activation: str,
    *,
    with_ntk: bool,
    out: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(K^L, Theta^L)`` as :func:`dlt.theory.kernels.nngp_ntk`, or the NNGP alone (the second
    tensor is then the same one) for a third less work. Validates its arguments itself."""
    a, b = _prepare(x1, x2)
    depth = check_int(depth, "depth", minimum=0)
    sw2 = check_positive(sigma_w, "sigma_w") ** 2
    sb2 = check_nonnegative(sigma_b, "sigma_b") ** 2
    act = get_activation(activation, kernel=True)
    assert act.gaussian is not None
    rule = _rule(act.name, act.gaussian, sw2)
    q1 = _diagonals(a, depth, sw2, sb2, act.gaussian)
    q2 = q1 if b is None else _diagonals(b, depth, sw2, sb2, act.gaussian)
    # per layer, the vectors of the rows (as columns, to broadcast) and of the columns
    v2 = [rule.vectors(q) for q in (q1 if b is None else q2)[:depth]]
    v1 = [tuple(v[:, None] for v in rule.vectors(q)) for q in q1[:depth]]
    bb = a if b is None else b
    n1, n2, d = a.shape[0], bb.shape[0], a.shape[1]
    if out is None:
        nngp = a.new_empty(n1, n2)
        ntk = a.new_empty(n1, n2) if with_ntk else nngp
    else:
        nngp, ntk = _outputs(out, a, (n1, n2), (a, bb))
    symmetric = b is None
    tiles = _tiles(n1, n2, symmetric, a.device)
    size = max(((i1 - i) * (j1 - j) for i, i1, j, j1 in tiles), default=1)
    bufs = [a.new_empty(size) for _ in range(5)]
    for i, i1, j, j1 in tiles:
        shape = (i1 - i, j1 - j)
        k, e, dd, w, t = (buf[: shape[0] * shape[1]].view(shape) for buf in bufs)
        on_diag = symmetric and i == j
        torch.matmul(a[i:i1], bb[j:j1].T, out=k).mul_(sw2 / d).add_(sb2)
        if on_diag:  # K(x, x) exactly as its diagonal recursion, so cos(x, x) = 1 exactly
            k.diagonal()[:] = q1[0][i:i1]
        if with_ntk:
            t.copy_(k)
        for ell in range(depth):
            rows = tuple(v[i:i1] for v in v1[ell])
            cols = tuple(v[j:j1] for v in v2[ell])
            dd = rule.step(k, rows, cols, sb2, e, dd, w, on_diag)
            if on_diag:
                e.diagonal()[:] = q1[ell + 1][i:i1]
            if with_ntk:  # Theta^l = K^l + sigma_w^2 E[phi' phi'] Theta^{l-1}
                torch.addcmul(e, dd, t, value=sw2, out=t)
            k, e = e, k
        for dest, tile in ((nngp, k), (ntk, t)) if with_ntk else ((nngp, k),):
            if on_diag:  # symmetric to the last bit: the upper triangle, mirrored, in one pass
                torch.where(_upper(shape[0], a.device), tile, tile.T, out=dest[i:i1, j:j1])
                continue
            dest[i:i1, j:j1] = tile
            if symmetric:  # and the mirror image below the diagonal
                dest[j:j1, i:i1] = tile.T

    if not with_ntk:
        ntk = nngp
    return nngp, ntk
